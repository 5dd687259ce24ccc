"""Vector tiles on the hand-drawn places, decoded with the `mapbox-vector-tile` package (y down, tile
units, as the tile holds them).

Both squares sit in z14 tile (13039, 6782) and z10 tile (814, 423); the cases are those of
tests/api/test_layers.py `make_cases` (open: W1, W2 west; E1 east; overdue: W2, E1) plus, where asked, an
unrouted open case south of the squares.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Point, Polygon
from sqlalchemy import text

from gis.metrics import MEASURES
from gis.store.database import Database
from gis.store.tiles import MAX_ZOOM, simplify_tolerance, tile_area
from tests import drawn
from tests.api.conftest import session_cookie
from tests.api.test_layers import act, make_cases, report

MVT = "application/vnd.mapbox-vector-tile"
Z14 = (14, 13039, 6782)
Z10 = (10, 814, 423)
UNROUTED_POINT = {"lon": 106.505, "lat": 29.545}
GEOMETRY_TYPES = {"Point": 1, "MultiPoint": 1, "LineString": 2, "MultiLineString": 2, "Polygon": 3,
                  "MultiPolygon": 3}


# -- the decoded tile, as the tests read it ---------------------------------------------------------------


@dataclass
class Feature:
    id: int | None  # MVT leaves an absent id as 0: our ids (case ids, grid codes) never are
    type: int  # 1 point, 2 line, 3 polygon
    properties: dict[str, Any]
    geometry: dict[str, Any]

    def points(self) -> list[tuple[int, int]]:
        """Every vertex in tile units, each polygon ring without its closing repeat."""
        geometry = shapely.geometry.shape(self.geometry)
        if isinstance(geometry, Point):
            return [(int(geometry.x), int(geometry.y))]
        rings = [ring for polygon in getattr(geometry, "geoms", [geometry])
                 for ring in (polygon.exterior, *polygon.interiors)]
        return [(int(x), int(y)) for ring in rings for x, y in ring.coords[:-1]]


@dataclass
class Layer:
    name: str
    extent: int
    features: list[Feature]


def decode(tile: bytes) -> dict[str, Layer]:
    """Layers by name."""
    layers = mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})
    return {
        name: Layer(name, layer["extent"], [
            Feature(f["id"] or None, GEOMETRY_TYPES[f["geometry"]["type"]], f["properties"], f["geometry"])
            for f in layer["features"]
        ])
        for name, layer in layers.items()
    }


def tile_for(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the Web Mercator tile holding a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def lonlat(z: int, x: int, y: int, px: float, py: float, extent: int = 4096) -> tuple[float, float]:
    """A tile-unit position back to longitude/latitude."""
    n = 2**z
    lon = (x + px / extent) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + py / extent) / n))))
    return lon, lat


# -- helpers ----------------------------------------------------------------------------------------------


def get_tile(client: TestClient, headers: dict[str, str], layer: str, zxy: tuple[int, int, int],
             **params: Any) -> dict[str, Layer]:
    response = client.get(f"/tiles/{layer}/{zxy[0]}/{zxy[1]}/{zxy[2]}.mvt", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    return decode(response.content)


def inside(zxy: tuple[int, int, int], feature: Feature, square: Polygon) -> bool:
    """Whether a point feature lies in (or within about 10 m of) a polygon."""
    ((px, py),) = feature.points()
    lon, lat = lonlat(*zxy, px, py)
    return square.buffer(1e-4).contains(Point(lon, lat))


@pytest.fixture
def cases(client: TestClient, users: dict, db: Database) -> dict[str, int]:
    ids = make_cases(client, users, db)
    ids["U1"] = report(client, users["centre"], UNROUTED_POINT)
    act(client, users, ids["U1"], ("centre", "file"))
    return ids


# -- grids ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zxy", [Z14, Z10])
def test_grid_tile_carries_the_layer_values_and_legend_colours(
    client: TestClient, users: dict, cases: dict, zxy: tuple[int, int, int]
) -> None:
    layers = get_tile(client, users["planner"], "grids", zxy)
    assert list(layers) == ["grids"] and layers["grids"].extent == 4096
    features = {f.properties["code"]: f for f in layers["grids"].features}
    assert set(features) == {drawn.WEST_CODE, drawn.EAST_CODE}
    legend = client.get("/api/layers/legend", headers=users["planner"]).json()["legend"]
    colours = {row["class"]: row["colour"] for row in legend}
    for code, feature in features.items():
        assert feature.id == int(code) and feature.type == 3
        assert set(feature.properties) == {"code", "name", "value", "class", "colour"}
        assert feature.properties["colour"] == colours[feature.properties["class"]]
    assert features[drawn.WEST_CODE].properties["name"] == "西网格"
    assert features[drawn.WEST_CODE].properties["value"] == 2  # open cases
    assert features[drawn.EAST_CODE].properties["value"] == 1


def test_grid_tile_follows_measure_and_period(client: TestClient, users: dict, cases: dict) -> None:
    grade = get_tile(client, users["admin"], "grids", Z14, measure="grade", period="7d")["grids"]
    for feature in grade.features:
        assert feature.properties["value"] in MEASURES["grade"].categories
    # Rework rate: the east grid has no data, so no value property and the grey colour.
    rework = get_tile(client, users["admin"], "grids", Z14, measure="rework_rate")["grids"]
    east = next(f for f in rework.features if f.properties["code"] == drawn.EAST_CODE)
    assert "value" not in east.properties and "class" not in east.properties
    assert east.properties["colour"] == "#bdbdbd"
    bad = client.get("/tiles/grids/14/13039/6782.mvt", params={"measure": "nope"}, headers=users["admin"])
    assert bad.status_code == 422 and "open_cases" in bad.json()["detail"]


def wiggled(square: Polygon) -> Polygon:
    """The square with a vertex every ~5 m (4.5e-5°), every other one pushed 1e-5° (~1 m) out of line."""
    ring = list(shapely.segmentize(square, 4.5e-5).exterior.coords)[:-1]
    moved = [(x + 1e-5, y + 1e-5) if i % 2 else (x, y) for i, (x, y) in enumerate(ring)]
    return Polygon(moved)


def test_polygons_are_simplified_by_about_a_pixel(db: Database, client: TestClient, users: dict) -> None:
    # Each square's boundary gets a vertex every 5 m, every other one pushed 1 m out of line: at z12 (a
    # screen pixel ≈ 33 m) the west square keeps its corners only; at z17 (≈ 1 m) the wiggles stay.
    with db.session() as session:
        for code, square in ((drawn.WEST_CODE, drawn.WEST), (drawn.EAST_CODE, drawn.EAST)):
            session.execute(text("UPDATE grid SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)) "
                                 "WHERE code = :code"), {"wkt": wiggled(square).wkt, "code": code})
    coarse = get_tile(client, users["planner"], "grids", (12, *tile_for(106.505, 29.555, 12)))["grids"]
    west = next(f for f in coarse.features if f.properties["code"] == drawn.WEST_CODE)
    assert len(west.points()) <= 5
    fine = get_tile(client, users["planner"], "grids", (17, *tile_for(106.5001, 29.555, 17)))["grids"]
    assert max(len(f.points()) for f in fine.features) > 50
    assert simplify_tolerance(0, 0) == pytest.approx(360 / 512)
    pixel_m = 40075016.686 / 512 / 2**14
    assert simplify_tolerance(14, 6782) == pytest.approx(pixel_m * math.cos(math.radians(29.56)) / 111319.49,
                                                         rel=0.01)


# -- cases ------------------------------------------------------------------------------------------------


def test_case_tile_at_z14_sends_each_open_case(client: TestClient, users: dict, cases: dict) -> None:
    layer = get_tile(client, users["centre"], "cases", Z14)["cases"]
    by_id = {f.id: f for f in layer.features}
    assert set(by_id) == {cases["W1"], cases["W2"], cases["E1"]}  # not closed W3, reported E2, U1 elsewhere
    assert all(f.type == 1 for f in layer.features)
    w2, e1 = by_id[cases["W2"]].properties, by_id[cases["E1"]].properties
    assert (w2["grid_code"], w2["count"], w2["overdue"], w2["supervised"], w2["escalated"]) == (
        drawn.WEST_CODE, 1, 1, True, False)
    assert (e1["grid_code"], e1["overdue"], e1["escalated"]) == (drawn.EAST_CODE, 1, True)
    assert e1["status"] == "dispatched"
    assert by_id[cases["W1"]].properties["overdue"] == 0
    assert by_id[cases["W1"]].properties["category"] == "exposed_rubbish"
    assert inside(Z14, by_id[cases["E1"]], drawn.EAST)


def test_case_tile_below_z14_counts_per_grid(client: TestClient, users: dict, cases: dict) -> None:
    layer = get_tile(client, users["centre"], "cases", Z10)["cases"]
    grids = {f.properties.get("grid_code"): f for f in layer.features}
    assert set(grids) == {drawn.WEST_CODE, drawn.EAST_CODE, None}
    assert all(f.id is None and f.type == 1 for f in layer.features)
    west, east, loose = grids[drawn.WEST_CODE], grids[drawn.EAST_CODE], grids[None]
    assert (west.properties["count"], west.properties["overdue"]) == (2, 1)
    assert (east.properties["count"], east.properties["overdue"]) == (1, 1)
    assert (loose.properties["count"], loose.properties["overdue"]) == (1, 0)  # the unrouted case, alone
    assert inside(Z10, west, drawn.WEST) and inside(Z10, east, drawn.EAST)


# -- empty, bad, forbidden --------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["grids", "cases"])
def test_an_empty_tile_is_204(client: TestClient, users: dict, cases: dict, layer: str) -> None:
    response = client.get(f"/tiles/{layer}/14/8192/8192.mvt", headers=users["admin"])
    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize(("path", "status", "named"), [
    (f"/tiles/grids/{MAX_ZOOM + 1}/0/0.mvt", 422, f"0 to {MAX_ZOOM}"),
    ("/tiles/grids/-1/0/0.mvt", 422, f"0 to {MAX_ZOOM}"),
    ("/tiles/grids/14/16384/6782.mvt", 422, "0 to 16383"),
    ("/tiles/cases/14/13039/-1.mvt", 422, "0 to 16383"),
    ("/tiles/grids/2/1/4.mvt", 422, "0 to 3"),
    ("/tiles/grids/14/x/6782.mvt", 422, "x"),
    ("/tiles/roads/14/13039/6782.mvt", 404, "grids, cases"),
])
def test_bad_tiles_name_the_range(
    client: TestClient, users: dict, path: str, status: int, named: str
) -> None:
    response = client.get(path, headers=users["admin"])
    assert response.status_code == status, response.text
    assert named in response.json()["detail"]


def test_tiles_follow_the_layer_roles_by_cookie(client: TestClient, db: Database, users: dict, cases: dict) -> None:
    path = "/tiles/grids/14/13039/6782.mvt"
    for user in ("admin", "centre", "planner"):
        assert client.get(path, cookies=session_cookie(db, user)).status_code == 200
    for user in ("worker-west", "worker-east", "street-1", "street-2", "hotline-app"):
        assert client.get(path, cookies=session_cookie(db, user)).status_code == 403
    assert client.get(path).status_code == 401
    assert client.get("/tiles/cases/10/814/423.mvt").status_code == 401


def test_tiles_follow_new_cases(client: TestClient, users: dict, cases: dict) -> None:
    before = get_tile(client, users["admin"], "cases", Z14)["cases"]
    grids_before = get_tile(client, users["admin"], "grids", Z14)["grids"]
    new = report(client, users["centre"], {"lon": 106.505, "lat": 29.556})
    act(client, users, new, ("centre", "file"))
    after = get_tile(client, users["admin"], "cases", Z14)["cases"]
    assert {f.id for f in after.features} == {f.id for f in before.features} | {new}

    def west(layer: object) -> float:
        return next(f.properties["value"] for f in layer.features if f.properties["code"] == drawn.WEST_CODE)

    # Measures are recomputed at most every `values_min_interval` seconds (VALUES_MIN_INTERVAL_SECONDS, held
    # at most 2.5 s and honoured by tests/store/test_layer_cache.py), then the change shows: here the
    # interval is a tenth of a second, so the wait is short, but it still has to pass.
    client.app.state.layer_cache.values_min_interval = 0.1
    deadline = time.monotonic() + 5
    while (now := west(get_tile(client, users["admin"], "grids", Z14)["grids"])) == west(grids_before):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert now == west(grids_before) + 1


@pytest.mark.parametrize("zxy", [(0, 0, 0), (1, 1, 0), Z10, Z14, (18, 208628, 108520)])
def test_tile_area_is_the_buffered_envelope_in_degrees(db: Database, zxy: tuple[int, int, int]) -> None:
    with db.session() as session:
        expected = session.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Transform(ST_ClipByBox2D("
            "ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), ST_TileEnvelope(0, 0, 0)), 4326) AS e) AS t"
        ), dict(zip("zxy", zxy, strict=True))).one()
    assert tile_area(*zxy) == pytest.approx(tuple(expected), abs=1e-9)
