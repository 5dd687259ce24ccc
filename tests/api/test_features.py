"""OGC API – Features at /ogc over the hand-drawn places (tests/drawn.py), answers worked out by eye.

The west grid is given three boundary versions: a past one (the western half of today's square), the
current one (the square) and a future one (the square grown north by 0.005°). The drawn map:

    29.565          +---------+                 future west (from FUTURE)
    29.560 +----+----+---------+
           |past|    |  east   |                past west: 106.500–106.505 (2023-01-01 .. 2024-01-01)
    29.550 +----+----+---------+                current west: 106.500–106.510 (2024-01-01 .. FUTURE)
        106.500 .505 .510     106.520
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy import text

from api.pages.assets import external_urls
from api.routers import features
from gis.features import CONFORMANCE, MAX_LIMIT
from gis.store.database import Database
from gis.store.vocabulary import current_day
from tests import drawn

WEST, EAST = drawn.WEST_CODE, drawn.EAST_CODE
FUTURE = current_day() + timedelta(days=30)
PAST_ID, CURRENT_ID, FUTURE_ID = f"{WEST}@2023-01-01", f"{WEST}@2024-01-01", f"{WEST}@{FUTURE.isoformat()}"
GEOJSON, JSON = "application/geo+json", "application/json"


@pytest.fixture
def versions(client: TestClient, db: Database) -> None:
    """The west grid's past and future versions beside its current one."""
    with db.session() as session:
        session.execute(text("UPDATE grid SET valid_to = :future WHERE code = :west"),
                        {"future": FUTURE, "west": WEST})
        for valid_from, valid_to, (minx, miny, maxx, maxy) in (
            ("2023-01-01", "2024-01-01", (106.500, 29.550, 106.505, 29.560)),
            (FUTURE.isoformat(), None, (106.500, 29.550, 106.510, 29.565)),
        ):
            polygon = box(minx, miny, maxx, maxy).wkt
            session.execute(text(
                "INSERT INTO grid (code, name, community_id, district_code, street_code, valid_from, valid_to, geom) "
                "SELECT code, name, community_id, district_code, street_code, CAST(:f AS date), CAST(:t AS date), "
                "ST_Multi(ST_GeomFromText(:polygon, 4326)) FROM grid WHERE code = :west AND valid_from = '2024-01-01'"
            ), {"f": valid_from, "t": valid_to, "polygon": polygon, "west": WEST})


def _ids(body: dict[str, Any]) -> list[str]:
    return [f["id"] for f in body["features"]]


def _rels(body: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in body["links"] if link["type"] != "text/html"}


# -- landing, conformance, API definition -------------------------------------------------------------


def test_the_landing_page_links_the_definition_the_conformance_and_the_data(client: TestClient) -> None:
    response = client.get("/ogc")
    assert response.status_code == 200 and response.headers["content-type"] == JSON
    links = {(link["rel"], link["type"]): link["href"] for link in response.json()["links"]}
    assert links[("service-desc", "application/vnd.oai.openapi+json;version=3.0")] == "http://testserver/ogc/api"
    assert links[("conformance", JSON)] == "http://testserver/ogc/conformance"
    assert links[("data", JSON)] == "http://testserver/ogc/collections"
    assert links[("self", JSON)] == "http://testserver/ogc?f=json"
    assert links[("alternate", "text/html")] == "http://testserver/ogc?f=html"


def test_conformance_declares_exactly_core_geojson_html_and_oas30(client: TestClient) -> None:
    body = client.get("/ogc/conformance").json()
    assert sorted(body["conformsTo"]) == sorted(CONFORMANCE) == [
        f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}"
        for name in ("core", "geojson", "html", "oas30")]


