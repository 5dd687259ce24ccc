"""Redraw plans through the API on the hand-drawn community (tests/drawn.py): make, check, fix, accept
warnings, approve by another person, apply, and what follows — grid versions, reassigned buildings,
re-homed open cases with their events, the stale-plan refusal, rollback, a file round trip."""

from __future__ import annotations

from datetime import timedelta

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import text

from gis.store.database import Database
from gis.store.vocabulary import current_day
from tests import drawn

AREA = "500103001001"
MOVED_WEST = box(106.500, 29.550, 106.516, 29.560)  # the shared edge moves east: B-EAST (106.515) goes west
MOVED_EAST = box(106.516, 29.550, 106.520, 29.560)


@pytest.fixture
def east_team(db: Database, client: TestClient) -> int:
    """The drawn east grid has a branch but no team: give it one, with a worker."""
    with db.session() as session:
        team = session.execute(text(
            "INSERT INTO service_team (grid_code, name, district_code, street_code, valid_from) "
            "VALUES (:code, '东网格服务团队', '500103', '500103001', '2024-01-01') RETURNING id"),
            {"code": drawn.EAST_CODE}).scalar_one()
        person = session.execute(text("INSERT INTO person (name, phone, district_code) "
                                      "VALUES ('李东', '13800000009', '500103') RETURNING id")).scalar_one()
        session.execute(text("INSERT INTO team_membership (team_id, person_id, role, from_date, district_code, "
                             "street_code) VALUES (:t, :p, 'grid_worker', '2024-01-01', '500103', '500103001')"),
                        {"t": team, "p": person})
    return team


