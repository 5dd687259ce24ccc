"""Liaisons (联络员) through the API, on the hand-drawn district (tests/drawn.py): street 500103001 with
community 500103001001 and its WEST and EAST grids. Assignments are dated; a grid with no liaison on a day
is a gap; the grid's card and its escalated cases name the liaison of that day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis.permissions import Actor
from gis.store import cases as store
from gis.store.database import Database
from gis.workcalendar import SHANGHAI
from tests import drawn

WEST, EAST = drawn.WEST_CODE, drawn.EAST_CODE
COMMUNITY = "500103001001"


def _person(db: Database, name: str) -> int:
    with db.session() as session:
        return session.execute(text("INSERT INTO person (name, phone, district_code) VALUES (:n, :p, '500103') "
                                    "RETURNING id"), {"n": name, "p": "02363000000"}).scalar_one()


def _assign(client: TestClient, headers: dict, person_id: int, codes: list[str], first: str, last: str | None = None,
            scope: str = "grid") -> object:
    return client.post("/api/liaisons", headers=headers, json={
        "person_id": person_id, "scope": scope, "codes": codes, "from_date": first, "to_date": last})


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 201), ("centre", 201), ("street-1", 201),
    ("street-2", 403), ("worker-west", 403), ("planner", 403), ("hotline-app", 403),
])
def test_who_may_assign_a_liaison(client: TestClient, users: dict, db: Database, who: str, status: int) -> None:
    cadre = _person(db, "王联络")
    answer = _assign(client, users[who], cadre, [WEST], "2026-03-01")
    assert answer.status_code == status, answer.text
    with db.session() as session:
        stored = session.execute(text("SELECT count(*) FROM liaison")).scalar_one()
    assert stored == (1 if status == 201 else 0)


def test_anonymous_callers_may_not_assign_or_read(client: TestClient, users: dict, db: Database) -> None:
    assert _assign(client, {}, _person(db, "王联络"), [WEST], "2026-03-01").status_code == 401
    assert client.get("/api/liaisons").status_code == 401
    assert client.get("/api/liaisons/gaps").status_code == 401


def test_dated_assignments_name_the_liaison_of_the_day_and_flag_the_gaps(
        client: TestClient, users: dict, db: Database) -> None:
    wang, li = _person(db, "王联络"), _person(db, "李联络")
    assert _assign(client, users["admin"], wang, [WEST], "2026-03-01", "2026-03-31").status_code == 201
    answer = _assign(client, users["street-1"], li, [COMMUNITY], "2026-03-10", scope="community")
    assert answer.status_code == 201, answer.text
    assert answer.json()["codes"] == [COMMUNITY] and answer.json()["name"] == "李联络"

    def named(grid: str, day: str) -> list[str]:
        card = client.get(f"/api/grids/{grid}", params={"on": day}, headers=users["centre"]).json()["properties"]
        assert card["no_liaison"] == (not card["liaisons"])
        return [a["name"] for a in card["liaisons"]]

    def gaps(day: str) -> list[str]:
        body = client.get("/api/liaisons/gaps", params={"on": day}, headers=users["centre"]).json()
        return [g["code"] for g in body["grids"]]

    assert named(WEST, "2026-02-28") == [] and gaps("2026-02-28") == [WEST, EAST]
    assert named(WEST, "2026-03-01") == ["王联络"] and gaps("2026-03-01") == [EAST]
    assert named(WEST, "2026-03-10") == ["王联络", "李联络"] and named(EAST, "2026-03-10") == ["李联络"]
    assert gaps("2026-03-10") == []
    assert named(WEST, "2026-04-01") == ["李联络"]
    listed = client.get("/api/liaisons", params={"on": "2026-03-15"}, headers=users["worker-west"]).json()["items"]
    assert sorted(i["name"] for i in listed) == ["李联络", "王联络"]  # the worker's grid and its community


def test_lists_stay_in_the_callers_area(client: TestClient, users: dict, db: Database) -> None:
    assert _assign(client, users["admin"], _person(db, "王联络"), [WEST], "2026-03-01").status_code == 201
    own = client.get("/api/liaisons", params={"on": "2026-03-02"}, headers=users["street-1"]).json()["items"]
    other = client.get("/api/liaisons", params={"on": "2026-03-02"}, headers=users["street-2"]).json()["items"]
    east = client.get("/api/liaisons", params={"on": "2026-03-02"}, headers=users["worker-east"]).json()["items"]
    assert [i["codes"] for i in own] == [[WEST]] and other == [] and east == []
    far = client.get("/api/liaisons/gaps", params={"on": "2026-03-02"}, headers=users["street-2"]).json()
    assert far["grids"] == []
    worker_gaps = client.get("/api/liaisons/gaps", params={"on": "2026-03-02"}, headers=users["worker-east"]).json()
    assert [g["code"] for g in worker_gaps["grids"]] == [EAST]


def test_ending_an_assignment_leaves_a_gap_after_its_last_day(client: TestClient, users: dict, db: Database) -> None:
    created = _assign(client, users["centre"], _person(db, "王联络"), [WEST], "2026-03-01").json()
    assert client.post(f"/api/liaisons/{created['id']}/end", json={"to_date": "2026-03-20"},
                       headers=users["street-2"]).status_code == 403
    assert client.post(f"/api/liaisons/{created['id']}/end", json={"to_date": "2026-02-01"},
                       headers=users["street-1"]).status_code == 422
    assert client.post(f"/api/liaisons/{created['id']}/end", json={"to_date": "2026-03-20"},
                       headers=users["street-1"]).status_code == 200
    assert client.post("/api/liaisons/999999/end", json={"to_date": "2026-03-20"},
                       headers=users["admin"]).status_code == 404
    gaps = {day: [g["code"] for g in client.get("/api/liaisons/gaps", params={"on": day},
                                                headers=users["admin"]).json()["grids"]]
            for day in ("2026-03-20", "2026-03-21")}
    assert gaps == {"2026-03-20": [EAST], "2026-03-21": [WEST, EAST]}


@pytest.mark.parametrize(("change", "problem"), [
    ({"codes": ["500103001001009"]}, "unknown"),
    ({"codes": [COMMUNITY]}, "not a grid code"),
    ({"to_date": "2026-02-01"}, "before from_date"),
    ({"person_id": 999999}, "person_id 999999 is unknown"),
    ({"person_id": None}, "give person_id or user_id"),
    ({"scope": "street"}, "scope 'street' unknown"),
    ({"from_date": "1800-01-01"}, "from_date"),
])
def test_bad_input_is_refused_by_name_and_stores_nothing(
        client: TestClient, users: dict, db: Database, change: dict, problem: str) -> None:
    body = {"person_id": _person(db, "王联络"), "scope": "grid", "codes": [WEST], "from_date": "2026-03-01", **change}
    answer = client.post("/api/liaisons", json=body, headers=users["admin"])
    assert answer.status_code == 422, answer.text
    assert problem in answer.json()["detail"]
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM liaison")).scalar_one() == 0


def test_an_escalation_names_the_liaison_of_its_grid_on_that_day(
        client: TestClient, users: dict, db: Database) -> None:
    li = _person(db, "李联络")
    assert _assign(client, users["admin"], li, [COMMUNITY], "2026-03-01", "2026-03-31",
                   scope="community").status_code == 201
    admin = Actor("admin", "admin")
    start = datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI)  # exposed rubbish: due Monday 11:30
    with db.session() as session:
        data = store.CaseInput(source="patrol", category_code="exposed_rubbish", lon=106.505, lat=29.555)
        case_id, _ = store.create_case(session, data, admin, now=start - timedelta(minutes=30))
        store.apply_action(session, case_id, store.ActionInput("file"), admin, now=start - timedelta(minutes=10))
        store.apply_action(session, case_id, store.ActionInput("dispatch"), admin, now=start)
        store.sweep_overdue(session, now=datetime(2026, 3, 9, 12, 0, tzinfo=SHANGHAI),
                            escalation_grace=timedelta(hours=24))
        store.sweep_overdue(session, now=datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI),
                            escalation_grace=timedelta(hours=24))
    events = client.get(f"/api/cases/{case_id}/events", headers=users["admin"]).json()
    escalation = next(e for e in events if e["action"] == "escalate")
    assert "李联络" in escalation["note"]
    assert [a["name"] for a in escalation["data"]["liaisons"]] == ["李联络"]


def test_an_escalation_without_a_liaison_says_so_by_an_empty_list(
        client: TestClient, users: dict, db: Database) -> None:
    admin = Actor("admin", "admin")
    start = datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI)
    with db.session() as session:
        data = store.CaseInput(source="patrol", category_code="exposed_rubbish", lon=106.515, lat=29.555)
        case_id, _ = store.create_case(session, data, admin, now=start - timedelta(minutes=30))
        store.apply_action(session, case_id, store.ActionInput("file"), admin, now=start - timedelta(minutes=10))
        store.apply_action(session, case_id, store.ActionInput("dispatch"), admin, now=start)
        for day in (9, 10):
            store.sweep_overdue(session, now=datetime(2026, 3, day, 12, 0, tzinfo=SHANGHAI),
                                escalation_grace=timedelta(hours=24))
    events = client.get(f"/api/cases/{case_id}/events", headers=users["admin"]).json()
    escalation = next(e for e in events if e["action"] == "escalate")
    assert escalation["data"]["liaisons"] == [] and "liaison" not in escalation["note"]


