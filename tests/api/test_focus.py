"""Focus households (关爱对象) through the API on the hand-drawn district (tests/drawn.py): the west grid holds
B-WEST and B-EDGE, the east grid B-EAST. A hand-made register with answers worked out by hand (T = today):

    H1 B-WEST 1-1 lonely_elderly   on the register from T-10, paired (孙网格员) from T-10, never visited:
       due T-3 (weekly) → overdue 3 days: a gap
    H2 B-WEST 1-2 hardship         from T-2, no helper: unpaired, due T+12 → a gap
    H3 B-EDGE 2-1 retired_cadre    from T-40, paired (a volunteer by name), visited today: due T+30 → no gap
    H4 B-EAST 3-1 military_family  from T-5, paired by name → no gap
    H5 B-WEST 1-3 lonely_elderly   from T-30, no helper, ended today → off the register, counted nowhere

So the west grid has 3 households and focus_gap 2, the east grid 1 household and focus_gap 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis.periods import district_today, parse_period
from gis.store.database import Database
from gis.store.measures import grid_measures
from gis.store.users import create_user
from tests import drawn

WEST, EAST = drawn.WEST_CODE, drawn.EAST_CODE
COMMUNITY = "500103001001"
NAMES = ("孤老甲", "困难乙", "离休丙", "军属丁", "已迁戊")
PHONES = ("13911110001", "13911110002", "13911110003", "13911110004", "13911110005")
DOORS = ("1-1", "1-2", "2-1", "3-1", "1-3")


@pytest.fixture
def world(client: TestClient, users: dict[str, dict[str, str]], db: Database) -> dict[str, Any]:
    """The register above, made by the street's officer; returns the headers per caller and the ids H1…H5."""
    with db.session() as session:
        create_user(session, "community-own", "community_manager", community_code=COMMUNITY, key="key-community-own")
        create_user(session, "community-other", "community_manager", community_code="500103001009",
                    key="key-community-other")
        helper = session.execute(text("SELECT id FROM person WHERE name = '孙网格员'")).scalar_one()
    headers = {**users, **{n: {"Authorization": f"Bearer key-{n}"} for n in ("community-own", "community-other")}}
    today = district_today()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    bodies = [
        {"building_code": "B-WEST", "category": "lonely_elderly", "valid_from": day(-10),
         "helper": {"person_id": helper}},
        {"building_code": "B-WEST", "category": "hardship", "valid_from": day(-2)},
        {"building_code": "B-EDGE", "category": "retired_cadre", "valid_from": day(-40),
         "helper": {"name": "志愿者老李"}},
        {"building_code": "B-EAST", "category": "military_family", "valid_from": day(-5),
         "helper": {"name": "志愿者小王"}},
        {"building_code": "B-WEST", "category": "lonely_elderly", "valid_from": day(-30)},
    ]
    ids = []
    for body, name, phone, door in zip(bodies, NAMES, PHONES, DOORS, strict=True):
        answer = client.post("/api/focus/households", headers=headers["street-1"],
                             json={**body, "person_name": name, "phone": phone, "household": door})
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    visit = client.post(f"/api/focus/households/{ids[2]}/visits", headers=headers["worker-west"], json={})
    assert visit.status_code == 201, visit.text
    ended = client.post(f"/api/focus/households/{ids[4]}/end", headers=headers["street-1"], json={"reason": "搬离"})
    assert ended.status_code == 200, ended.text
    return {"headers": headers, "ids": ids, "helper": helper}


