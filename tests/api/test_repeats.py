"""Repeats, duplicates, the explained outcome, local resolution and long-standing problems through the API, on
the hand-drawn places (tests/drawn.py): every figure is counted by hand from the cases each test makes."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis import ledger
from gis.ledger.scope import LedgerScope, ScopeLevel
from gis.periods import district_today, period_between
from gis.permissions import Actor
from gis.store.database import Database
from gis.store.ledger import ledger_cases
from gis.store.measures import grid_measures
from gis.store.vocabulary import LOCAL_RESOLUTION_SQL, SOLVED_OUTCOME_SQL
from tests import drawn

AT_B_WEST = {"lon": 106.505, "lat": 29.555}  # building B-WEST
NEAR_B_WEST = {"lon": 106.5051, "lat": 29.5551}  # about 14 m away: B-WEST is still its nearest building
FAR_IN_WEST = {"lon": 106.502, "lat": 29.558}  # the west grid, about 450 m from B-WEST
ADMIN = Actor("admin", "admin")


def report(client: TestClient, headers: dict[str, str], **fields: object) -> dict:
    body = {"source": "hotline", "category": "neighbour_dispute", "description": "楼上噪音", **AT_B_WEST, **fields}
    answer = client.post("/api/cases", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def act(client: TestClient, headers: dict[str, str], case_id: int, action: str, **extra: object):  # noqa: ANN201
    return client.post(f"/api/cases/{case_id}/actions", json={"action": action, **extra}, headers=headers)


def walk(client: TestClient, headers: dict[str, str], case_id: int, *actions: str) -> None:
    for action in actions:
        answer = act(client, headers, case_id, action)
        assert answer.status_code == 200, answer.text


TO_HANDLING = ("file", "dispatch", "accept")


def _period():  # noqa: ANN202
    today = district_today()
    return period_between(today - timedelta(days=1), today + timedelta(days=40))


def _west(db: Database) -> dict:
    with db.session() as session:
        return {row["code"]: row for row in grid_measures(session, _period())}[drawn.WEST_CODE]


# -- duplicates: offered when filed, merged with the reporter told ---------------------------------------


def test_two_reports_at_one_building_are_offered_as_duplicates_and_merged(
        client: TestClient, users: dict, db: Database) -> None:
    first = report(client, users["centre"], reporter_name="张三", reporter_contact="13800001111")
    assert first["similar"] == []
    other_category = report(client, users["centre"], category="complaint")
    second = report(client, users["centre"], **NEAR_B_WEST, reporter_name="李四", reporter_contact="13900002222")
    offered = second["similar"]
    assert [(s["case"]["id"], s["suggestion"], s["reasons"]) for s in offered] == [
        (first["id"], "duplicate", ["same_building"])]
    assert 10 < offered[0]["distance_m"] < 20
    assert offered[0]["case"]["reporter"] == {"name": "张三", "contact": "13800001111"}  # the centre sees it
    assert other_category["id"] not in [s["case"]["id"] for s in offered]
    assert client.get(f"/api/cases/{second['id']}/similar", headers=users["centre"]).json() == offered

    # Merging through the workflow endpoint is refused: the merge names the case it duplicates.
    assert act(client, users["centre"], second["id"], "merge", reason="重复").status_code == 422
    assert client.post(f"/api/cases/{second['id']}/merge", json={"into": first["id"], "message": "x"},
                       headers=users["worker-west"]).status_code == 403  # a desk decision
    message = f"您反映的问题已并入案件{first['id']}办理，办结后一并答复"
    merged = client.post(f"/api/cases/{second['id']}/merge", json={"into": first["id"], "message": message},
                         headers=users["centre"])
    assert merged.status_code == 200, merged.text
    case = merged.json()
    assert (case["status"], case["outcome"], case["merged_into"], case["status_category"]) == (
        "merged", "merged", first["id"], "closed")
    assert case["timestamps"]["merged_at"] is not None and case["timestamps"]["closed_at"] is None
    events = client.get(f"/api/cases/{second['id']}/events", headers=users["centre"]).json()
    told = [e for e in events if e["action"] == "merge"]
    assert len(told) == 1 and told[0]["note"] == message
    assert told[0]["data"] == {"merged_into": first["id"], "reporter_informed": True, "message": message}
    master = client.get(f"/api/cases/{first['id']}/events", headers=users["centre"]).json()
    assert [e["data"] for e in master if e["action"] == "merged_in"] == [{"duplicate": second["id"]}]
    # A merged case is final and is never offered again; the master stays open.
    again = client.post(f"/api/cases/{second['id']}/merge", json={"into": first["id"], "message": message},
                        headers=users["centre"])
    assert again.status_code == 409
    third = report(client, users["centre"])
    assert [s["case"]["id"] for s in third["similar"]] == [first["id"]]

    # The duplicate is no case of its own: the west grid reported 3 (first, other, third), not 4.
    assert _west(db)["reported"] == 3


def test_merge_refuses_a_closed_target_and_itself(client: TestClient, users: dict) -> None:
    done = report(client, users["admin"])
    walk(client, users["admin"], done["id"], *TO_HANDLING, "handle", "verify")
    later = report(client, users["admin"])
    assert [(s["case"]["id"], s["suggestion"]) for s in later["similar"]] == [(done["id"], "repeat")]
    into_closed = client.post(f"/api/cases/{later['id']}/merge", json={"into": done["id"], "message": "x"},
                              headers=users["admin"])
    assert into_closed.status_code == 409 and "link case" in into_closed.json()["detail"]
    itself = client.post(f"/api/cases/{later['id']}/merge", json={"into": later["id"], "message": "x"},
                         headers=users["admin"])
    assert itself.status_code == 422
    missing = client.post(f"/api/cases/{later['id']}/merge", json={"into": 999999, "message": "x"},
                          headers=users["admin"])
    assert missing.status_code == 404
    open_one = report(client, users["admin"], **NEAR_B_WEST)
    blank = client.post(f"/api/cases/{later['id']}/merge", json={"into": open_one["id"], "message": "  "},
                        headers=users["admin"])
    assert blank.status_code == 422 and "merge requires a reason" in blank.json()["detail"]
    assert client.get(f"/api/cases/{later['id']}", headers=users["admin"]).json()["status"] == "reported"


# -- repeats: linked, counted in the grid's repeat rate ----------------------------------------------------


def test_a_repeat_is_linked_and_the_grids_repeat_rate_is_known_by_hand(
        client: TestClient, users: dict, db: Database) -> None:
    fixed = report(client, users["admin"], category="exposed_rubbish")
    walk(client, users["admin"], fixed["id"], *TO_HANDLING, "handle", "verify")
    again = report(client, users["admin"], category="exposed_rubbish", **NEAR_B_WEST)
    assert [(s["case"]["id"], s["suggestion"], s["reasons"]) for s in again["similar"]] == [
        (fixed["id"], "repeat", ["nearby"])]
    elsewhere = report(client, users["admin"], category="exposed_rubbish", **FAR_IN_WEST)
    assert elsewhere["similar"] == []  # 450 m off: not the same spot
    report(client, users["admin"], category="policy_consultation", **FAR_IN_WEST)

    later_to_earlier = client.post(f"/api/cases/{fixed['id']}/repeat-of", json={"of": again["id"]},
                                   headers=users["admin"])
    assert later_to_earlier.status_code == 422  # the later report is linked to the earlier one
    assert client.post(f"/api/cases/{again['id']}/repeat-of", json={"of": fixed["id"]},
                       headers=users["worker-west"]).status_code == 403
    linked = client.post(f"/api/cases/{again['id']}/repeat-of", json={"of": fixed["id"], "note": "又堆了"},
                         headers=users["street-1"])
    assert linked.status_code == 200, linked.text
    assert (linked.json()["repeat_of"], linked.json()["status"]) == (fixed["id"], "reported")  # kept open
    twice = client.post(f"/api/cases/{again['id']}/repeat-of", json={"of": fixed["id"]}, headers=users["admin"])
    assert twice.status_code == 409
    assert client.post(f"/api/cases/{again['id']}/repeat-of", json={"of": fixed["id"]},
                       headers=users["street-2"]).status_code == 403  # another street's officer

    west = _west(db)
    # Reported in the west grid: fixed, again, elsewhere, the consultation = 4; repeats: again = 1.
    assert (west["repeats"], west["reported"], west["repeat_rate"]) == (1, 4, 0.25)
    layer = client.get("/api/layers/measures", headers=users["admin"]).json()
    assert {"repeat_rate", "explained_share", "local_share"} <= {m["key"] for m in layer}


# -- explained: closed, told why and when, not solved --------------------------------------------------------


def test_an_explained_case_does_not_count_as_solved(client: TestClient, users: dict, db: Database) -> None:
    solved = report(client, users["admin"], category="complaint")
    explained = report(client, users["admin"], category="property_management_dispute", **FAR_IN_WEST)
    walk(client, users["admin"], solved["id"], *TO_HANDLING, "handle", "verify")
    walk(client, users["admin"], explained["id"], "file", "dispatch")
    walk(client, users["worker-west"], explained["id"], "accept")
    expected_by = (district_today() + timedelta(days=90)).isoformat()
    no_date = act(client, users["worker-west"], explained["id"], "explain", reason="需业主大会表决后维修")
    assert no_date.status_code == 422 and "expected date" in no_date.json()["detail"]
    past = act(client, users["worker-west"], explained["id"], "explain", reason="x",
               expected_by=(district_today() - timedelta(days=1)).isoformat())
    assert past.status_code == 422
    assert act(client, users["worker-west"], explained["id"], "explain", expected_by=expected_by).status_code == 422
    told = act(client, users["worker-west"], explained["id"], "explain", reason="需业主大会表决后维修",
               expected_by=expected_by)
    assert told.status_code == 200, told.text
    assert (told.json()["status"], told.json()["outcome"], told.json()["expected_by"]) == (
        "handled", "explained", expected_by)
    assert told.json()["explanation"] == "需业主大会表决后维修"
    walk(client, users["admin"], explained["id"], "verify")
    assert act(client, users["admin"], explained["id"], "explain", reason="x",
               expected_by=expected_by).status_code == 409  # closed: nothing to explain now

    west = _west(db)
    # Both are due (closed, deadlines inside the period) and closed; one solved, one explained.
    assert (west["due"], west["closed"], west["solved"], west["explained"]) == (2, 2, 1, 1)
    assert (west["closure_rate"], west["explained_share"]) == (0.5, 0.5)
    assert west["on_time_rate"] == 0.5

    with db.session() as session:
        rows = ledger_cases(session, LedgerScope(ScopeLevel.grid, drawn.WEST_CODE), _period(), ADMIN)
    summary = ledger.summarise(rows)
    assert (summary.closed, summary.solved, summary.explained) == (2, 1, 1)
    assert summary.rate("filed_closure_rate") == 0.5


# -- local resolution (矛盾不上交) ---------------------------------------------------------------------------


def test_local_resolution_share_by_hand(client: TestClient, users: dict, db: Database) -> None:
    local = report(client, users["admin"], category="exposed_rubbish")
    escalated = report(client, users["admin"], category="sidewalk_clutter", **FAR_IN_WEST)
    owner = report(client, users["admin"], category="street_light_out", **FAR_IN_WEST)  # to its owner first
    sent_up = report(client, users["admin"], category="complaint", **FAR_IN_WEST)
    still_open = report(client, users["admin"], category="noise_complaint", **FAR_IN_WEST)
    for case in (local, escalated, owner):
        walk(client, users["admin"], case["id"], *TO_HANDLING, "handle", "verify")
    walk(client, users["admin"], sent_up["id"], "file")
    assert act(client, users["admin"], sent_up["id"], "dispatch", department="区住建委").status_code == 200
    walk(client, users["admin"], sent_up["id"], "accept", "handle", "verify")
    walk(client, users["admin"], still_open["id"], *TO_HANDLING)
    with db.session() as session:  # as the sweeper would mark it
        session.execute(text("UPDATE service_case SET escalated_at = now() WHERE id = :id"), {"id": escalated["id"]})

    west = _west(db)
    # Closed in the period: 4; without a department or an escalation: the rubbish only.
    assert (west["closed_in_period"], west["closed_locally"], west["local_share"]) == (4, 1, 0.25)


def test_the_measures_sql_says_what_the_vocabulary_says() -> None:
    sql = (resources.files("gis") / "sql" / "measures_units.sql").read_text(encoding="utf-8")
    assert f"{SOLVED_OUTCOME_SQL} AS solves" in sql
    assert f"{LOCAL_RESOLUTION_SQL} AS local" in sql
    assert "c.status <> 'merged'" in sql


# -- who sees what --------------------------------------------------------------------------------------------


def test_similar_cases_respect_reading_rights_and_personal_data(client: TestClient, users: dict) -> None:
    first = report(client, users["centre"], category="complaint", reporter_name="张三",
                   reporter_contact="13800001111")
    second = report(client, users["centre"], category="policy_consultation", reporter_name="张三",
                    reporter_contact="+86 138-0000-1111", **FAR_IN_WEST)
    assert [(s["case"]["id"], s["reasons"]) for s in second["similar"]] == [(first["id"], ["same_reporter"])]
    # The planner reads cases masked, so is not told which reports share a phone.
    assert client.get(f"/api/cases/{second['id']}/similar", headers=users["planner"]).json() == []
    assert client.get(f"/api/cases/{second['id']}/similar", headers=users["worker-east"]).status_code == 403
    duplicate = report(client, users["centre"], category="complaint", **NEAR_B_WEST)
    for reader in ("planner", "worker-west"):
        shown = client.get(f"/api/cases/{duplicate['id']}/similar", headers=users[reader]).json()
        assert [s["case"]["id"] for s in shown] == [first["id"]]
        person = shown[0]["case"]["reporter"]
        masked = reader == "planner"
        assert person == ({"name": "张**", "contact": "138****1111"} if masked else
                          {"name": "张三", "contact": "13800001111"})
    # A worker reporting in another grid is offered only what they may read.
    east_report = report(client, users["worker-east"], category="complaint", **NEAR_B_WEST)
    assert east_report["similar"] == []


# -- long-standing problems ----------------------------------------------------------------------------------


def test_long_standing_problems_owner_review_date_overdue_first(client: TestClient, users: dict) -> None:
    today = district_today()
    case = report(client, users["centre"])
    body = {"title": "老旧小区加装电梯", "community_code": "500103001001", "owner_department": "区住建委",
            "review_on": (today + timedelta(days=10)).isoformat(), "case_ids": [case["id"]]}
    made = client.post("/api/long-problems", json=body, headers=users["centre"])
    assert made.status_code == 201, made.text
    soon = made.json()
    assert (soon["owner"], soon["status"], soon["case_ids"], soon["review_overdue"]) == (
        "区住建委", "open", [case["id"]], False)
    late = client.post("/api/long-problems", json={
        "title": "背街小巷积水", "grid_code": drawn.WEST_CODE, "owner_username": "street-1",
        "review_on": (today - timedelta(days=3)).isoformat()}, headers=users["street-1"]).json()
    assert (late["community_code"], late["review_overdue"], late["owner"]) == ("500103001001", True, "street-1")

    listed = client.get("/api/long-problems", headers=users["centre"]).json()["items"]
    assert [p["id"] for p in listed] == [late["id"], soon["id"]]
    changed = client.patch(f"/api/long-problems/{late['id']}", json={
        "status": "resolved", "add_case_ids": [case["id"]]}, headers=users["centre"]).json()
    assert (changed["status"], changed["review_overdue"], changed["case_ids"]) == ("resolved", False, [case["id"]])
    assert [p["id"] for p in client.get("/api/long-problems", headers=users["centre"]).json()["items"]] == [
        soon["id"], late["id"]]
    # A grid worker sees the problems of their grid only; the planner reads; the intake client does not.
    assert [p["id"] for p in client.get("/api/long-problems", headers=users["worker-west"]).json()["items"]] == [
        late["id"]]
    assert len(client.get("/api/long-problems", headers=users["planner"]).json()["items"]) == 2
    assert client.get("/api/long-problems", headers=users["hotline-app"]).status_code == 403
    assert client.get("/api/long-problems", headers=users["street-2"]).json()["items"] == []
    assert client.get(f"/api/long-problems/{soon['id']}", headers=users["street-2"]).status_code == 403


@pytest.mark.parametrize(("who", "body", "status"), [
    ("worker-west", {}, 403), ("planner", {}, 403), ("street-2", {}, 403),
    ("centre", {"owner_department": None}, 422), ("centre", {"review_on": None}, 422),
    ("centre", {"status": "done"}, 422), ("centre", {"community_code": "500103009009"}, 422),
    ("centre", {"title": "  "}, 422), ("centre", {"case_ids": [999999]}, 404),
    ("centre", {"owner_department": None, "owner_username": "nobody"}, 422),
])
def test_long_problem_bad_input_and_roles_change_nothing(client: TestClient, users: dict, who: str, body: dict,
                                                         status: int) -> None:
    good = {"title": "停车难", "community_code": "500103001001", "owner_department": "街道城管科",
            "review_on": district_today().isoformat()}
    answer = client.post("/api/long-problems", json={**good, **body}, headers=users[who])
    assert answer.status_code == status, answer.text
    assert client.get("/api/long-problems", headers=users["centre"]).json()["items"] == []