def test_the_api_definition_is_openapi_30_and_describes_every_collection(client: TestClient) -> None:
    response = client.get("/ogc/api")
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    spec = response.json()
    assert spec["openapi"].startswith("3.0.")
    assert spec["servers"] == [{"url": "http://testserver/ogc"}]
    for collection in ("communities", "grids", "buildings"):
        assert {f"/collections/{collection}", f"/collections/{collection}/items",
                f"/collections/{collection}/items/{{featureId}}"} <= set(spec["paths"])
    limit = spec["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (100, MAX_LIMIT)
    grid_filters = {p.get("name") for p in spec["paths"]["/collections/grids/items"]["get"]["parameters"]}
    assert {"code", "community_code", "street_code"} <= grid_filters
    assert "security" in spec["paths"]["/collections/buildings/items"]["get"]
    assert "security" not in spec["paths"]["/collections/grids/items"]["get"]


# -- collections --------------------------------------------------------------------------------------


def test_collections_and_their_extents(client: TestClient, versions: None) -> None:
    body = client.get("/ogc/collections").json()
    assert [c["id"] for c in body["collections"]] == ["communities", "grids"]  # buildings: signed-in only
    grids = client.get("/ogc/collections/grids").json()
    assert grids["itemType"] == "feature"
    assert grids["extent"]["spatial"]["bbox"] == [[106.5, 29.55, 106.52, 29.565]]  # every version's
    assert grids["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert grids["extent"]["temporal"]["interval"] == [["2023-01-01T00:00:00+08:00", None]]  # one still open
    links = {(link["rel"], link["type"]) for link in grids["links"]}
    assert {("self", JSON), ("items", GEOJSON), ("items", "text/html"), ("alternate", "text/html")} <= links
    communities = client.get("/ogc/collections/communities").json()
    assert communities["extent"]["spatial"]["bbox"] == [[106.5, 29.55, 106.52, 29.56]]
    assert "temporal" not in communities["extent"]


def test_an_unknown_collection_or_feature_is_404(client: TestClient) -> None:
    for path in ("/ogc/collections/people", "/ogc/collections/people/items",
                 "/ogc/collections/grids/items/999999999999999", f"/ogc/collections/grids/items/{WEST}@1999-01-01",
                 "/ogc/collections/communities/items/nowhere"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "NotFound"
    assert "communities, grids, buildings" in client.get("/ogc/collections/people").json()["description"]


# -- items: versions, bbox, filters, paging ------------------------------------------------------------


def test_without_datetime_the_current_versions(client: TestClient, versions: None) -> None:
    response = client.get("/ogc/collections/grids/items")
    assert response.status_code == 200 and response.headers["content-type"] == GEOJSON
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert _ids(body) == [CURRENT_ID, f"{EAST}@2024-01-01"]
    assert (body["numberMatched"], body["numberReturned"]) == (2, 2)
    west = body["features"][0]
    assert west["properties"] == {"code": WEST, "name": "西网格", "community_code": "500103001001",
                                  "community_name": "测试社区", "street_code": "500103001", "street_name": "解放碑街道",
                                  "valid_from": "2024-01-01", "valid_to": FUTURE.isoformat()}
    assert west["geometry"]["type"] == "MultiPolygon"


@pytest.mark.parametrize(("moment", "expected"), [
    ("2023-06-01", [PAST_ID]),  # the east grid begins on 2024-01-01
    ("2023-06-01T", [PAST_ID]),  # how GDAL 3.6 sends a date
    ("2023-12-31T16:00:00Z", [CURRENT_ID, f"{EAST}@2024-01-01"]),  # midnight in Shanghai: the new day
    ("2023-12-31T15:59:59Z", [PAST_ID]),  # still 2023-12-31 in Shanghai
    ("2024-01-01", [CURRENT_ID, f"{EAST}@2024-01-01"]),
    ("FUTURE", [FUTURE_ID, f"{EAST}@2024-01-01"]),
    ("2023-06-01/2024-06-01", [PAST_ID, CURRENT_ID, f"{EAST}@2024-01-01"]),
    ("../2023-12-31", [PAST_ID]),
    ("FUTURE/..", [FUTURE_ID, f"{EAST}@2024-01-01"]),
    ("2022-01-01/2022-12-31", []),
])
def test_datetime_chooses_the_versions_valid_then(client: TestClient, versions: None, moment: str,
                                                   expected: list[str]) -> None:
    body = client.get("/ogc/collections/grids/items",
                      params={"datetime": moment.replace("FUTURE", FUTURE.isoformat())}).json()
    assert sorted(_ids(body)) == sorted(expected)
    assert body["numberMatched"] == len(expected)


def test_bbox_keeps_the_features_it_touches(client: TestClient, versions: None) -> None:
    def ids(collection: str, bbox: str, **more: str) -> list[str]:
        return _ids(client.get(f"/ogc/collections/{collection}/items", params={"bbox": bbox, **more}).json())

    assert ids("grids", "106.512,29.552,106.518,29.558") == [f"{EAST}@2024-01-01"]
    assert ids("grids", "106.505,29.552,106.515,29.558") == [CURRENT_ID, f"{EAST}@2024-01-01"]
    assert ids("grids", "106.501,29.561,106.502,29.564") == []  # north of today's grids
    assert ids("grids", "106.501,29.561,106.502,29.564", datetime=FUTURE.isoformat()) == [FUTURE_ID]
    assert ids("grids", "106.506,29.551,106.507,29.552", datetime="2023-06-01") == []  # east of the past half
    assert ids("grids", "106.501,29.551,0,106.502,29.552,100", datetime="2023-06-01") == [PAST_ID]  # 3D: z ignored
    assert ids("communities", "106.0,29.0,106.4,29.4") == []


def test_property_filters(client: TestClient, versions: None, users: dict) -> None:
    def ids(collection: str, **params: str) -> list[str]:
        response = client.get(f"/ogc/collections/{collection}/items", params=params, headers=users["planner"])
        assert response.status_code == 200, response.text
        return _ids(response.json())

    assert ids("grids", code=EAST) == [f"{EAST}@2024-01-01"]
    assert ids("grids", code=WEST, datetime=f"../{FUTURE.isoformat()}") == [PAST_ID, CURRENT_ID, FUTURE_ID]
    assert ids("grids", community_code="500103001001") == [CURRENT_ID, f"{EAST}@2024-01-01"]
    assert ids("grids", street_code="500103002") == []
    assert ids("communities", code="500103001001") == ["500103001001"]
    assert ids("buildings", grid_code=WEST) == ["B-CORNER", "B-EDGE", "B-WEST"]
    assert ids("buildings", code="B-OUT") == ["B-OUT"]


def test_paging_with_next_and_prev_links(client: TestClient, users: dict) -> None:
    headers = users["planner"]
    first = client.get("/ogc/collections/buildings/items", params={"limit": 2}, headers=headers).json()
    assert _ids(first) == ["B-CORNER", "B-EAST"]
    assert (first["numberMatched"], first["numberReturned"]) == (5, 2)
    assert "prev" not in _rels(first)
    seen = _ids(first)
    page = first
    while "next" in _rels(page):
        page = client.get(_rels(page)["next"], headers=headers).json()
        seen += _ids(page)
    assert seen == ["B-CORNER", "B-EAST", "B-EDGE", "B-OUT", "B-WEST"]
    assert page["numberReturned"] == 1 and "prev" in _rels(page)
    back = client.get(_rels(page)["prev"], headers=headers).json()
    assert _ids(back) == ["B-EDGE", "B-OUT"]
    huge = client.get("/ogc/collections/buildings/items", params={"limit": MAX_LIMIT * 10}, headers=headers).json()
    assert huge["numberReturned"] == 5  # above the maximum is the maximum, not an error (the standard)


def test_item_by_id(client: TestClient, versions: None) -> None:
    response = client.get(f"/ogc/collections/grids/items/{PAST_ID}")
    assert response.status_code == 200 and response.headers["content-type"] == GEOJSON
    past = response.json()
    assert past["id"] == PAST_ID and past["properties"]["valid_to"] == "2024-01-01"
    assert {link["rel"] for link in past["links"]} >= {"self", "alternate", "collection"}
    assert client.get(f"/ogc/collections/grids/items/{WEST}").json()["id"] == CURRENT_ID  # bare code: today's
    assert client.get(f"/ogc/collections/grids/items/{FUTURE_ID}").json()["properties"]["valid_to"] is None
    assert client.get("/ogc/collections/communities/items/500103001001").json()["properties"]["name"] == "测试社区"


@pytest.mark.parametrize(("params", "named"), [
    ({"bbox": "1,2,3"}, "bbox"), ({"bbox": "a,b,c,d"}, "bbox"), ({"bbox": "106.52,29.5,106.5,29.6"}, "bbox"),
    ({"bbox": "0,95,1,96"}, "bbox"), ({"datetime": "yesterday"}, "datetime"),
    ({"datetime": "2024-01-01T10:00:00"}, "datetime"), ({"datetime": "2024-02-01/2024-01-01"}, "datetime"),
    ({"datetime": "../.."}, "datetime"), ({"limit": "0"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": "-1"}, "offset"), ({"f": "xml"}, "f"), ({"colour": "red"}, "colour"),
    ({"address": "测试路1号"}, "address"),  # not a filter of grids
])
def test_bad_parameters_are_400_naming_the_parameter(client: TestClient, params: dict, named: str) -> None:
    response = client.get("/ogc/collections/grids/items", params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{named}:"), body


def test_unknown_parameters_elsewhere_are_400(client: TestClient) -> None:
    for path in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/grids",
                 f"/ogc/collections/grids/items/{WEST}"):
        assert client.get(path, params={"bbox": "1,2,3,4"}).status_code == 400, path


# -- access ------------------------------------------------------------------------------------------


def test_buildings_need_a_signed_in_caller_and_nothing_names_a_person(client: TestClient, users: dict,
                                                                      versions: None) -> None:
    for path in ("/ogc/collections/buildings", "/ogc/collections/buildings/items",
                 "/ogc/collections/buildings/items/B-WEST"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "Unauthenticated"
        assert client.get(path, headers=users["worker-east"]).status_code == 200
        assert client.get(path, headers={"X-API-Key": "key-planner"}).status_code == 200
        assert client.get(path, headers={"Authorization": "Bearer not-a-key"}).status_code == 401
    listed = client.get("/ogc/collections", headers=users["hotline-app"]).json()
    assert [c["id"] for c in listed["collections"]] == ["communities", "grids", "buildings"]
    building = client.get("/ogc/collections/buildings/items/B-WEST", headers=users["planner"]).json()
    assert building["properties"] == {"code": "B-WEST", "address": "测试路1号", "households": 10, "residents": 25,
                                      "floors": 6, "grid_code": WEST, "street_code": "500103001"}
    # No person anywhere: the drawn teams' members, secretaries and phones are in no answer.
    people = ("钱队长", "孙网格员", "周离职", "赵书记", "吴书记", "王书记", "李组长", "1380000000")
    for path in ("/ogc/collections/grids/items", "/ogc/collections/communities/items",
                 "/ogc/collections/buildings/items", f"/ogc/collections/grids/items/{WEST}"):
        answer = client.get(path, headers=users["admin"]).text
        assert not [name for name in people if name in answer], path


def test_a_stale_cookie_does_not_hide_the_public_collections(client: TestClient) -> None:
    client.cookies.set("gridmap_session", "an-ended-session")
    assert [c["id"] for c in client.get("/ogc/collections").json()["collections"]] == ["communities", "grids"]
    assert client.get("/ogc/collections/grids/items").status_code == 200
    assert client.get("/ogc/collections/buildings/items").status_code == 401


def test_every_ogc_route_is_public_except_buildings(client: TestClient) -> None:
    """Generated from the router's routes: each /ogc path, called without credentials."""
    values = {"collection_id": "grids", "feature_id": WEST}
    paths = sorted({route.path for route in features.router.routes})
    assert len(paths) == 8
    for path in paths:
        for collection in ("communities", "grids", "buildings"):
            concrete = path.format(**{**values, "collection_id": collection,
                                      "feature_id": {"communities": "500103001001", "grids": WEST,
                                                     "buildings": "B-WEST"}[collection]})
            status = client.get(concrete).status_code
            expected = 401 if collection == "buildings" and "{collection_id}" in path else 200
            assert status == expected, (concrete, status)


# -- HTML ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/grids",
                                  "/ogc/collections/grids/items?limit=1", f"/ogc/collections/grids/items/{WEST}"])
def test_html_pages_by_f_or_accept_name_nothing_outside(client: TestClient, versions: None, path: str) -> None:
    by_accept = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    by_f = client.get(path + ("&" if "?" in path else "?") + "f=html")
    for response in (by_accept, by_f):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        # The conformance classes' URIs are identifiers, printed as text, never fetched or linked.
        assert [url for url in external_urls(response.text) if url not in CONFORMANCE] == []
        assert 'href="http' not in response.text and 'src="http' not in response.text
    assert by_accept.text == by_f.text


def test_html_items_page_links_the_next_page_and_each_feature(client: TestClient, versions: None) -> None:
    page = client.get("/ogc/collections/grids/items", params={"limit": 1, "f": "html"}).text
    assert f'href="/ogc/collections/grids/items/{CURRENT_ID}?f=html"' in page
    assert 'rel="next" href="/ogc/collections/grids/items?offset=1&amp;limit=1&amp;f=html"' in page
    assert "西网格" in page


def test_json_is_the_default_and_accept_chooses_geojson(client: TestClient) -> None:
    for accept in ("*/*", "application/geo+json, application/json", "application/json", ""):
        response = client.get("/ogc/collections/grids/items", headers={"Accept": accept})
        assert response.headers["content-type"] == GEOJSON, accept