def _list(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/focus/households", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


# -- known answers -------------------------------------------------------------------------------------------


def test_the_overdue_household_comes_first_with_its_due_date(client: TestClient, world: dict) -> None:
    items = _list(client, world["headers"]["admin"])
    h1, h2, h3, h4, _ = world["ids"]
    today = district_today()
    assert [i["id"] for i in items] == [h1, h2, h4, h3]  # overdue, unpaired, then by due date (T+7+… : T+30)
    first = items[0]
    assert (first["person_name"], first["phone"], first["household"]) == ("孤老甲", "13911110001", "1-1")
    assert first["next_visit_due"] == (today - timedelta(days=3)).isoformat()
    assert (first["days_overdue"], first["paired"], first["gap"]) == (3, True, True)
    assert first["helper"] == {"person_id": world["helper"], "name": "孙网格员", "phone": "13800000002"}
    assert first["cycle_days"] == 7 and first["own_cycle_days"] is None


def test_the_unpaired_household_is_a_gap_though_not_overdue(client: TestClient, world: dict) -> None:
    h2 = next(i for i in _list(client, world["headers"]["admin"]) if i["id"] == world["ids"][1])
    assert (h2["paired"], h2["days_overdue"], h2["gap"], h2["helper"], h2["cycle_days"]) == (False, 0, True, None, 14)


def test_a_visit_makes_the_next_one_due_a_cycle_later(client: TestClient, world: dict) -> None:
    h3 = client.get(f"/api/focus/households/{world['ids'][2]}", headers=world["headers"]["admin"]).json()
    today = district_today()
    assert h3["last_visit"] == today.isoformat()
    assert h3["next_visit_due"] == (today + timedelta(days=30)).isoformat()
    assert (h3["gap"], h3["days_overdue"]) == (False, 0)


def test_gaps_only_and_the_ended_household(client: TestClient, world: dict) -> None:
    h1, h2, *_, h5 = world["ids"]
    admin = world["headers"]["admin"]
    assert [i["id"] for i in _list(client, admin, gaps="true")] == [h1, h2]
    assert h5 not in {i["id"] for i in _list(client, admin)}
    ended = next(i for i in _list(client, admin, include_ended="true") if i["id"] == h5)
    assert (ended["valid_to"], ended["on_register"], ended["gap"]) == (district_today().isoformat(), False, False)
    assert "搬离" in ended["note"]


def test_the_wall_measure_per_grid_and_the_summary_agree_with_the_rules(client: TestClient, world: dict,
                                                                       db: Database) -> None:
    with db.session() as session:
        rows = {r["code"]: r for r in grid_measures(session, parse_period("30d"))}
        (district,) = grid_measures(session, parse_period("30d"), level="district")
    assert (rows[WEST]["focus_households"], rows[WEST]["focus_gap"]) == (3, 2)
    assert (rows[EAST]["focus_households"], rows[EAST]["focus_gap"]) == (1, 0)
    assert district["focus_gap"] == 2
    items = _list(client, world["headers"]["admin"])
    by_rules = {g: sum(1 for i in items if i["grid_code"] == g and i["gap"]) for g in (WEST, EAST)}
    assert by_rules == {WEST: rows[WEST]["focus_gap"], EAST: rows[EAST]["focus_gap"]}
    summary = client.get("/api/focus/summary", headers=world["headers"]["planner"]).json()
    grids = {g["grid_code"]: g for g in summary["grids"]}
    assert {k: grids[WEST][k] for k in ("households", "unpaired", "overdue", "gaps")} == {
        "households": 3, "unpaired": 1, "overdue": 1, "gaps": 2}
    assert grids[WEST]["categories"]["lonely_elderly"] == 1 and grids[EAST]["gaps"] == 0
    assert summary["totals"]["gaps"] == 2


def test_the_wall_lists_the_measure_and_colours_grids_by_it(client: TestClient, world: dict) -> None:
    listed = client.get("/api/layers/measures", headers=world["headers"]["centre"]).json()
    assert next(m for m in listed if m["key"] == "focus_gap")["wall"] is not None
    layer = client.get("/api/layers/grids", params={"measure": "focus_gap", "geometry": "false"},
                       headers=world["headers"]["planner"])
    assert layer.status_code == 200, layer.text
    values = {f["properties"]["code"]: f["properties"]["value"] for f in layer.json()["features"]}
    assert (values[WEST], values[EAST]) == (2, 0)
    assert not any(secret in layer.text for secret in (*NAMES, *PHONES, "志愿者"))


# -- who reads what ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("caller", "grids"), [
    ("admin", {WEST, EAST}), ("centre", {WEST, EAST}), ("street-1", {WEST, EAST}), ("community-own", {WEST, EAST}),
    ("worker-west", {WEST}), ("worker-east", {EAST}), ("street-2", set()), ("community-other", set()),
])
def test_the_list_by_name_shows_the_callers_area_only(client: TestClient, world: dict, caller: str,
                                                      grids: set[str]) -> None:
    items = _list(client, world["headers"][caller])
    assert {i["grid_code"] for i in items} == grids
    assert all(i["person_name"] in NAMES for i in items)


@pytest.mark.parametrize(("caller", "status"), [("planner", 403), ("hotline-app", 403), (None, 401)])
def test_those_who_must_not_see_who_they_are_get_no_name_anywhere(client: TestClient, world: dict,
                                                                   caller: str | None, status: int) -> None:
    headers = world["headers"][caller] if caller else {}
    h1 = world["ids"][0]
    for url in ("/api/focus/households", f"/api/focus/households/{h1}"):
        answer = client.get(url, headers=headers)
        assert answer.status_code == status, (url, answer.text)
        assert not any(secret in answer.text for secret in (*NAMES, *PHONES, *DOORS))
    summary = client.get("/api/focus/summary", headers=headers)
    assert summary.status_code == (200 if caller == "planner" else status)
    assert not any(secret in summary.text for secret in (*NAMES, *PHONES, "志愿者", "孙网格员"))


