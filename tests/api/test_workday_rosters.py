"""Rosters, attendance, session-tagged cases and the work-day report through the API, on the hand-drawn
district (tests/drawn.py): community 500103001001 (street 500103001) with the west grid (B-WEST 10
households, B-EDGE 30, B-CORNER 40) and the east grid (B-EAST 20). The cadres are people made here; the
report is held against counts made with plain SQL from the stored rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis.periods import district_today
from gis.store.database import Database
from gis.store.users import create_user
from gis.store.workdays import next_session
from tests import drawn

COMMUNITY = "500103001001"
CADRES = {"张干部": "区委办副主任", "李干部": "区财政局科长", "王干部": "区民政局干部", "赵干部": "区住建委干部"}
REPS = {"钱代表": "party_rep", "孙代表": "congress_rep", "周代表": "party_rep", "吴代表": "congress_rep"}
B_WEST = (106.505, 29.555)


@pytest.fixture
def managers(users: dict[str, dict[str, str]], db: Database) -> dict[str, dict[str, str]]:
    """users, a manager of the drawn community and one of another; the cadres and representatives."""
    with db.session() as session:
        create_user(session, "community-own", "community_manager", community_code=COMMUNITY, key="key-community-own")
        create_user(session, "community-other", "community_manager", community_code="500103001009",
                    key="key-community-other")
        for name in [*CADRES, *REPS]:
            session.execute(text("INSERT INTO person (name, district_code) VALUES (:n, '500103')"), {"n": name})
    return {**users, **{n: {"Authorization": f"Bearer key-{n}"} for n in ("community-own", "community-other")}}


def _rows(db: Database, sql: str, **params: object) -> list[tuple]:
    with db.session() as session:
        return [tuple(r) for r in session.execute(text(sql), params)]


def _person(db: Database, name: str) -> int:
    return _rows(db, "SELECT id FROM person WHERE name = :n", n=name)[0][0]


def _cadre(db: Database, name: str, **extra: object) -> dict[str, Any]:
    return {"person_id": _person(db, name), "role": "cadre", "title": CADRES.get(name), **extra}


def _schedule(client: TestClient, headers: dict, body: dict) -> dict[str, Any]:
    response = client.post("/api/workdays", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _assignee(work_day: dict, person_id: int | None = None, user_id: int | None = None) -> int:
    return next(a["assignee_id"] for a in work_day["assignees"]
                if (person_id is not None and a["person_id"] == person_id) or
                (user_id is not None and a["user_id"] == user_id))


def _attend(client: TestClient, headers: dict, work_day_id: int, day: date, marks: dict[int, bool]) -> Any:
    return client.put(f"/api/workdays/{work_day_id}/sessions/{day.isoformat()}/attendance", headers=headers,
                      json={"attendance": [{"assignee_id": a, "attended": came} for a, came in marks.items()]})


def _visit(client: TestClient, headers: dict, building: str, work_day_id: int, day: date, households: int,
           problems: list[str]) -> dict[str, Any]:
    response = client.post("/api/visits", headers=headers, json={
        "building_code": building, "households_reached": households, "work_day_id": work_day_id,
        "visited_at": f"{day.isoformat()}T10:00:00+08:00", "problems": problems})
    assert response.status_code == 201, response.text
    return response.json()


def _tagged_case(client: TestClient, headers: dict, wd: int, on: date, **extra: object) -> Any:
    """POST /api/cases tagged to the session `on` of work day `wd` (`extra` overrides the body's fields)."""
    return client.post("/api/cases", headers=headers, json={
        "source": "work_day_visit", "category": "exposed_rubbish", "lon": B_WEST[0], "lat": B_WEST[1],
        "work_day_id": wd, "session_date": on.isoformat(), **extra})


def _report(client: TestClient, headers: dict, first: date, last: date, **params: str) -> Any:
    return client.get("/api/workdays/report", headers=headers,
                      params={"from": first.isoformat(), "to": last.isoformat(), **params})


# -- a session with three cadres and one absentee --------------------------------------------------------------


def test_a_session_with_three_cadres_and_one_absentee(client: TestClient, managers: dict, db: Database) -> None:
    day = district_today() - timedelta(days=2)
    worker = _rows(db, "SELECT id FROM app_user WHERE username = 'worker-west'")[0][0]
    work_day = _schedule(client, managers["admin"], {
        "scope": "building", "building_code": "B-WEST", "title": "楼栋工作日", "place": "一号楼门口",
        "date": day.isoformat(), "start_time": "09:00", "end_time": "11:30",
        "assignees": [_cadre(db, "张干部"), _cadre(db, "李干部"), _cadre(db, "王干部"),
                      {"user_id": worker, "role": "worker"}]})
    ids = {name: _assignee(work_day, _person(db, name)) for name in ("张干部", "李干部", "王干部")}
    marks = {ids["张干部"]: True, ids["李干部"]: True, ids["王干部"]: False, _assignee(work_day, user_id=worker): True}
    recorded = _attend(client, managers["street-1"], work_day["id"], day, marks)
    assert recorded.status_code == 200, recorded.text
    assert [(p["name"], p["title"], p["attended"]) for p in recorded.json()["people"]] == [
        ("张干部", "区委办副主任", True), ("李干部", "区财政局科长", True), ("王干部", "区民政局干部", False),
        ("worker-west", None, True)]
    assert recorded.json()["present"] == 3

    # Two visits at the building (6 + 7 households reached, capped at its 10) and a problem posted directly.
    first = _visit(client, managers["worker-west"], "B-WEST", work_day["id"], day, 6, ["楼道灯坏了"])
    _visit(client, managers["worker-west"], "B-WEST", work_day["id"], day, 7, [])
    posted = _tagged_case(client, managers["street-1"], work_day["id"], day)
    assert posted.status_code == 201, posted.text
    assert _rows(db, "SELECT id, work_day_id, session_date, source FROM service_case ORDER BY id") == [
        (first["cases"][0]["id"], work_day["id"], day, "work_day_visit"),
        (posted.json()["id"], work_day["id"], day, "work_day_visit")]
    assert _rows(db, "SELECT session_date FROM visit") == [(day,), (day,)]

    report = _report(client, managers["street-1"], day, day)
    assert report.status_code == 200, report.text
    body = report.json()
    assert {k: body[k] for k in ("sessions_scheduled", "sessions_held", "attendances", "cadre_attendances",
                                 "households_visited", "problems_raised", "problems_solved", "problems_open",
                                 "evaluated", "satisfaction")} == {
        "sessions_scheduled": 1, "sessions_held": 1, "attendances": 3, "cadre_attendances": 2,
        "households_visited": 10, "problems_raised": 2, "problems_solved": 0, "problems_open": 2, "evaluated": 0,
        "satisfaction": None}
    cadres = body["cadres"]
    assert (cadres["cadres_scheduled"], cadres["came_regularly"], cadres["never_came"]) == (3, 0, 1)
    assert [(n["name"], n["title"]) for n in cadres["never"]] == [("王干部", "区民政局干部")]
    audited = _rows(db, "SELECT username, detail->>'what', detail->'ids' FROM audit_log WHERE kind = 'personal_read' "
                        "AND detail->>'what' = 'cadre'")
    assert audited == [("street-1", "cadre", [cadres["never"][0]["key"]])]  # a named cadre is a personal read
    # A mark given again replaces the first: 王干部 came after all.
    assert _attend(client, managers["street-1"], work_day["id"], day, {ids["王干部"]: True}).status_code == 200
    assert _report(client, managers["admin"], day, day).json()["cadres"]["never"] == []
    assert _rows(db, "SELECT count(*) FROM work_day_attendance") == [(4,)]


# -- rotation ------------------------------------------------------------------------------------------------------


def _reception(db: Database, valid_from: str = "2027-03-01") -> dict[str, Any]:
    """A weekly reception on Wednesdays: 张干部 at every session; the representatives in three turns."""
    groups = {"钱代表": 0, "孙代表": 0, "周代表": 1, "吴代表": 2}
    return {"scope": "community", "kind": "reception", "community_code": COMMUNITY, "title": "代表接待日",
            "place": "社区党群服务中心", "start_time": "14:30", "end_time": "17:00", "rule": {"weekday": 3},
            "valid_from": valid_from,
            "assignees": [_cadre(db, "张干部"), *({"person_id": _person(db, n), "role": REPS[n], "rotation_group": g}
                                                 for n, g in groups.items())]}


def _roster(client: TestClient, headers: dict | None, first: str, last: str, **params: str) -> list[dict]:
    response = client.get("/api/workdays/roster", headers=headers or {}, params={"from": first, "to": last, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_weekly_reception_rotates_its_representatives(client: TestClient, managers: dict, db: Database) -> None:
    _schedule(client, managers["street-1"], _reception(db))
    items = _roster(client, managers["centre"], "2027-03-01", "2027-04-14")
    assert [i["date"] for i in items] == ["2027-03-03", "2027-03-10", "2027-03-17", "2027-03-24", "2027-03-31",
                                          "2027-04-07", "2027-04-14"]
    turns = [[p["name"] for p in i["people"]] for i in items]
    assert turns == [["张干部", "钱代表", "孙代表"], ["张干部", "周代表"], ["张干部", "吴代表"],
                     ["张干部", "钱代表", "孙代表"], ["张干部", "周代表"], ["张干部", "吴代表"],
                     ["张干部", "钱代表", "孙代表"]]
    assert items[0]["roles"] == {"cadre": 1, "party_rep": 1, "congress_rep": 1}
    assert items[1]["roles"] == {"cadre": 1, "party_rep": 1}
    assert {(i["kind"], i["start_time"], i["place"]) for i in items} == {("reception", "14:30", "社区党群服务中心")}
    # A roster asked from the middle keeps the turn: the 17th is the third group's.
    later = _roster(client, managers["centre"], "2027-03-17", "2027-03-24")
    assert [[p["name"] for p in i["people"]] for i in later] == [["张干部", "吴代表"], ["张干部", "钱代表", "孙代表"]]
    # The same through the work-day list.
    listed = client.get("/api/workdays", params={"from": "2027-03-17", "to": "2027-03-17"},
                        headers=managers["centre"]).json()["items"]
    assert [a["name"] for a in listed[0]["assignees"]] == ["张干部", "吴代表"]


# -- who sees the names ---------------------------------------------------------------------------------------------


def test_the_roster_is_public_and_names_only_for_the_places_team(client: TestClient, managers: dict,
                                                                 db: Database) -> None:
    today = district_today()
    west = _schedule(client, managers["admin"], {"scope": "building", "building_code": "B-WEST", "title": "西楼",
                                                 "date": (today + timedelta(days=1)).isoformat(),
                                                 "assignees": [_cadre(db, "张干部")]})
    east = _schedule(client, managers["admin"], {"scope": "building", "building_code": "B-EAST", "title": "东楼",
                                                 "date": (today + timedelta(days=2)).isoformat(),
                                                 "assignees": [_cadre(db, "李干部")]})
    community = _schedule(client, managers["admin"], {
        "scope": "community", "community_code": COMMUNITY, "title": "社区工作日", "place": "社区",
        "date": (today + timedelta(days=3)).isoformat(), "assignees": [_cadre(db, "王干部"), _cadre(db, "赵干部")]})
    first, last = today.isoformat(), (today + timedelta(days=6)).isoformat()
    expected = {  # caller → the work days whose names they see
        None: set(), "planner": set(), "hotline-app": set(), "street-2": set(), "community-other": set(),
        "worker-west": {west["id"], community["id"]}, "worker-east": {east["id"], community["id"]},
        **{c: {west["id"], east["id"], community["id"]} for c in ("street-1", "community-own", "centre", "admin")},
    }
    for caller, named in expected.items():
        items = _roster(client, managers[caller] if caller else None, first, last)
        assert [i["work_day_id"] for i in items] == [west["id"], east["id"], community["id"]], caller
        assert {i["work_day_id"] for i in items if "people" in i} == named, caller
        assert [i["people_count"] for i in items] == [1, 1, 2]
        hidden = [i for i in items if i["work_day_id"] not in named]
        assert not any(name in repr(hidden) for name in CADRES), caller
        assert not any(title in repr(hidden) for title in CADRES.values()), caller
    anonymous = _roster(client, None, first, last, community=COMMUNITY)
    assert anonymous[2]["roles"] == {"cadre": 2} and anonymous[2]["place"] == "社区"
    assert _roster(client, None, first, last, community="500103001009") == []


@pytest.mark.parametrize(("who", "status"), [
    (None, 401), ("admin", 200), ("centre", 200), ("street-1", 200), ("community-own", 200), ("street-2", 403),
    ("community-other", 403), ("worker-west", 403), ("planner", 403), ("hotline-app", 403),
])
def test_who_may_record_attendance(client: TestClient, managers: dict, db: Database, who: str | None,
                                   status: int) -> None:
    day = district_today()
    work_day = _schedule(client, managers["admin"], {"scope": "building", "building_code": "B-WEST", "title": "楼",
                                                     "date": day.isoformat(), "assignees": [_cadre(db, "张干部")]})
    response = _attend(client, managers[who] if who else {}, work_day["id"], day,
                       {work_day["assignees"][0]["assignee_id"]: True})
    assert response.status_code == status, response.text
    assert _rows(db, "SELECT count(*) FROM work_day_attendance") == [(1 if status == 200 else 0,)]


# -- the report equals counts made from the raw rows ----------------------------------------------------------------

_RAW = {  # each figure, counted here with plain SQL over the rows tagged to sessions in [:first, :last]
    "sessions_held": "SELECT count(DISTINCT (t.work_day_id, t.session_date)) FROM work_day_attendance AS t "
                     "WHERE t.attended AND t.session_date BETWEEN :first AND :last AND t.work_day_id = ANY(:ids)",
    "attendances": "SELECT count(*) FROM work_day_attendance AS t WHERE t.attended "
                   "AND t.session_date BETWEEN :first AND :last AND t.work_day_id = ANY(:ids)",
    "cadre_attendances": "SELECT count(*) FROM work_day_attendance AS t JOIN work_day_assignee AS a "
                         "ON a.id = t.assignee_id WHERE t.attended AND a.role = 'cadre' "
                         "AND t.session_date BETWEEN :first AND :last AND t.work_day_id = ANY(:ids)",
    "households_visited": "SELECT coalesce(sum(r), 0) FROM (SELECT least(sum(v.households_reached), "
                          "min(b.households)) AS r FROM visit AS v JOIN building AS b ON b.id = v.building_id "
                          "WHERE v.session_date BETWEEN :first AND :last AND v.work_day_id = ANY(:ids) "
                          "GROUP BY v.work_day_id, v.session_date, v.building_id) AS x",
    "problems_raised": "SELECT count(*) FROM service_case AS c "
                       "WHERE c.session_date BETWEEN :first AND :last AND c.work_day_id = ANY(:ids)",
    "problems_solved": "SELECT count(*) FROM service_case AS c WHERE c.status IN ('closed', 'evaluated') "
                       "AND c.session_date BETWEEN :first AND :last AND c.work_day_id = ANY(:ids)",
    "problems_open": "SELECT count(*) FROM service_case AS c WHERE c.status IN ('reported', 'filed', 'dispatched', "
                     "'in_handling', 'handled', 'rework') "
                     "AND c.session_date BETWEEN :first AND :last AND c.work_day_id = ANY(:ids)",
    "evaluated": "SELECT count(*) FROM service_case AS c WHERE c.satisfaction IS NOT NULL "
                 "AND c.session_date BETWEEN :first AND :last AND c.work_day_id = ANY(:ids)",
    "satisfied": "SELECT count(*) FROM service_case AS c WHERE c.satisfaction IN ('satisfied', 'basically_satisfied') "
                 "AND c.session_date BETWEEN :first AND :last AND c.work_day_id = ANY(:ids)",
}
_TIMES_SQL = """
SELECT p.name, count(*) FILTER (WHERE t.attended) AS came
FROM work_day_attendance AS t
JOIN work_day_assignee AS a ON a.id = t.assignee_id
JOIN person AS p ON p.id = a.person_id
WHERE a.role = 'cadre' AND t.session_date BETWEEN :first AND :last AND t.work_day_id = ANY(:ids)
GROUP BY p.name ORDER BY p.name
"""


def _raw(db: Database, ids: list[int], first: date, last: date) -> dict[str, int]:
    return {k: _rows(db, sql, ids=ids or [0], first=first, last=last)[0][0] for k, sql in _RAW.items()}


def _month_of_sessions(client: TestClient, managers: dict, db: Database) -> dict[str, Any]:
    """A weekly community work day over the last four weeks (four cadres, a worker), a building work day at
    B-EAST yesterday; attendance recorded for all but the last community session; visits and cases."""
    today = district_today()
    start = today - timedelta(days=27)
    weekly = _schedule(client, managers["street-1"], {
        "scope": "community", "community_code": COMMUNITY, "title": "社区工作日", "place": "社区",
        "rule": {"weekday": today.isoweekday()}, "valid_from": start.isoformat(),
        "assignees": [_cadre(db, n) for n in CADRES]})
    east = _schedule(client, managers["street-1"], {
        "scope": "building", "building_code": "B-EAST", "title": "东楼",
        "date": (today - timedelta(days=1)).isoformat(), "assignees": [_cadre(db, "张干部")]})
    days = [date.fromisoformat(i["date"]) for i in _roster(client, managers["centre"], start.isoformat(),
                                                          today.isoformat()) if i["work_day_id"] == weekly["id"]]
    assert len(days) >= 3, days  # four Tuesdays (or whatever today is) less any holiday
    came = {"张干部": lambda k: True, "李干部": lambda k: k != 1, "王干部": lambda k: k == 0, "赵干部": lambda k: False}
    for k, day in enumerate(days[:-1]):
        marks = {_assignee(weekly, _person(db, n)): rule(k) for n, rule in came.items()}
        assert _attend(client, managers["street-1"], weekly["id"], day, marks).status_code == 200
    assert _attend(client, managers["centre"], east["id"], today - timedelta(days=1),
                   {east["assignees"][0]["assignee_id"]: True}).status_code == 200
    for k, day in enumerate(days):
        _visit(client, managers["worker-west"], "B-WEST", weekly["id"], day, 4 + k, ["问题"] * (k % 2))
        _visit(client, managers["worker-west"], "B-EDGE", weekly["id"], day, 12, [])
    _visit(client, managers["worker-east"], "B-EAST", east["id"], today - timedelta(days=1), 20, ["东楼问题"])
    cases = [_tagged_case(client, managers["street-1"], weekly["id"], day).json()["id"] for day in days]
    with db.session() as session:  # the cases' later lives, written straight into the rows
        for case_id, status, rating in zip(cases, ("evaluated", "rework", "declined", "closed"),
                                           ("satisfied", "unsatisfied", None, None), strict=False):
            session.execute(text("UPDATE service_case SET status = :s, satisfaction = :r WHERE id = :id"),
                            {"s": status, "r": rating, "id": case_id})
    return {"weekly": weekly, "east": east, "days": days, "start": start, "today": today}


def test_the_report_equals_counts_made_from_the_raw_rows(client: TestClient, managers: dict, db: Database) -> None:
    made = _month_of_sessions(client, managers, db)
    start, today, days = made["start"], made["today"], made["days"]
    ids = [made["weekly"]["id"], made["east"]["id"]]
    body = _report(client, managers["admin"], start, today).json()
    raw = _raw(db, ids, start, today)
    assert {k: body[k] for k in raw} == raw
    assert raw["sessions_held"] == len(days) and body["sessions_scheduled"] == len(days) + 1
    assert body["problems_raised"] > 0 and body["households_visited"] > 0  # (the test can fail)
    assert body["satisfaction"] == round(raw["satisfied"] / raw["evaluated"], 4)
    times = dict(_rows(db, _TIMES_SQL, ids=ids, first=start, last=today))
    assert body["cadres"]["times"] == {f"person:{_person(db, n)}": times[n] for n in CADRES}
    regular = sum(1 for n in times.values() if n >= 3)
    assert (body["cadres"]["cadres_scheduled"], body["cadres"]["came_regularly"]) == (len(times), regular)
    assert body["cadres"]["regular_share"] == round(regular / len(times), 4)
    assert [n["name"] for n in body["cadres"]["never"]] == [n for n, c in times.items() if c == 0] == ["赵干部"]
    # One community, and a shorter period: the same counts over its rows.
    one = _report(client, managers["admin"], days[1], days[1], community=COMMUNITY).json()
    assert {k: one[k] for k in raw} == _raw(db, ids, days[1], days[1])


@pytest.mark.parametrize("caller", [None, "worker-west", "worker-east", "street-1", "street-2", "planner", "centre",
                                    "hotline-app"])
def test_the_report_by_role_and_area(client: TestClient, managers: dict, db: Database, caller: str | None) -> None:
    made = _month_of_sessions(client, managers, db)
    start, today = made["start"], made["today"]
    response = _report(client, managers[caller] if caller else {}, start, today)
    if caller in (None, "hotline-app"):
        assert response.status_code == (401 if caller is None else 403), response.text
        return
    assert response.status_code == 200, response.text
    body = response.json()
    visible = {"worker-west": [made["weekly"]["id"]], "worker-east": [made["weekly"]["id"], made["east"]["id"]],
               "street-2": []}.get(caller, [made["weekly"]["id"], made["east"]["id"]])
    raw = _raw(db, visible, start, today)
    assert {k: body[k] for k in raw} == raw, caller
    if caller == "street-2":
        assert raw["problems_raised"] == 0 and body["cadres"]["cadres_scheduled"] == 0
    names = caller != "planner" and caller != "street-2"
    assert ("never" in body["cadres"]) is names, caller
    if not names:
        assert not any(n in repr(body) for n in CADRES), caller


# -- bad input ------------------------------------------------------------------------------------------------------


def test_attendance_and_tags_are_checked(client: TestClient, managers: dict, db: Database) -> None:
    today = district_today()
    past = today - timedelta(days=3)
    work_day = _schedule(client, managers["admin"], {"scope": "building", "building_code": "B-WEST", "title": "楼",
                                                     "date": past.isoformat(), "assignees": [_cadre(db, "张干部")]})
    reception = _schedule(client, managers["admin"], {**_reception(db, past.isoformat()), "rule": None,
                                                       "date": past.isoformat()})
    future = _schedule(client, managers["admin"], {"scope": "building", "building_code": "B-WEST", "title": "楼",
                                                   "date": (today + timedelta(days=3)).isoformat(),
                                                   "assignees": [_cadre(db, "张干部")]})
    cadre = work_day["assignees"][0]["assignee_id"]
    admin = managers["admin"]
    for wd, day, marks, field in (
            (work_day["id"], past - timedelta(days=1), {cadre: True}, "date"),  # not a session
            (future["id"], today + timedelta(days=3), {future["assignees"][0]["assignee_id"]: True}, "date"),
            (work_day["id"], past, {future["assignees"][0]["assignee_id"]: True}, "attendance[0].assignee_id")):
        response = _attend(client, admin, wd, day, marks)
        assert response.status_code == 422 and response.json()["details"]["field"] == field, response.text
    twice = client.put(f"/api/workdays/{work_day['id']}/sessions/{past}/attendance", headers=admin, json={
        "attendance": [{"assignee_id": cadre, "attended": True}, {"assignee_id": cadre, "attended": False}]})
    assert twice.status_code == 422 and "twice" in twice.json()["detail"]
    assert _attend(client, admin, 999999, past, {cadre: True}).status_code == 404
    assert client.put(f"/api/workdays/{work_day['id']}/sessions/{past}/attendance", headers=admin,
                      json={"attendance": []}).status_code == 422
    assert _rows(db, "SELECT count(*) FROM work_day_attendance") == [(0,)]

    for extra, field in (
            ({"session_date": None}, "session_date"),
            ({"session_date": (past - timedelta(days=1)).isoformat()}, "session_date"),
            ({"work_day_id": future["id"], "session_date": (today + timedelta(days=3)).isoformat()}, "session_date"),
            ({"source": "hotline"}, "source"),
            ({"work_day_id": reception["id"]}, "source"),  # a reception's cases have source reception_day
            ({"work_day_id": 999999}, "work_day_id")):
        response = _tagged_case(client, admin, work_day["id"], past, **extra)
        assert response.status_code == 422 and response.json()["details"]["field"] == field, (extra, response.text)
    assert _rows(db, "SELECT count(*) FROM service_case") == [(0,)]
    ok = _tagged_case(client, admin, reception["id"], past, source="reception_day")
    assert ok.status_code == 201, ok.text
    # A visit at a reception's place files its problems as reception cases, tagged to the session.
    visit = _visit(client, managers["worker-west"], "B-WEST", reception["id"], past, 1, ["接待中提出"])
    assert _rows(db, "SELECT source, work_day_id, session_date FROM service_case WHERE id = :id",
                 id=visit["cases"][0]["id"]) == [("reception_day", reception["id"], past)]


def test_next_session_for_the_grid_card(client: TestClient, managers: dict, db: Database) -> None:
    today = district_today()
    _schedule(client, managers["admin"], {"scope": "building", "building_code": "B-WEST", "title": "西楼工作日",
                                          "place": "一号楼", "start_time": "09:00",
                                          "date": (today + timedelta(days=2)).isoformat()})
    _schedule(client, managers["admin"], {"scope": "community", "community_code": COMMUNITY, "title": "社区工作日",
                                          "place": "社区党群服务中心", "start_time": "08:30", "end_time": "12:00",
                                          "date": (today + timedelta(days=5)).isoformat()})
    with db.session() as session:
        west = next_session(session, drawn.WEST_CODE, today)
        east = next_session(session, drawn.EAST_CODE, today)
        community = next_session(session, COMMUNITY, today + timedelta(days=3))
        nothing = next_session(session, drawn.EAST_CODE, today + timedelta(days=6))
    assert west == {"date": (today + timedelta(days=2)).isoformat(), "start_time": "09:00", "end_time": None,
                    "place": "一号楼", "title": "西楼工作日", "scope": "building"}
    assert east == community == {"date": (today + timedelta(days=5)).isoformat(), "start_time": "08:30",
                                 "end_time": "12:00", "place": "社区党群服务中心", "title": "社区工作日",
                                 "scope": "community"}
    assert nothing is None


def test_the_work_day_list_names_people_only_for_the_places_team(client: TestClient, managers: dict,
                                                                  db: Database) -> None:
    day = district_today() + timedelta(days=1)
    east_user = _rows(db, "SELECT id FROM app_user WHERE username = 'worker-east'")[0][0]
    made = _schedule(client, managers["admin"], {
        "scope": "building", "building_code": "B-WEST", "title": "西楼", "date": day.isoformat(),
        "assignees": [_cadre(db, "张干部"), {"user_id": east_user, "role": "worker"}]})
    assert [a["name"] for a in made["assignees"]] == ["张干部", "worker-east"]

    def names(caller: str) -> list[str | None]:
        listed = client.get("/api/workdays", params={"from": day.isoformat(), "to": day.isoformat()},
                            headers=managers[caller]).json()["items"]
        return [a["name"] for a in listed[0]["assignees"]] + [a["title"] for a in listed[0]["assignees"]]

    assert names("street-1") == names("worker-west") == ["张干部", "worker-east", "区委办副主任", None]
    assert names("worker-east") == ["张干部", "worker-east", "区委办副主任", None]  # assigned: sees the others
    assert names("planner") == [None, None, None, None]


def test_the_report_as_csv_carries_the_same_figures(client: TestClient, managers: dict, db: Database) -> None:
    made = _month_of_sessions(client, managers, db)
    params = {"from": made["start"].isoformat(), "to": made["today"].isoformat()}
    body = _report(client, managers["centre"], made["start"], made["today"]).json()
    for lang, label, never in (("zh-CN", "干部参加人次", "从未参加的干部"), ("en", "Cadre attendances",
                                                                    "Cadres who never came")):
        response = client.get("/api/workdays/report.csv", params={**params, "lang": lang}, headers=managers["centre"])
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        lines = [line.split(",") for line in response.content.decode("utf-8-sig").splitlines()]
        figures = {row[0]: row[1] for row in lines if len(row) == 2}
        assert figures[label] == str(body["cadre_attendances"])
        assert [row[0] for row in lines[lines.index([never, "职务" if lang == "zh-CN" else "Title"]) + 1:]] == [
            n["name"] for n in body["cadres"]["never"]] == ["赵干部"]
    planner = client.get("/api/workdays/report.csv", params=params, headers=managers["planner"])
    assert planner.status_code == 200 and "赵干部" not in planner.content.decode("utf-8-sig")
    assert client.get("/api/workdays/report.csv", params=params).status_code == 401
