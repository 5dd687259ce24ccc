"""Work days and visits through the API, on the hand-drawn district (tests/drawn.py): one community
500103001001 of street 500103001 with the west grid (B-WEST 10 households, B-EDGE 30, B-CORNER 40) and
the east grid (B-EAST 20). worker-west serves the west grid, worker-east the east; street-1 is the
drawn street, street-2 another; community managers are made here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis.periods import parse_period
from gis.store.database import Database
from gis.store.measures import grid_measures
from gis.store.users import create_user
from tests import drawn

COMMUNITY = "500103001001"
TUESDAYS = {"weekday": 2, "weeks": [2, 4]}


@pytest.fixture
def managers(users: dict[str, dict[str, str]], db: Database) -> dict[str, dict[str, str]]:
    """users plus a community manager of the drawn community and one of another community."""
    with db.session() as session:
        create_user(session, "community-own", "community_manager", community_code=COMMUNITY, key="key-community-own")
        create_user(session, "community-other", "community_manager", community_code="500103001009",
                    key="key-community-other")
    return {**users, **{name: {"Authorization": f"Bearer key-{name}"} for name in ("community-own", "community-other")}}


def _rows(db: Database, sql: str, **params: object) -> list[tuple]:
    with db.session() as session:
        return [tuple(r) for r in session.execute(text(sql), params)]


def _user_id(db: Database, username: str) -> int:
    return _rows(db, "SELECT id FROM app_user WHERE username = :u", u=username)[0][0]


def _community_day(**extra: object) -> dict:
    return {"scope": "community", "community_code": COMMUNITY, "title": "社区工作日", "place": "党群服务中心",
            "start_time": "09:00", "end_time": "12:00", "rule": TUESDAYS, "valid_from": "2026-01-01", **extra}


def _building_day(code: str, day: str = "2026-03-12", **extra: object) -> dict:
    return {"scope": "building", "building_code": code, "title": f"楼栋工作日 {code}", "date": day, **extra}


# -- scheduling ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 201), ("centre", 201), ("street-1", 201), ("community-own", 201),
    ("street-2", 403), ("community-other", 403), ("worker-west", 403), ("planner", 403), ("hotline-app", 403),
])
def test_scheduling_by_role_and_area(client: TestClient, managers: dict, who: str, status: int) -> None:
    for body in (_community_day(), _building_day("B-WEST")):
        response = client.post("/api/workdays", json=body, headers=managers[who])
        assert response.status_code == status, response.text


def test_a_scheduled_day_answers_with_its_rule_place_and_people(client: TestClient, managers: dict,
                                                                 db: Database) -> None:
    (person,) = _rows(db, "SELECT id FROM person WHERE name = '孙网格员'")[0]
    worker_user = _user_id(db, "worker-west")
    response = client.post("/api/workdays", json=_community_day(assignees=[
        {"person_id": person, "role": "worker"}, {"user_id": worker_user, "role": "worker"}]),
        headers=managers["street-1"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in ("scope", "community_code", "building_code", "start_time", "end_time", "date",
                                 "rule", "valid_from", "valid_until")} == {
        "scope": "community", "community_code": COMMUNITY, "building_code": None, "start_time": "09:00",
        "end_time": "12:00", "date": None, "rule": TUESDAYS, "valid_from": "2026-01-01", "valid_until": None}
    assert [(a["person_id"], a["user_id"], a["name"]) for a in body["assignees"]] == [
        (person, None, "孙网格员"), (None, worker_user, "worker-west")]
    assert _rows(db, "SELECT district_code, street_code FROM work_day") == [("500103", "500103001")]


# -- listing --------------------------------------------------------------------------------------------


def _schedule_three(client: TestClient, managers: dict, db: Database) -> dict[str, int]:
    admin = managers["admin"]
    east_user = _user_id(db, "worker-east")
    ids = {}
    for name, body in (("community", _community_day()), ("west", _building_day("B-WEST")),
                       ("east", _building_day("B-EAST")),
                       ("west-with-east", _building_day("B-EDGE", "2026-03-13",
                                                        assignees=[{"user_id": east_user, "role": "worker"}]))):
        response = client.post("/api/workdays", json=body, headers=admin)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return ids


def _listed(client: TestClient, headers: dict) -> list[tuple[int, str]]:
    response = client.get("/api/workdays", params={"from": "2026-03-01", "to": "2026-03-31"}, headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["from"], response.json()["to"]) == ("2026-03-01", "2026-03-31")
    return [(i["work_day_id"], i["date"]) for i in response.json()["items"]]


def test_listing_gives_each_occurrence_and_is_area_filtered(client: TestClient, managers: dict,
                                                             db: Database) -> None:
    ids = _schedule_three(client, managers, db)
    community = [(ids["community"], "2026-03-10"), (ids["community"], "2026-03-24")]
    west, east, edge = (ids["west"], "2026-03-12"), (ids["east"], "2026-03-12"), (ids["west-with-east"], "2026-03-13")
    everything = sorted([*community, west, east, edge], key=lambda i: (i[1], i[0]))
    assert _listed(client, managers["admin"]) == everything
    assert _listed(client, managers["centre"]) == everything
    assert _listed(client, managers["street-1"]) == everything
    assert _listed(client, managers["community-own"]) == everything
    # A worker: their grid's community, buildings of their grid, and what they are assigned to; no other row.
    assert _listed(client, managers["worker-west"]) == [community[0], west, edge, community[1]]
    assert _listed(client, managers["worker-east"]) == [community[0], east, edge, community[1]]
    assert _listed(client, managers["street-2"]) == []
    assert _listed(client, managers["community-other"]) == []
    assert _listed(client, managers["hotline-app"]) == []
    items = client.get("/api/workdays", params={"from": "2026-03-13", "to": "2026-03-13"},
                       headers=managers["worker-east"]).json()["items"]
    assert [(i["building_code"], i["grid_code"], i["assigned_to_me"]) for i in items] == [
        ("B-EDGE", drawn.WEST_CODE, True)]


def test_listing_skips_a_holiday_and_checks_its_dates(client: TestClient, managers: dict) -> None:
    client.post("/api/workdays", json=_community_day(rule={"weekday": 2}), headers=managers["admin"])
    response = client.get("/api/workdays", params={"from": "2026-02-01", "to": "2026-02-28"},
                          headers=managers["admin"])
    assert [i["date"] for i in response.json()["items"]] == ["2026-02-03", "2026-02-10", "2026-02-24"]
    bad = client.get("/api/workdays", params={"from": "2026-03-01", "to": "2026-02-01"}, headers=managers["admin"])
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "to"
    bad = client.get("/api/workdays", params={"from": "2026-13-01"}, headers=managers["admin"])
    assert bad.status_code == 422 and "from" in bad.json()["detail"]
    bad = client.get("/api/workdays", params={"from": "9999-12-31"}, headers=managers["admin"])
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "from"


# -- visits ---------------------------------------------------------------------------------------------


def _visit(client: TestClient, headers: dict, key: str | None = None, **body: object) -> object:
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/visits", json={"households_reached": 1, **body}, headers={**headers, **extra})


def test_a_visit_with_problems_files_cases_from_the_work_day_routed_to_the_buildings_grid(
        client: TestClient, managers: dict, db: Database) -> None:
    work_day = client.post("/api/workdays", json=_building_day("B-EDGE", datetime.now(UTC).date().isoformat()),
                           headers=managers["admin"]).json()["id"]
    response = _visit(client, managers["worker-west"], building_code="B-EDGE", households_reached=6, note="入户走访",
                      work_day_id=work_day,
                      problems=["楼道灯坏了", {"category": "neighbour_dispute", "description": "邻居噪音"}])
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["building"]["code"] == "B-EDGE" and visit["building"]["grid_code"] == drawn.WEST_CODE
    assert (visit["households_reached"], visit["problems_raised"], visit["work_day_id"], visit["visited_by"]) == (
        6, 2, work_day, "worker-west")
    assert [(c["grid_code"], c["category"], c["status"]) for c in visit["cases"]] == [
        (drawn.WEST_CODE, "complaint", "reported"), (drawn.WEST_CODE, "neighbour_dispute", "reported")]
    for case in visit["cases"]:
        shown = client.get(f"/api/cases/{case['id']}", headers=managers["worker-west"]).json()
        assert shown["source"] == "work_day_visit" and shown["grid_code"] == drawn.WEST_CODE
    assert _rows(db, "SELECT count(*) FROM service_case WHERE source = 'work_day_visit' "
                     "AND ST_Equals(position, (SELECT geom FROM building WHERE code = 'B-EDGE'))") == [(2,)]
    assert _rows(db, "SELECT households_reached, problems_raised, work_day_id, person_id IS NULL, user_id "
                     "FROM visit") == [(6, 2, work_day, True, _user_id(db, "worker-west"))]


def test_a_retried_idempotency_key_applies_once(client: TestClient, managers: dict, db: Database) -> None:
    body = {"building_code": "B-WEST", "households_reached": 3, "problems": ["漏水"]}
    first = _visit(client, managers["worker-west"], key="phone-1", **body)
    again = _visit(client, managers["worker-west"], key="phone-1", **body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    # The phone's outbox sends the key in the body too; the body's key alone is the same key.
    third = _visit(client, managers["worker-west"], idempotency_key="phone-1", **body)
    assert third.status_code == 200 and third.json()["id"] == first.json()["id"]
    assert _rows(db, "SELECT count(*) FROM visit") == [(1,)]
    assert _rows(db, "SELECT count(*) FROM service_case") == [(1,)]
    # Another user's same key is their own visit.
    assert _visit(client, managers["street-1"], key="phone-1", **body).status_code == 201
    assert _rows(db, "SELECT count(*) FROM visit") == [(2,)]


@pytest.mark.parametrize(("who", "building", "status"), [
    ("worker-west", "B-WEST", 201), ("worker-west", "B-CORNER", 201), ("worker-west", "B-EAST", 403),
    ("worker-east", "B-WEST", 403), ("street-1", "B-EAST", 201), ("street-2", "B-WEST", 403),
    ("community-own", "B-EAST", 201), ("community-other", "B-EAST", 403), ("centre", "B-OUT", 201),
    ("planner", "B-WEST", 403), ("hotline-app", "B-WEST", 403),
])
def test_who_may_record_a_visit_where(client: TestClient, managers: dict, db: Database, who: str, building: str,
                                      status: int) -> None:
    response = _visit(client, managers[who], building_code=building, problems=["问题"])
    assert response.status_code == status, response.text
    if status == 403:
        assert _rows(db, "SELECT count(*) FROM visit") == [(0,)]
        assert _rows(db, "SELECT count(*) FROM service_case") == [(0,)]


@pytest.mark.parametrize(("body", "field"), [
    ({"building_code": "B-WEST", "households_reached": -1}, "households_reached"),
    ({"building_code": "B-WEST", "households_reached": 11}, "households_reached"),  # B-WEST has 10
    ({"building_code": "B-WEST"}, "households_reached"),
    ({"households_reached": 1}, "building_code"),
    ({"building_code": "B-WEST", "households_reached": 1, "work_day_id": 999}, "work_day_id"),
    ({"building_code": "B-WEST", "households_reached": 1, "problems": [""]}, "problems"),
    ({"building_code": "B-WEST", "households_reached": 1, "problems": [{"description": "x", "category": "nope"}]},
     "category"),
    ({"building_code": "B-WEST", "households_reached": 1, "visited_at": "2020-01-01T10:00:00+08:00"}, "visited_at"),
    ({"building_code": "B-WEST", "households_reached": 1, "colour": "red"}, "colour"),
])
def test_a_bad_visit_is_refused_naming_the_field(client: TestClient, managers: dict, db: Database, body: dict,
                                                 field: str) -> None:
    response = client.post("/api/visits", json=body, headers=managers["worker-west"])
    assert response.status_code == 422, response.text
    answer = response.json()
    assert field in answer["detail"] or answer.get("details", {}).get("field") == field, answer
    assert _rows(db, "SELECT count(*) FROM visit") == [(0,)]


@pytest.mark.parametrize(("body", "field"), [
    (_community_day(rule={"weekday": 9}), "rule.weekday"),
    (_community_day(date="2026-03-10"), "date"),
    (_community_day(scope="street"), "scope"),
    (_community_day(community_code="500103001009"), "community_code"),
    (_community_day(end_time="08:00"), "end_time"),
    (_building_day("B-WEST", assignees=[{"person_id": 99999}]), "assignees[0].person_id"),
    (_building_day("B-WEST", assignees=[{"user_id": 1, "role": "boss"}]), "assignees[0].role"),
    (_building_day("B-OUT"), "building_code"),
    ({**_community_day(), "title": ""}, "title"),
    (_community_day(start_time="09:00+08:00"), "start_time"),
    (_community_day(valid_from="0001-01-01"), "valid_from"),
])
def test_a_bad_work_day_is_refused_naming_the_field(client: TestClient, managers: dict, db: Database, body: dict,
                                                    field: str) -> None:
    response = client.post("/api/workdays", json=body, headers=managers["admin"])
    assert response.status_code == 422, response.text
    answer = response.json()
    assert field in answer["detail"] or answer.get("details", {}).get("field") == field, answer
    assert _rows(db, "SELECT count(*) FROM work_day") == [(0,)]


# -- counts ---------------------------------------------------------------------------------------------


def test_the_summary_counts_households_visited_per_grid_and_person(client: TestClient, managers: dict,
                                                                    db: Database) -> None:
    west = managers["worker-west"]
    for building, reached in (("B-WEST", 4), ("B-WEST", 8), ("B-EDGE", 5)):
        assert _visit(client, west, building_code=building, households_reached=reached).status_code == 201
    assert _visit(client, managers["street-1"], building_code="B-EAST", households_reached=20).status_code == 201
    old = datetime.now(UTC) - timedelta(days=400)
    with db.session() as session:  # a visit of another cycle counts nowhere in this one
        session.execute(text("INSERT INTO visit (building_id, user_id, visited_at, households_reached, note, "
                             "district_code) SELECT id, :u, :at, 30, '', district_code FROM building "
                             "WHERE code = 'B-CORNER'"),
                        {"u": _user_id(db, "worker-west"), "at": old})
    summary = client.get("/api/visits/summary", headers=managers["admin"]).json()
    grids = {g["grid_code"]: g for g in summary["grids"]}
    assert {k: grids[drawn.WEST_CODE][k] for k in ("buildings", "households", "buildings_visited",
                                                   "households_visited", "visits")} == {
        "buildings": 3, "households": 80, "buildings_visited": 2, "households_visited": 10 + 5, "visits": 3}
    assert grids[drawn.WEST_CODE]["coverage"] == round(15 / 80, 4)
    assert (grids[drawn.EAST_CODE]["households_visited"], grids[drawn.EAST_CODE]["coverage"]) == (20, 1.0)
    people = {p["username"]: p for p in summary["people"]}
    assert {k: people["worker-west"][k] for k in ("visits", "buildings_visited", "households_visited")} == {
        "visits": 3, "buildings_visited": 2, "households_visited": 15}
    assert people["street-1"]["households_visited"] == 20
    # A worker sees their own grid only, and only the visits made there.
    mine = client.get("/api/visits/summary", headers=west).json()
    assert [g["grid_code"] for g in mine["grids"]] == [drawn.WEST_CODE]
    assert [p["username"] for p in mine["people"]] == ["worker-west"]
    assert client.get("/api/visits/summary", headers=managers["street-2"]).json()["grids"] == []
    bad = client.get("/api/visits/summary", params={"period": "last year"}, headers=west)
    assert bad.status_code == 422 and bad.json()["details"]["period"] == "last year"


def test_a_recorded_visit_counts_in_the_walls_visit_coverage(client: TestClient, managers: dict,
                                                              db: Database) -> None:
    def unvisited() -> int:
        with db.session() as session:
            rows = grid_measures(session, parse_period("30d"))
        return next(r["unvisited"] for r in rows if r["code"] == drawn.WEST_CODE)

    assert unvisited() == 3
    _visit(client, managers["worker-west"], building_code="B-WEST")
    _visit(client, managers["worker-west"], building_code="B-EDGE")
    assert unvisited() == 1