@pytest.mark.parametrize(("caller", "status"), [
    ("admin", 200), ("centre", 200), ("street-1", 200), ("community-own", 200), ("worker-west", 200),
    ("worker-east", 403), ("street-2", 403), ("community-other", 403), ("planner", 403), ("hotline-app", 403),
])
def test_one_household_by_role_and_area(client: TestClient, world: dict, caller: str, status: int) -> None:
    answer = client.get(f"/api/focus/households/{world['ids'][0]}", headers=world["headers"][caller])
    assert answer.status_code == status, answer.text


def test_the_summary_keeps_to_the_area(client: TestClient, world: dict) -> None:
    grids = {c: {g["grid_code"] for g in client.get("/api/focus/summary", headers=world["headers"][c]).json()["grids"]}
             for c in ("worker-east", "street-2", "planner")}
    assert grids == {"worker-east": {EAST}, "street-2": set(), "planner": {WEST, EAST}}


def test_a_list_by_name_is_in_the_audit_log(client: TestClient, world: dict, db: Database) -> None:
    _list(client, world["headers"]["worker-west"])
    with db.session() as session:
        detail = session.execute(text(
            "SELECT detail FROM audit_log WHERE kind = 'personal_read' AND detail->>'what' = 'focus_household' "
            "ORDER BY id DESC LIMIT 1")).scalar_one()
    assert sorted(detail["ids"]) == sorted(world["ids"][:3])


