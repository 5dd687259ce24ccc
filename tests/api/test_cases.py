"""The case API on the hand-drawn places: routing, workflow, deadlines, permissions, bad input."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import prcoords
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy import text

from gis.permissions import Actor
from gis.store import cases as store
from gis.store.database import Database
from gis.workflow import TRANSITIONS, Action, CaseStatus
from tests import drawn

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEST_POINT = {"lon": 106.505, "lat": 29.555}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def report(client: TestClient, headers: dict[str, str], **overrides: object) -> dict:
    body = {"source": "hotline", "category": "exposed_rubbish", "description": "路边垃圾", **WEST_POINT, **overrides}
    response = client.post("/api/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def act(client: TestClient, headers: dict[str, str], case_id: int, action: str, **extra: object):  # noqa: ANN201
    return client.post(f"/api/cases/{case_id}/actions", json={"action": action, **extra}, headers=headers)


# -- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "point"),
    [(name, point) for name, point in drawn.BUILDINGS.items()],
)
def test_routing_interior_boundary_outside(client: TestClient, users: dict, name: str, point) -> None:  # noqa: ANN001
    case = report(client, users["centre"], lon=point.x, lat=point.y)
    assert case["grid_code"] == drawn.EXPECTED_GRID[name]
    assert case["routed"] is (drawn.EXPECTED_GRID[name] is not None)
    if case["grid_code"] == drawn.WEST_CODE:
        assert case["team"] == "西网格服务团队" and case["branch"] == "西网格党支部"


def test_unrouted_case_is_kept_queued_and_routed_by_hand(client: TestClient, users: dict) -> None:
    case = report(client, users["centre"], lon=106.53, lat=29.555)
    queue = client.get("/api/cases", params={"unrouted": "true"}, headers=users["centre"]).json()
    assert [c["id"] for c in queue["items"]] == [case["id"]]
    # Dispatch needs a grid first; a worker may not route by hand; the command centre may.
    act(client, users["centre"], case["id"], "file")
    assert act(client, users["centre"], case["id"], "dispatch").status_code == 422
    forbidden = client.post(f"/api/cases/{case['id']}/route", json={"grid_code": drawn.EAST_CODE},
                            headers=users["worker-east"])
    assert forbidden.status_code == 403
    routed = client.post(f"/api/cases/{case['id']}/route", json={"grid_code": drawn.EAST_CODE},
                         headers=users["centre"]).json()
    assert routed["grid_code"] == drawn.EAST_CODE and routed["status"] == "filed"
    assert client.get("/api/cases", params={"unrouted": "true"}, headers=users["centre"]).json()["items"] == []


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_shifted_coordinates_are_converted(client: TestClient, users: dict, system: str) -> None:
    # A WGS84 point 150 m west of the shared edge; the GCJ-02/BD-09 shift here is about 500 m east, so
    # a case stored without conversion would land in the east grid.
    wgs = prcoords.Coords(29.555, 106.5085)
    shifted = prcoords.wgs_gcj(wgs) if system == "gcj02" else prcoords.gcj_bd(prcoords.wgs_gcj(wgs))
    case = report(client, users["centre"], lon=shifted.lon, lat=shifted.lat, crs=system)
    _, _, metres = Geod(ellps="WGS84").inv(case["position"]["lon"], case["position"]["lat"], 106.5085, 29.555)
    assert metres < 1.0
    assert case["given_position"] == {"crs": system, "lon": shifted.lon, "lat": shifted.lat}
    assert case["grid_code"] == drawn.WEST_CODE


# -- workflow -------------------------------------------------------------------------------------


def _extra_for(action: Action) -> dict[str, str]:
    if action in (Action.decline, Action.reject, Action.reassign, Action.merge):
        return {"reason": "测试原因"}
    if action == Action.explain:
        return {"reason": "测试原因", "expected_by": "2099-12-31"}
    if action == Action.evaluate_satisfied:
        return {"satisfaction": "satisfied"}
    if action == Action.evaluate_unsatisfied:
        return {"satisfaction": "unsatisfied"}
    return {}


@pytest.mark.parametrize("status", list(CaseStatus))
def test_every_status_action_pair(client: TestClient, users: dict, db: Database, status: CaseStatus) -> None:
    """Allowed moves succeed to the table's target; every other answers 409, names the allowed ones and
    changes nothing (status, timestamps and the ledger stay as they were)."""
    for action in Action:
        case = report(client, users["centre"])
        with db.session() as session:
            session.execute(text("UPDATE service_case SET status = :s, merged_into = CASE WHEN :merged THEN id END "
                                 "WHERE id = :id"),
                            {"s": status.value, "merged": status is CaseStatus.merged, "id": case["id"]})
        before = client.get(f"/api/cases/{case['id']}", headers=users["admin"]).json()
        events_before = client.get(f"/api/cases/{case['id']}/events", headers=users["admin"]).json()
        response = act(client, users["admin"], case["id"], action.value, **_extra_for(action))
        expected = TRANSITIONS.get((status, action))
        if expected is not None and action == Action.merge:  # a merge names its case: POST …/merge
            assert response.status_code == 422 and "/merge" in response.json()["detail"], response.text
            assert client.get(f"/api/cases/{case['id']}", headers=users["admin"]).json() == before
            continue
        if expected is None:
            assert response.status_code == 409, (status, action, response.text)
            body = response.json()
            assert body["details"]["current"] == status.value
            assert status.value in body["detail"]
            after = client.get(f"/api/cases/{case['id']}", headers=users["admin"]).json()
            assert after == before
            assert client.get(f"/api/cases/{case['id']}/events", headers=users["admin"]).json() == events_before
        else:
            assert response.status_code == 200, (status, action, response.text)
            assert response.json()["status"] == expected.value


def test_full_life_with_rework_and_ledger_replay(client: TestClient, users: dict) -> None:
    case = report(client, users["hotline-app"], reporter_name="张三", reporter_contact="13900000000")
    cid = case["id"]
    steps = [
        ("centre", "file", {}), ("centre", "dispatch", {}), ("worker-west", "accept", {}),
        ("worker-west", "handle", {"note": "已清理", **WEST_POINT}), ("centre", "reject", {"reason": "未清理干净"}),
        ("worker-west", "accept", {}), ("worker-west", "handle", {}), ("centre", "verify", {}),
        ("centre", "evaluate_satisfied", {"satisfaction": "satisfied"}),
    ]
    for user, action, extra in steps:
        response = act(client, users[user], cid, action, **extra)
        assert response.status_code == 200, (action, response.text)
    final = response.json()
    assert final["status"] == "evaluated" and final["rework_count"] == 1 and final["satisfaction"] == "satisfied"
    assert final["first_contact"] == "hotline-app"
    assert final["timestamps"]["first_action_at"] == final["timestamps"]["dispatched_at"]
    events = client.get(f"/api/cases/{cid}/events", headers=users["admin"]).json()
    # The ledger alone rebuilds the status: replay every workflow event through the transition table.
    status = CaseStatus.reported
    for event in events[1:]:
        status = TRANSITIONS[(status, Action(event["action"]))]
        assert event["to_status"] == status.value
    assert status.value == final["status"]
    assert [e["actor"] for e in events][:3] == ["hotline-app", "centre", "centre"]
    handled = next(e for e in events if e["action"] == "handle")
    assert handled["position"] == WEST_POINT and "已清理" in handled["note"]


def test_reassign_moves_grid_and_team_and_says_so(client: TestClient, users: dict) -> None:
    case = report(client, users["centre"])
    act(client, users["centre"], case["id"], "file")
    moved = act(client, users["centre"], case["id"], "reassign", reason="属东网格", grid_code=drawn.EAST_CODE).json()
    assert moved["grid_code"] == drawn.EAST_CODE and moved["team"] is None and moved["status"] == "dispatched"
    event = client.get(f"/api/cases/{case['id']}/events", headers=users["admin"]).json()[-1]
    assert event["data"] == {"from_grid": drawn.WEST_CODE, "to_grid": drawn.EAST_CODE}


# -- deadlines on the work calendar ------------------------------------------------------------------


def _dispatch_at(db: Database, category: str, when: datetime) -> datetime:
    admin = Actor("admin", "admin")
    with db.session() as session:
        data = store.CaseInput(source="patrol", category_code=category, **WEST_POINT)
        case_id, _ = store.create_case(session, data, admin, now=when - timedelta(minutes=30))
        store.apply_action(session, case_id, store.ActionInput("file"), admin, now=when - timedelta(minutes=10))
        store.apply_action(session, case_id, store.ActionInput("dispatch"), admin, now=when)
        return session.execute(text("SELECT deadline FROM service_case WHERE id = :id"), {"id": case_id}).scalar_one()


def test_deadline_across_a_weekend(client: TestClient, db: Database) -> None:
    # Exposed rubbish: 4 working hours. Friday 2026-03-06 16:00 → 1.5 h that day (to 17:30),
    # then Monday 09:00–11:30 for the other 2.5 h.
    deadline = _dispatch_at(db, "exposed_rubbish", datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI))
    assert deadline == datetime(2026, 3, 9, 11, 30, tzinfo=SHANGHAI)


def test_deadline_across_a_configured_holiday_and_makeup_day(client: TestClient, db: Database) -> None:
    # Configure Monday 2026-03-09 as a holiday and Saturday 2026-03-07 as a make-up working day:
    # Friday 16:00 → 1.5 h Friday, then Saturday 09:00–11:30.
    with db.session() as session:
        session.execute(text("INSERT INTO calendar_day (day, kind, name) VALUES "
                             "('2026-03-09', 'holiday', '测试假日'), ('2026-03-07', 'workday', '测试调休')"))
    deadline = _dispatch_at(db, "exposed_rubbish", datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI))
    assert deadline == datetime(2026, 3, 7, 11, 30, tzinfo=SHANGHAI)
    # Without the make-up day, the holiday Monday is skipped too: Tuesday 11:30.
    with db.session() as session:
        session.execute(text("DELETE FROM calendar_day WHERE day = '2026-03-07'"))
    deadline = _dispatch_at(db, "exposed_rubbish", datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI))
    assert deadline == datetime(2026, 3, 10, 11, 30, tzinfo=SHANGHAI)


def test_deadline_emergency_counts_clock_hours(client: TestClient, db: Database) -> None:
    emergency = next(c["code"] for c in client.get("/api/categories").json() if c["emergency"])
    deadline = _dispatch_at(db, emergency, datetime(2026, 3, 7, 23, 0, tzinfo=SHANGHAI))  # a Saturday night
    assert deadline == datetime(2026, 3, 8, 1, 0, tzinfo=SHANGHAI)


def test_overdue_cases_are_flagged_then_escalated_by_the_sweeper(client: TestClient, users: dict, db: Database) -> None:
    start = datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI)
    _dispatch_at(db, "exposed_rubbish", start)  # due Monday 11:30
    with db.session() as session:
        early = store.sweep_overdue(session, now=datetime(2026, 3, 9, 11, 0, tzinfo=SHANGHAI),
                                    escalation_grace=timedelta(hours=24))
        late = store.sweep_overdue(session, now=datetime(2026, 3, 9, 12, 0, tzinfo=SHANGHAI),
                                   escalation_grace=timedelta(hours=24))
        again = store.sweep_overdue(session, now=datetime(2026, 3, 9, 13, 0, tzinfo=SHANGHAI),
                                    escalation_grace=timedelta(hours=24))
        escalated = store.sweep_overdue(session, now=datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI),
                                        escalation_grace=timedelta(hours=24))
    assert early == {"supervised": 0, "escalated": 0}
    assert late == {"supervised": 1, "escalated": 0}
    assert again == {"supervised": 0, "escalated": 0}
    assert escalated == {"supervised": 0, "escalated": 1}
    case = client.get("/api/cases", params={"overdue": "true"}, headers=users["centre"]).json()["items"][0]
    assert case["supervised_at"] and case["escalated_at"] and case["overdue"]
    actions = [e["action"] for e in client.get(f"/api/cases/{case['id']}/events", headers=users["admin"]).json()]
    assert actions[-2:] == ["supervise", "escalate"]


# -- idempotency, photos ----------------------------------------------------------------------------


def test_retry_with_the_same_idempotency_key_creates_one_case(client: TestClient, users: dict, db: Database) -> None:
    body = {"source": "resident", "category": "exposed_rubbish", **WEST_POINT}
    first = client.post("/api/cases", json=body, headers={**users["hotline-app"], "Idempotency-Key": "abc-1"})
    again = client.post("/api/cases", json=body, headers={**users["hotline-app"], "Idempotency-Key": "abc-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM service_case")).scalar_one() == 1


def test_photo_round_trip(client: TestClient, users: dict) -> None:
    case = report(client, users["centre"], photos=[{"content_type": "image/png",
                                                     "data_base64": base64.b64encode(PNG).decode()}])
    assert len(case["photos"]) == 1
    got = client.get(f"/api/cases/{case['id']}/photos/{case['photos'][0]}", headers=users["centre"])
    assert got.content == PNG and got.headers["content-type"] == "image/png"
    upload = client.post(f"/api/cases/{case['id']}/photos", files={"file": ("x.png", PNG, "image/png")},
                         headers=users["worker-west"])
    assert upload.status_code == 201


# -- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "status", "words"),
    [
        ({"lon": None, "lat": None}, 422, "position is required"),
        ({"lon": 2.35, "lat": 48.85}, 422, "China"),
        ({"lon": 29.555, "lat": 106.505}, 422, "swapped"),
        ({"category": "no_such_thing"}, 422, "unknown category"),
        ({"source": "pigeon"}, 422, "source"),
        ({"crs": "mars"}, 422, "gcj02"),
        ({"lon": "east"}, 422, "lon"),
        ({"photos": [{"content_type": "image/png", "data_base64": base64.b64encode(
            b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024)).decode()}]}, 413, "limit is 5 MiB"),
        ({"photos": [{"content_type": "application/pdf", "data_base64": "AAAA"}]}, 422, "not allowed"),
        ({"unexpected": 1}, 422, "unexpected"),
    ],
)
def test_bad_input_names_the_problem_and_changes_nothing(
    client: TestClient, users: dict, db: Database, overrides: dict, status: int, words: str
) -> None:
    body = {"source": "hotline", "category": "exposed_rubbish", **WEST_POINT, **overrides}
    response = client.post("/api/cases", json=body, headers=users["centre"])
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM service_case")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM case_event")).scalar_one() == 0


# -- who may do what --------------------------------------------------------------------------------------


def test_no_key_or_bad_key_is_401(client: TestClient) -> None:
    assert client.get("/api/cases").status_code == 401
    assert client.get("/api/cases", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/api/cases", json={}).status_code in (401, 422)


def test_roles_read_and_act_within_their_scope(client: TestClient, users: dict) -> None:
    west = report(client, users["centre"])
    east = report(client, users["centre"], lon=106.515)
    for user, can_read_west in [("admin", True), ("centre", True), ("planner", True), ("worker-west", True),
                                ("worker-east", False), ("street-1", True), ("street-2", False),
                                ("hotline-app", False)]:
        status = client.get(f"/api/cases/{west['id']}", headers=users[user]).status_code
        assert status == (200 if can_read_west else 403), user
    listed = client.get("/api/cases", headers=users["worker-east"]).json()
    assert [c["id"] for c in listed["items"]] == [east["id"]]
    # Asking for the west grid, a worker of the east grid finds nothing: their area applies on top.
    asked = client.get("/api/cases", params={"grid": drawn.WEST_CODE}, headers=users["worker-east"]).json()
    assert asked["items"] == [] and asked["numberMatched"] == 0
    # Desk actions: the command centre and the street officer of the street, not workers or planners.
    assert act(client, users["worker-west"], west["id"], "file").status_code == 403
    assert act(client, users["planner"], west["id"], "file").status_code == 403
    assert act(client, users["street-2"], west["id"], "file").status_code == 403
    assert act(client, users["street-1"], west["id"], "file").status_code == 200
    assert act(client, users["centre"], west["id"], "dispatch").status_code == 200
    # Field actions: only the worker of the case's grid.
    assert act(client, users["worker-east"], west["id"], "accept").status_code == 403
    assert act(client, users["centre"], west["id"], "accept").status_code == 403
    assert act(client, users["worker-west"], west["id"], "accept").status_code == 200
    # Planners report nothing.
    planner = client.post("/api/cases", json={"source": "patrol", "category": "exposed_rubbish", **WEST_POINT},
                          headers=users["planner"])
    assert planner.status_code == 403