def make(client: TestClient, headers: dict, name: str = "东西网格边界调整") -> dict:
    response = client.post("/api/plans", json={"area": AREA, "name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def redraw(client: TestClient, plan: dict, headers: dict, west=MOVED_WEST, east=MOVED_EAST) -> dict:  # noqa: ANN001
    features = plan["grids"]["features"]
    shapes = {drawn.WEST_CODE: west, drawn.EAST_CODE: east}
    body = {"type": "FeatureCollection", "features": [
        {**f, "geometry": mapping(shapes[f["properties"]["code"]])} for f in features]}
    response = client.put(f"/api/plans/{plan['id']}/grids", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def report_at_east_building(client: TestClient, headers: dict) -> int:
    body = {"source": "hotline", "category": "exposed_rubbish", "lon": 106.515, "lat": 29.5551}
    response = client.post("/api/cases", json=body, headers=headers)
    assert response.status_code == 201 and response.json()["grid_code"] == drawn.EAST_CODE
    return response.json()["id"]


def approve_all(client: TestClient, plan_id: int, users: dict) -> None:
    checked = client.post(f"/api/plans/{plan_id}/check", headers=users["planner"]).json()
    assert checked["status"] == "checked", checked["problems"]
    for problem in checked["problems"]:
        assert problem["severity"] == "warning"
        accepted = client.post(f"/api/plans/{plan_id}/warnings", headers=users["planner"],
                               json={"key": problem["key"], "reason": "测试社区户数少，暂不调整"})
        assert accepted.status_code == 200
    approved = client.post(f"/api/plans/{plan_id}/approve", headers=users["admin"])
    assert approved.status_code == 200, approved.text


def test_who_may_make_read_and_approve_plans(client: TestClient, users: dict) -> None:
    for role in ("worker-west", "street-1", "centre", "hotline-app"):
        assert client.post("/api/plans", json={"area": AREA, "name": "x"}, headers=users[role]).status_code == 403
    plan = make(client, users["planner"])
    for role, status in (("centre", 200), ("admin", 200), ("worker-west", 403), ("street-1", 403)):
        assert client.get(f"/api/plans/{plan['id']}", headers=users[role]).status_code == status, role
    assert client.post(f"/api/plans/{plan['id']}/check", headers=users["centre"]).status_code == 403
    assert client.post("/api/plans", json={"area": "500103001", "name": "街道"}, headers=users["planner"]).status_code \
        == 201
    assert client.post("/api/plans", json={"area": "5001030", "name": "x"}, headers=users["planner"]).status_code == 422


def test_a_plan_starts_as_the_current_grids_and_the_checks_name_what_is_missing(
    client: TestClient, users: dict
) -> None:
    plan = make(client, users["planner"])
    assert plan["status"] == "draft" and plan["author"] == "planner"
    assert [f["properties"]["code"] for f in plan["grids"]["features"]] == [drawn.WEST_CODE, drawn.EAST_CODE]
    checks = client.get(f"/api/plans/{plan['id']}/checks", headers=users["planner"]).json()
    found = {(p["kind"], tuple(p["grids"])) for p in checks["problems"]}
    assert ("no_team", (drawn.EAST_CODE,)) in found  # the drawn east grid has a branch, no team
    assert checks["errors"] == 1 and checks["warnings"] == 2  # 80 and 20 households: below 200
    assert all(p["geometry"] for p in checks["problems"])
    assert client.post(f"/api/plans/{plan['id']}/check", headers=users["planner"]).json()["status"] == "draft"


def test_apply_moves_buildings_and_open_cases_to_the_new_grid_with_an_event_each(
    client: TestClient, users: dict, db: Database, east_team: int
) -> None:
    case_id = report_at_east_building(client, users["centre"])
    filed = client.post(f"/api/cases/{case_id}/actions", json={"action": "file"}, headers=users["centre"])
    assert filed.status_code == 200, filed.text  # filed: an open case as the wall counts them
    assert client.get(f"/api/cases/{case_id}", headers=users["worker-west"]).status_code == 403
    plan = redraw(client, make(client, users["planner"]), users["planner"])
    impact = client.get(f"/api/plans/{plan['id']}/impact", headers=users["planner"]).json()
    east_to_west = (drawn.EAST_CODE, drawn.WEST_CODE)
    assert [(b["id"], b["from"], b["to"]) for b in impact["buildings"]] == [("B-EAST", *east_to_west)]
    assert [(c["id"], c["from"], c["to"]) for c in impact["open_cases"]] == [(case_id, *east_to_west)]
    west = next(g for g in impact["grids"] if g["code"] == drawn.WEST_CODE)
    assert (west["before"]["households"], west["after"]["households"]) == (80, 100)
    assert (west["before"]["open_cases"], west["after"]["open_cases"]) == (0, 1)
    balance = {g["code"]: g for g in client.get(f"/api/plans/{plan['id']}/balance", headers=users["planner"]).json()}
    assert (balance[drawn.WEST_CODE]["households"], balance[drawn.WEST_CODE]["workers"]) == (100, 1)
    assert balance[drawn.WEST_CODE]["households_per_worker"] == 100.0

    refused = client.post(f"/api/plans/{plan['id']}/approve", headers=users["admin"])
    assert refused.status_code == 409  # not checked yet
    client.post(f"/api/plans/{plan['id']}/check", headers=users["planner"])
    own = client.post(f"/api/plans/{plan['id']}/approve", headers=users["planner"])
    assert own.status_code == 403 and "someone else" in own.json()["detail"]
    blocked = client.post(f"/api/plans/{plan['id']}/approve", headers=users["admin"])
    assert blocked.status_code == 409 and blocked.json()["details"]["problems"][0]["kind"] == "households_out_of_range"
    approve_all(client, plan["id"], users)

    today = current_day()
    applied = client.post(f"/api/plans/{plan['id']}/apply", json={"effective_date": today.isoformat()},
                          headers=users["admin"])
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] == {"grids_ended": 2, "grids_started": 2, "buildings_changed": 1,
                                         "cases_rehomed": 1}
    case = client.get(f"/api/cases/{case_id}", headers=users["worker-west"])
    assert case.status_code == 200 and case.json()["grid_code"] == drawn.WEST_CODE  # the gaining team sees it at once
    events = client.get(f"/api/cases/{case_id}/events", headers=users["centre"]).json()
    assert events[-1]["action"] == "rehome" and events[-1]["data"]["from_grid"] == drawn.EAST_CODE
    assert events[-1]["data"]["plan"] == plan["id"] and events[-1]["from_status"] == events[-1]["to_status"]
    with db.session() as session:
        versions = session.execute(text(
            "SELECT code, valid_from, valid_to, lineage, plan_id FROM grid ORDER BY code, valid_from")).mappings().all()
        building = session.execute(text("SELECT g.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id "
                                        "WHERE b.code = 'B-EAST'")).scalar_one()
    assert [(v["code"], v["valid_to"], v["lineage"]) for v in versions] == [
        (drawn.WEST_CODE, today, None), (drawn.WEST_CODE, None, "reshaped"),
        (drawn.EAST_CODE, today, None), (drawn.EAST_CODE, None, "reshaped")]
    assert building == drawn.WEST_CODE
    grids = client.get("/api/grids").json()["features"]
    west_now = next(f for f in grids if f["properties"]["code"] == drawn.WEST_CODE)
    assert shapely.geometry.shape(west_now["geometry"]).equals(MOVED_WEST)


def test_a_plan_made_before_the_area_changed_is_refused(client: TestClient, users: dict, east_team: int) -> None:
    first = redraw(client, make(client, users["planner"], "先做的方案"), users["planner"])
    second = redraw(client, make(client, users["planner"], "后做的方案"), users["planner"],
                    west=box(106.500, 29.550, 106.505, 29.560), east=box(106.505, 29.550, 106.520, 29.560))
    today = current_day().isoformat()
    approve_all(client, first["id"], users)
    assert client.post(f"/api/plans/{first['id']}/apply", json={"effective_date": today},
                       headers=users["admin"]).status_code == 200
    approve_all(client, second["id"], users)
    stale = client.post(f"/api/plans/{second['id']}/apply", json={"effective_date": today}, headers=users["admin"])
    assert stale.status_code == 409 and "have changed since" in stale.json()["detail"]


def test_rollback_is_a_new_plan_restoring_the_grids_of_before(
    client: TestClient, users: dict, east_team: int
) -> None:
    plan = redraw(client, make(client, users["planner"]), users["planner"])
    approve_all(client, plan["id"], users)
    client.post(f"/api/plans/{plan['id']}/apply", json={"effective_date": current_day().isoformat()},
                headers=users["admin"])
    assert client.put(f"/api/plans/{plan['id']}/grids", json=plan["grids"], headers=users["planner"]).status_code \
        == 409  # an applied plan is kept as it was
    back = client.post(f"/api/plans/{plan['id']}/rollback", headers=users["planner"])
    assert back.status_code == 201
    restored = {f["properties"]["code"]: shapely.geometry.shape(f["geometry"])
                for f in back.json()["grids"]["features"]}
    assert restored[drawn.WEST_CODE].equals(drawn.WEST) and restored[drawn.EAST_CODE].equals(drawn.EAST)
    assert back.json()["restores_date"] == (current_day() - timedelta(days=1)).isoformat()


def test_a_future_effective_date_leaves_today_as_it_is(client: TestClient, users: dict, db: Database,
                                                      east_team: int) -> None:
    case_id = report_at_east_building(client, users["centre"])
    plan = redraw(client, make(client, users["planner"]), users["planner"])
    approve_all(client, plan["id"], users)
    tomorrow = current_day() + timedelta(days=1)
    applied = client.post(f"/api/plans/{plan['id']}/apply", json={"effective_date": tomorrow.isoformat()},
                          headers=users["admin"]).json()
    assert applied["applied"]["cases_rehomed"] == 0 and applied["settled_at"] is None
    assert client.get(f"/api/cases/{case_id}", headers=users["centre"]).json()["grid_code"] == drawn.EAST_CODE
    today_west = next(f for f in client.get("/api/grids").json()["features"]
                      if f["properties"]["code"] == drawn.WEST_CODE)
    assert shapely.geometry.shape(today_west["geometry"]).equals(drawn.WEST)
    past = client.post(f"/api/plans/{plan['id']}/apply", json={"effective_date": "2020-01-01"},
                       headers=users["admin"])
    assert past.status_code == 409  # applied already


def test_a_plan_round_trips_through_a_geopackage(client: TestClient, users: dict, east_team: int) -> None:
    plan = redraw(client, make(client, users["planner"]), users["planner"])
    exported = client.get(f"/api/plans/{plan['id']}/export.gpkg", headers=users["planner"])
    assert exported.status_code == 200 and exported.content[:16] == b"SQLite format 3\x00"
    back = client.post("/api/plans/import", headers=users["planner"], data={"area": AREA, "name": "回读"},
                       files={"file": ("plan.gpkg", exported.content, "application/geopackage+sqlite3")})
    assert back.status_code == 201, back.text
    before = {f["properties"]["code"]: f for f in plan["grids"]["features"]}
    for feature in back.json()["grids"]["features"]:
        original = before[feature["properties"]["code"]]
        assert shapely.geometry.shape(feature["geometry"]).equals(shapely.geometry.shape(original["geometry"]))
        assert feature["properties"]["team_id"] == original["properties"]["team_id"]
    bad = client.post("/api/plans/import", headers=users["planner"], data={"area": AREA, "name": "x"},
                      files={"file": ("plan.txt", b"hello", "text/plain")})
    assert bad.status_code == 422 and ".txt" in bad.json()["detail"]


def test_grids_layers_and_tiles_take_a_date_after_a_plan_took_effect(
    client: TestClient, users: dict, east_team: int
) -> None:
    import mapbox_vector_tile

    plan = redraw(client, make(client, users["planner"]), users["planner"])
    approve_all(client, plan["id"], users)
    today = current_day()
    yesterday = (today - timedelta(days=1)).isoformat()
    client.post(f"/api/plans/{plan['id']}/apply", json={"effective_date": today.isoformat()}, headers=users["admin"])

    def west(features: list[dict]) -> shapely.Geometry:
        return next(shapely.geometry.shape(f["geometry"]) for f in features
                    if (f.get("properties") or {}).get("code") == drawn.WEST_CODE)

    assert west(client.get("/api/grids", params={"as_of": yesterday}).json()["features"]).equals(drawn.WEST)
    assert west(client.get("/api/grids", params={"as_of": today.isoformat()}).json()["features"]).equals(MOVED_WEST)
    assert west(client.get("/api/grids").json()["features"]).equals(MOVED_WEST)
    before = client.get("/api/layers/grids", params={"as_of": yesterday}, headers=users["centre"]).json()
    now = client.get("/api/layers/grids", headers=users["centre"]).json()
    assert west(before["features"]).equals(drawn.WEST) and west(now["features"]).equals(MOVED_WEST)
    past = client.get("/api/layers/grids", params={"period": f"{yesterday}..{yesterday}"}, headers=users["centre"])
    assert west(past.json()["features"]).equals(drawn.WEST)  # a past period: the grids valid then
    # A tile east of the old edge (z16, lon 106.5124–106.5179): yesterday only the east grid reaches it,
    # today the west grid does too (its edge moved to 106.516).
    widths = []
    for day in (yesterday, today.isoformat()):
        tile = client.get("/tiles/grids/16/52158/27131.mvt", params={"as_of": day}, headers=users["centre"])
        assert tile.status_code in (200, 204), tile.text
        layer = mapbox_vector_tile.decode(tile.content)["grids"] if tile.status_code == 200 else {"features": []}
        widths.append(sorted(f["properties"]["code"] for f in layer["features"]))
    assert widths == [[drawn.EAST_CODE], [drawn.WEST_CODE, drawn.EAST_CODE]]
    assert client.get("/api/grids", params={"as_of": "1800-01-01"}).status_code == 422


def test_the_current_grids_export_with_their_balance_and_come_back_as_a_plan(
    client: TestClient, users: dict, east_team: int
) -> None:
    exported = client.get(f"/api/plans/current/{AREA}/export.geojson", headers=users["centre"])
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/geo+json"
    features = {f["properties"]["code"]: f["properties"] for f in exported.json()["features"]}
    assert (features[drawn.WEST_CODE]["households"], features[drawn.WEST_CODE]["workers"]) == (80, 1)
    assert features[drawn.EAST_CODE]["team_id"] == east_team and features[drawn.EAST_CODE]["households"] == 20
    assert client.get(f"/api/plans/current/{AREA}/export.geojson", headers=users["worker-west"]).status_code == 403
    assert client.get(f"/api/plans/current/{AREA}/export.kml", headers=users["centre"]).status_code == 422
    back = client.post("/api/plans/import", headers=users["planner"], data={"area": AREA, "name": "从文件"},
                       files={"file": ("grids.geojson", exported.content, "application/geo+json")})
    assert back.status_code == 201
    checks = client.get(f"/api/plans/{back.json()['id']}/checks", headers=users["planner"]).json()
    assert checks["errors"] == 0  # today's grids, read back, are a plan with nothing wrong but the warnings