# -- writes --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("caller", "building", "status"), [
    ("worker-west", "B-WEST", 201), ("worker-west", "B-EAST", 403), ("community-own", "B-EAST", 201),
    ("community-other", "B-WEST", 403), ("street-2", "B-WEST", 403), ("planner", "B-WEST", 403),
    ("hotline-app", "B-WEST", 403), ("centre", "B-OUT", 201),
])
def test_registering_by_role_and_area(client: TestClient, world: dict, caller: str, building: str,
                                      status: int) -> None:
    answer = client.post("/api/focus/households", headers=world["headers"][caller], json={
        "building_code": building, "household": "9-9", "person_name": "新对象", "category": "ill_or_disabled"})
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(("change", "field"), [
    ({"building_code": "B-NOWHERE"}, "building_code"),
    ({"category": "elderly"}, "category"),
    ({"cycle_days": 0}, "cycle_days"),
    ({"cycle_days": 400}, "cycle_days"),
    ({"helper": {"person_id": 999999}}, "helper.person_id"),
    ({"helper": {}}, "helper"),
    ({"person_name": "  "}, "person_name"),
    ({"paired_from": "2026-01-01"}, "paired_from"),
])
def test_bad_input_is_refused_by_name_and_changes_nothing(client: TestClient, world: dict, db: Database,
                                                          change: dict, field: str) -> None:
    body = {"building_code": "B-WEST", "household": "8-8", "person_name": "某人", "category": "hardship", **change}
    answer = client.post("/api/focus/households", headers=world["headers"]["admin"], json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM focus_household")).scalar_one() == 5


def test_pair_unpair_and_change(client: TestClient, world: dict) -> None:
    h1, h2, *_ = world["ids"]
    west = world["headers"]["worker-west"]
    answer = client.post(f"/api/focus/households/{h2}/pair", headers=west, json={"helper": {"name": "党员老张"}})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["paired"], answer.json()["helper"]["name"], answer.json()["gap"]) == (True, "党员老张", False)
    answer = client.post(f"/api/focus/households/{h1}/unpair", headers=west, json={})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    today = district_today().isoformat()
    assert (body["paired"], body["paired_to"], body["helper"]["name"]) == (False, today, "孙网格员")
    assert client.post(f"/api/focus/households/{h1}/unpair", headers=west, json={}).status_code == 409
    changed = client.patch(f"/api/focus/households/{h1}", headers=west, json={"cycle_days": 3, "phone": "023-1"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["cycle_days"], changed.json()["phone"]) == (3, "023-1")
    assert client.patch(f"/api/focus/households/{h1}", headers=west, json={"category": "x"}).status_code == 422
    assert client.patch(f"/api/focus/households/{h1}", headers=world["headers"]["worker-east"],
                        json={"note": "x"}).status_code == 403
    assert client.post(f"/api/focus/households/{h2}/pair", headers=world["headers"]["planner"],
                       json={"helper": {"name": "x"}}).status_code == 403


def test_a_visit_sent_twice_is_stored_once_and_counts_for_the_building(client: TestClient, world: dict,
                                                                       db: Database) -> None:
    h1 = world["ids"][0]
    west = {**world["headers"]["worker-west"], "Idempotency-Key": "focus-visit-1"}
    first = client.post(f"/api/focus/households/{h1}/visits", headers=west, json={"note": "身体好"})
    again = client.post(f"/api/focus/households/{h1}/visits", headers=west, json={"note": "身体好"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["visit_id"] == again.json()["visit_id"]
    assert first.json()["household"]["gap"] is False
    with db.session() as session:
        rows = session.execute(text(
            "SELECT b.code, v.households_reached FROM visit AS v JOIN building AS b ON b.id = v.building_id "
            "WHERE v.focus_household_id = :id"), {"id": h1}).all()
    assert [tuple(r) for r in rows] == [("B-WEST", 1)]
    late = (datetime.now(UTC) - timedelta(days=90)).isoformat()
    assert client.post(f"/api/focus/households/{h1}/visits", headers=world["headers"]["worker-west"],
                       json={"visited_at": late}).status_code == 422
    assert client.post(f"/api/focus/households/{h1}/visits", headers=world["headers"]["worker-east"],
                       json={}).status_code == 403
    assert client.post(f"/api/focus/households/{world['ids'][4]}/visits", headers=world["headers"]["admin"],
                       json={}).status_code == 409  # off the register
    assert client.post("/api/focus/households/99999999/visits", headers=world["headers"]["admin"],
                       json={}).status_code == 404


def test_the_sql_rules_match_the_python_rules_for_every_category_and_boundary(db: Database) -> None:
    """cycle_sql, due_sql, paired_sql and gap_sql on literal rows against gis/focus.py, category by category and
    on the days either side of the due date and the pairing's end."""
    from datetime import date

    from gis.focus import DEFAULT_CYCLE_DAYS, FocusState, is_gap, is_paired, next_visit_due
    from gis.store.focus import due_sql, gap_sql, paired_sql

    start = date(2026, 3, 1)
    cases = []
    for category in DEFAULT_CYCLE_DAYS:
        for own, last, paired_to in ((None, None, None), (3, date(2026, 3, 4), date(2026, 3, 9)),
                                     (None, date(2026, 2, 1), date(2026, 3, 1))):
            state = FocusState(category, start, helper=True, paired_from=start, paired_to=paired_to, cycle_days=own,
                               last_visit=last)
            for day in {next_visit_due(state) + timedelta(days=d) for d in (-1, 0, 1)} | {date(2026, 3, 9)}:
                cases.append((state, day))
    sql = (f"SELECT {due_sql('f', 'f.last_visit')} AS due, {paired_sql('f', 'CAST(:day AS date)')} AS paired, "
           f"{gap_sql('f', 'CAST(:day AS date)', 'f.last_visit')} AS gap FROM (SELECT CAST(:category AS text) AS "
           "category, CAST(:own AS int) AS cycle_days, CAST(:last AS date) AS last_visit, CAST(:start AS date) AS "
           "valid_from, CAST(NULL AS int) AS helper_person_id, 'x' AS helper_name, CAST(:start AS date) AS "
           "paired_from, CAST(:paired_to AS date) AS paired_to) AS f")
    with db.session() as session:
        for state, day in cases:
            row = session.execute(text(sql), {"category": state.category.value, "own": state.cycle_days,
                                              "last": state.last_visit, "start": start, "paired_to": state.paired_to,
                                              "day": day}).mappings().one()
            expected = (next_visit_due(state), is_paired(state, day), is_gap(state, day))
            assert (row["due"], row["paired"], row["gap"]) == expected, (state, day)


def test_a_household_moves_with_its_building_to_another_district(client: TestClient, world: dict,
                                                                  db: Database) -> None:
    """A building that changes district is copied and deleted (gis/store/distribution.py): its focus households
    (and their visits) go with it, ids kept, instead of being deleted with the old row."""
    from gis.store.assign import move_buildings

    h1, h2, *_ = world["ids"]
    with db.session() as session:
        moved = move_buildings(session, "SELECT id, '500104' FROM building WHERE code = 'B-WEST'")
        rows = session.execute(text("SELECT id, district_code FROM focus_household WHERE id = ANY(:ids) ORDER BY id"),
                               {"ids": [h1, h2]}).all()
    assert moved == 1
    assert [tuple(r) for r in rows] == [(h1, "500104"), (h2, "500104")]
