"""The layer API on the hand-drawn places (tests/drawn.py) with a few cases whose answers are known.

Cases made by `make_cases` (through the API, then deadlines moved by SQL):

  case  grid  status      deadline     flags                    counts as
  W1    west  dispatched  in 3 days    —                        open
  W2    west  dispatched  5 h ago      supervised               open, overdue
  W3    west  closed      in 3 days    —                        closed (not open)
  E1    east  dispatched  30 h ago     supervised, escalated    open, overdue
  E2    east  reported    —            —                        awaiting filing (not an open case)

So open cases: west 2, east 1; open and overdue: west 1, east 1. The sweeper has nothing to flag.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.routers import layers as layers_router
from api.sweeper import sweep_once
from gis.metrics import MEASURES, NO_DATA_COLOUR
from gis.periods import FORMS, Period, parse_period
from gis.settings import Settings
from gis.store.coverage import coverage_layer
from gis.store.database import Database
from gis.store.layers import LayerCache, LruStore
from gis.store.measures import district_summary, grid_measures, worst_grids
from tests import drawn
from tests.api.conftest import session_cookie

WEST_POINT = {"lon": 106.505, "lat": 29.555}
EAST_POINT = {"lon": 106.515, "lat": 29.555}
READERS = ["admin", "centre", "planner"]
OTHERS = ["worker-west", "worker-east", "street-1", "street-2", "hotline-app"]
ENDPOINTS = ["/api/layers/measures", "/api/layers/grids", "/api/layers/legend", "/api/layers/summary",
             "/api/layers/overdue", "/api/layers/coverage", "/api/layers/version"]


def report(client: TestClient, headers: dict[str, str], point: dict[str, float]) -> int:
    body = {"source": "hotline", "category": "exposed_rubbish", "description": "路边垃圾", **point}
    response = client.post("/api/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def act(client: TestClient, users: dict, case_id: int, *steps: tuple[str, str]) -> None:
    for user, action in steps:
        response = client.post(f"/api/cases/{case_id}/actions", json={"action": action}, headers=users[user])
        assert response.status_code == 200, (action, response.text)


def make_cases(client: TestClient, users: dict, db: Database) -> dict[str, int]:
    """The cases of the module docstring; returns their ids by name."""
    dispatch = (("centre", "file"), ("centre", "dispatch"))
    ids = {name: report(client, users["centre"], WEST_POINT) for name in ("W1", "W2", "W3")}
    ids |= {name: report(client, users["centre"], EAST_POINT) for name in ("E1", "E2")}
    for name in ("W1", "W2", "W3", "E1"):
        act(client, users, ids[name], *dispatch)
    act(client, users, ids["W3"], ("worker-west", "accept"), ("worker-west", "handle"), ("centre", "verify"))
    now = datetime.now(UTC)
    with db.session() as session:
        late = (("W1", -72, False), ("W3", -72, False), ("W2", 5, False), ("E1", 30, True))
        for name, hours, escalated in late:
            session.execute(text(
                "UPDATE service_case SET deadline = :deadline, "
                "supervised_at = CASE WHEN :late THEN :now END, "
                "escalated_at = CASE WHEN :escalated THEN :now END WHERE id = :id"
            ), {"deadline": now - timedelta(hours=hours), "late": hours > 0, "escalated": escalated,
                "now": now, "id": ids[name]})
    return ids


@pytest.fixture
def cases(client: TestClient, users: dict, db: Database) -> dict[str, int]:
    return make_cases(client, users, db)


def layer(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/layers/grids", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return response.json()


def by_code(collection: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in collection["features"]}


def thirty_days() -> Period:
    return parse_period("30d")


# -- the grid layer ------------------------------------------------------------------------------------


def test_measures_lists_every_measure_in_both_languages(client: TestClient, users: dict) -> None:
    zh = client.get("/api/layers/measures", headers=users["planner"]).json()
    en = client.get("/api/layers/measures", params={"lang": "en"}, headers=users["planner"]).json()
    assert [m["key"] for m in zh] == list(MEASURES)
    assert zh[0] == {"key": "open_cases", "label": "在办案件", "unit": "cases", "higher_is_worse": True,
                     "wall": 1, "short_label": "在办"}
    assert en[6] == {"key": "closure_rate", "label": "Closure rate", "unit": "share",
                     "higher_is_worse": False, "wall": None, "short_label": None}


def test_layer_carries_places_organisation_and_measures(
    client: TestClient, users: dict, db: Database, cases: dict
) -> None:
    body = layer(client, users["centre"])
    assert body["type"] == "FeatureCollection"
    assert body["measure"] == {"key": "open_cases", "label": "在办案件", "unit": "cases",
                               "higher_is_worse": True, "wall": 1, "short_label": "在办"}
    assert body["period"]["spec"] == "30d" and body["period"]["label"] == "近30天"
    assert body["classify"] == "fixed"
    assert body["version"] == client.get("/api/layers/version", headers=users["centre"]).json()["version"]
    assert datetime.fromisoformat(body["generated_at"]) <= datetime.now(UTC)
    features = by_code(body)
    assert list(features) == [drawn.WEST_CODE, drawn.EAST_CODE]
    west, east = features[drawn.WEST_CODE]["properties"], features[drawn.EAST_CODE]["properties"]
    assert west | {"colour": None} == {
        "code": drawn.WEST_CODE, "name": "西网格", "community_code": "500103001001",
        "community_name": "测试社区", "street_code": "500103001", "street_name": "解放碑街道",
        "branch": "西网格党支部", "team": "西网格服务团队",
        "leader": "钱队长", "grid_workers": 1, "value": 2, "class": 1, "colour": None, "open_cases": 2,
        "overdue": 1, "overdue_open": 1, "grade": west["grade"],
    }
    assert east["branch"] == "东网格党支部"
    assert (east["team"], east["leader"], east["grid_workers"]) == (None, None, 0)
    assert (east["value"], east["class"], east["open_cases"], east["overdue_open"]) == (1, 1, 1, 1)
    # Values are those of gis.store.measures for the same period.
    with db.session() as session:
        rows = {r["code"]: r for r in grid_measures(session, thirty_days())}
    for code, feature in features.items():
        assert feature["properties"]["open_cases"] == rows[code]["open_cases"]
        assert feature["properties"]["overdue"] == rows[code]["overdue"]
        assert feature["properties"]["grade"] == rows[code]["grade"]


def test_geometry_is_simplified_to_six_decimals_and_keeps_the_square(client: TestClient, users: dict) -> None:
    west = by_code(layer(client, users["admin"]))[drawn.WEST_CODE]["geometry"]
    assert west["type"] in ("Polygon", "MultiPolygon")
    ring = west["coordinates"][0] if west["type"] == "Polygon" else west["coordinates"][0][0]
    assert {tuple(p) for p in ring} == {(106.5, 29.55), (106.51, 29.55), (106.51, 29.56), (106.5, 29.56)}
    bare = layer(client, users["admin"], geometry="false")
    assert all(f["geometry"] is None for f in bare["features"])


@pytest.mark.parametrize(("measure", "classify", "classes"), [
    ("open_cases", "fixed", 5), ("open_cases", "quantile", 2), ("overdue", "quantile", 5),
    ("closure_rate", "fixed", 5), ("grade", "quantile", 4), ("households_per_worker", "quantile", 3),
])
def test_feature_colours_are_the_legend_colours_of_their_class(
    client: TestClient, users: dict, cases: dict, measure: str, classify: str, classes: int
) -> None:
    body = layer(client, users["planner"], measure=measure, classify=classify, classes=classes)
    colours = {row["class"]: row["colour"] for row in body["legend"]}
    assert colours[None] == NO_DATA_COLOUR
    assert body["classify"] == ("fixed" if measure == "grade" else classify)
    for feature in body["features"]:
        properties = feature["properties"]
        assert properties["colour"] == colours[properties["class"]], properties
        assert (properties["value"] is None) == (properties["class"] is None)
    params = {"measure": measure, "classify": classify, "classes": classes}
    legend = client.get("/api/layers/legend", params=params, headers=users["planner"]).json()
    assert legend["legend"] == body["legend"]
    assert legend["measure"] == body["measure"]


def test_quantile_classes_split_the_values_of_this_layer(
    client: TestClient, users: dict, cases: dict
) -> None:
    # open cases: west 2, east 1 → one break at the median 1.5: east in class 0, west in class 1.
    body = layer(client, users["centre"], classify="quantile", classes=2)
    assert [(row["min"], row["max"]) for row in body["legend"][:-1]] == [(None, 1.5), (1.5, None)]
    features = by_code(body)
    assert features[drawn.EAST_CODE]["properties"]["class"] == 0
    assert features[drawn.WEST_CODE]["properties"]["class"] == 1


def test_no_data_is_grey(client: TestClient, users: dict, cases: dict) -> None:
    # Rework rate over handled cases: W3 was handled without rework (0 %); nothing of the east grid was
    # handled in the period (no data).
    features = by_code(layer(client, users["centre"], measure="rework_rate"))
    west, east = features[drawn.WEST_CODE]["properties"], features[drawn.EAST_CODE]["properties"]
    assert (east["value"], east["class"], east["colour"]) == (None, None, NO_DATA_COLOUR)
    assert (west["value"], west["class"], west["colour"]) == (0.0, 0, MEASURES["rework_rate"].colours[0])


def test_layer_follows_new_cases_and_redrawn_grids(
    client: TestClient, users: dict, cases: dict, db_settings: Settings, tmp_path: Path
) -> None:
    before = by_code(layer(client, users["admin"]))[drawn.EAST_CODE]["properties"]["open_cases"]
    new = report(client, users["centre"], EAST_POINT)
    act(client, users, new, ("centre", "file"))
    # Measures are recomputed at most every `values_min_interval` seconds (VALUES_MIN_INTERVAL_SECONDS, held
    # at most 2.5 s and honoured by tests/store/test_layer_cache.py), then the change shows: here the
    # interval is a tenth of a second, so the wait is short, but it still has to pass.
    client.app.state.layer_cache.values_min_interval = 0.1
    deadline = time.monotonic() + 5
    while (after := by_code(layer(client, users["admin"]))[drawn.EAST_CODE]["properties"]["open_cases"]) == before:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert after == before + 1
    # Renaming a grid is a change of places: the cached frames are rebuilt.
    frame = drawn.grids_frame()
    frame.loc[frame["code"] == drawn.WEST_CODE, "name"] = "西网格（新）"
    from api.cli import import_file

    version = client.get("/api/layers/version", headers=users["admin"]).json()["version"]
    import_file(db_settings, "grids", drawn.write(frame, tmp_path / "renamed.geojson"))
    assert client.get("/api/layers/version", headers=users["admin"]).json()["version"] != version
    assert by_code(layer(client, users["admin"]))[drawn.WEST_CODE]["properties"]["name"] == "西网格（新）"


def test_large_layers_are_gzipped_when_accepted(
    client: TestClient, users: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layers_router, "GZIP_FROM_BYTES", 0)
    response = client.get("/api/layers/grids", headers={**users["admin"], "Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["type"] == "FeatureCollection"
    plain = client.get("/api/layers/grids", headers={**users["admin"], "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


# -- summary, overdue, coverage, version -------------------------------------------------------------


def test_summary_equals_the_district_summary_and_worst_order(
    client: TestClient, users: dict, db: Database, cases: dict
) -> None:
    body = client.get("/api/layers/summary", params={"measure": "open_cases"}, headers=users["centre"]).json()
    with db.session() as session:
        expected = district_summary(session, thirty_days())
        worst = worst_grids(session, thirty_days(), measure="open_cases")
    assert body["district"] == expected
    assert (body["district"]["open_cases"], body["district"]["overdue_open"]) == (3, 2)
    assert [w["code"] for w in body["worst"]] == [w["code"] for w in worst]
    assert [w["code"] for w in worst] == [drawn.WEST_CODE, drawn.EAST_CODE]
    assert body["worst"][0] == {"code": drawn.WEST_CODE, "name": "西网格", "street_name": "解放碑街道",
                                "value": 2, "class": 1, "colour": MEASURES["open_cases"].colours[1]}
    assert body["version"] == client.get("/api/layers/version", headers=users["centre"]).json()["version"]


def test_worst_leaves_out_grids_without_data_or_with_nothing_wrong(
    client: TestClient, users: dict, cases: dict,
) -> None:
    body = client.get("/api/layers/summary", params={"measure": "rework_rate", "lang": "en"},
                      headers=users["planner"]).json()
    rates = {g["properties"]["code"]: g["properties"]["value"] for g in client.get(
        "/api/layers/grids", params={"measure": "rework_rate"}, headers=users["planner"]).json()["features"]}
    assert rates == {drawn.WEST_CODE: 0.0, drawn.EAST_CODE: None}  # west: handled, none reworked; east: no data
    assert body["worst"] == []  # neither stands out
    assert body["measure"]["label"] == "Rework rate"
    overdue = client.get("/api/layers/summary", params={"measure": "overdue"}, headers=users["planner"]).json()
    assert sorted(w["code"] for w in overdue["worst"]) == [drawn.WEST_CODE, drawn.EAST_CODE]  # both have some


def test_overdue_layer_lists_exactly_the_open_overdue_cases(
    client: TestClient, users: dict, cases: dict
) -> None:
    response = client.get("/api/layers/overdue", headers=users["centre"])
    assert response.headers["content-type"] == "application/geo+json"
    features = response.json()["features"]
    assert [f["id"] for f in features] == [cases["E1"], cases["W2"]]  # most overdue first
    e1, w2 = (f["properties"] for f in features)
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [106.515, 29.555]}
    assert (e1["grid_code"], e1["supervised"], e1["escalated"]) == (drawn.EAST_CODE, True, True)
    assert (w2["grid_code"], w2["supervised"], w2["escalated"]) == (drawn.WEST_CODE, True, False)
    assert e1["hours_overdue"] == pytest.approx(30, abs=0.2)
    assert w2["hours_overdue"] == pytest.approx(5, abs=0.2)
    assert (e1["category"], e1["category_zh"]) == ("暴露垃圾", "暴露垃圾")
    assert e1["category_en"] == "Exposed rubbish"
    assert e1["deadline"].endswith("+08:00")
    en = client.get("/api/layers/overdue", params={"lang": "en"}, headers=users["centre"]).json()
    assert en["features"][0]["properties"]["category"] == "Exposed rubbish"


def test_overdue_layer_is_empty_without_overdue_cases(client: TestClient, users: dict) -> None:
    assert client.get("/api/layers/overdue", headers=users["admin"]).json()["features"] == []


def test_coverage_is_the_coverage_layer_and_follows_changes(
    client: TestClient, users: dict, db: Database
) -> None:
    def fetch() -> dict[str, Any]:
        response = client.get("/api/layers/coverage", headers=users["planner"])
        assert response.headers["content-type"] == "application/geo+json"
        return response.json()

    body = fetch()
    with db.session() as session:
        assert body == json.loads(json.dumps(coverage_layer(session), default=str))
    kinds = [(f["properties"]["kind"], f["properties"].get("code")) for f in body["features"]]
    assert ("outside_building", "B-OUT") in kinds
    report(client, users["centre"], {"lon": 106.53, "lat": 29.555})  # outside every grid: unrouted
    # within COVERAGE_MIN_INTERVAL_SECONDS the layer stays as it was (tests/store/test_layer_cache.py) ...
    assert [f["properties"]["kind"] for f in fetch()["features"]].count("unrouted_case") == 0
    client.app.state.layer_cache.coverage_min_interval = 0  # ... and follows once it has passed
    assert [f["properties"]["kind"] for f in fetch()["features"]].count("unrouted_case") == 1


def test_version_changes_with_cases_and_actions_only(
    client: TestClient, users: dict, db: Database, db_settings: Settings
) -> None:
    def version() -> str:
        response = client.get("/api/layers/version", headers=users["planner"])
        assert response.headers["cache-control"] == "no-store"
        return response.json()["version"]

    v0 = version()
    for path in [*ENDPOINTS, "/api/cases", "/api/grids", "/tiles/grids/14/13039/6782.mvt"]:
        client.get(path, headers=users["admin"])
    sweep_once(db, db_settings)  # nothing to flag
    assert version() == v0
    case_id = report(client, users["centre"], WEST_POINT)
    v1 = version()
    assert v1 != v0 and version() == v1
    act(client, users, case_id, ("centre", "file"))
    v2 = version()
    assert v2 not in (v0, v1)
    refused = client.post(f"/api/cases/{case_id}/actions", json={"action": "verify"}, headers=users["centre"])
    assert refused.status_code == 409
    assert version() == v2


def test_version_survives_compaction(client: TestClient, users: dict, db: Database) -> None:
    with db.session() as session:
        for _ in range(300):  # one logged statement each
            session.execute(text("UPDATE grid SET name = name WHERE code = :code"), {"code": drawn.WEST_CODE})
    first = client.get("/api/layers/version", headers=users["admin"]).json()["version"]
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM layer_change")).scalar_one() <= 4
    assert client.get("/api/layers/version", headers=users["admin"]).json()["version"] == first


# -- who may read, and bad parameters ----------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_only_admin_centre_and_planner_read_layers(client: TestClient, users: dict, path: str) -> None:
    for user in READERS:
        assert client.get(path, headers=users[user]).status_code == 200, (user, path)
    for user in OTHERS:
        response = client.get(path, headers=users[user])
        assert response.status_code == 403, (user, path)
        assert "admin, command_centre, planner" in response.json()["detail"]
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_page_cookie_is_accepted(client: TestClient, db: Database, users: dict) -> None:
    assert client.get("/api/layers/version", cookies=session_cookie(db, "planner")).status_code == 200
    assert client.get("/api/layers/version", cookies=session_cookie(db, "worker-west")).status_code == 403


@pytest.mark.parametrize(("params", "named"), [
    ({"measure": "happiness"}, ["happiness", *MEASURES]),
    ({"period": "last-week"}, ["last-week", *FORMS]),
    ({"period": "2025-02-30..2025-03-01"}, list(FORMS)),
    ({"classify": "jenks"}, ["jenks", "fixed", "quantile"]),
    ({"classes": 9}, ["2 to 7"]),
    ({"classes": 1}, ["2 to 7"]),
    ({"classes": "many"}, ["classes"]),
])
def test_bad_parameters_are_422_naming_what_is_allowed(
    client: TestClient, users: dict, params: dict, named: list[str]
) -> None:
    for path in ("/api/layers/grids", "/api/layers/legend", "/api/layers/summary"):
        response = client.get(path, params=params, headers=users["admin"])
        assert response.status_code == 422, (path, response.text)
        for word in named:
            assert word in response.json()["detail"], (path, word)


# -- the cache ----------------------------------------------------------------------------------------


def test_cache_serves_an_aged_entry_while_it_is_refreshed_in_the_background() -> None:
    made: list[int] = []
    done = threading.Event()

    @contextmanager
    def sessions() -> Iterator[None]:
        yield None

    def make(session: object) -> int:
        made.append(len(made) + 1)
        if len(made) == 2:
            done.set()
        return made[-1]

    store = LruStore(4)
    assert store.refreshing("k", make, None, 60, sessions) == 1  # type: ignore[arg-type]
    assert store.refreshing("k", make, None, 60, sessions) == 1  # type: ignore[arg-type]
    assert store.refreshing("k", make, None, 0, sessions) == 1  # type: ignore[arg-type]  # aged: the old one
    assert done.wait(10)
    deadline = time.monotonic() + 10
    while store.refreshing("k", make, None, 60, sessions) != 2:  # type: ignore[arg-type]
        assert time.monotonic() < deadline
    assert made == [1, 2]
    assert store.refreshing("j", lambda s: 1, None, 60, None) == 1  # type: ignore[arg-type]
    assert store.refreshing("j", lambda s: 2, None, 0, None) == 2  # type: ignore[arg-type]  # no sessions: inline


def test_cache_makes_each_key_once_for_concurrent_askers() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def make() -> int:
        calls.append(1)
        gate.wait(5)
        return 42

    cache = LayerCache()
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", make))) for _ in range(4)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert results == [42] * 4 and calls == [1]
