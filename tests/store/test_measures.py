"""Measures on the hand-drawn places with eight hand-made cases; every expected number is worked out below.

Places (tests/drawn.py): community 500103001001 = west grid ...001 + east grid ...002.
  west: branch, team, one active grid worker (one more left in 2023); buildings B-WEST 10, B-EDGE 30,
        B-CORNER 40 households → 80 households, 1 worker.
  east: branch, no team, so no grid worker; building B-EAST 20 households.

Cases (UTC; offsets in hours after the report; period = March 2025):

  case status     reported  1st act  handled  closed  deadline  rework  rating
  W1   evaluated  03-02      +2       +10      +12     +24       0       satisfied
  W2   evaluated  03-03      +6       +30      +40     +24       0       basically_satisfied  (closed late)
  W3   closed     03-04      +4       +50      +60     +72       1       —  (rejected at +22, handled again)
  W4   in_handl.  03-05      +1       —        —       +24       0       —
  W5   evaluated  02-10      +1       +2       +3      +4        0       satisfied  (February: outside)
  W6   declined   03-20      —        —        —       —         0       —
  E1   rework     03-10      +8       +16      +20     +48       1       unsatisfied (reopened at +30)
  E2   evaluated  03-15      +3       +90      +100    +48       1       satisfied  (closed +6, reopened +7,
                                                                            closed again late; has a ledger)
  U1   filed      03-25      —        —        —       —         0       —  (unrouted: no grid, no community)
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.cli import import_file
from gis.errors import InvalidInput
from gis.metrics import MEASURES, finish_measures
from gis.periods import parse_period, period_between
from gis.settings import PROJECT_ROOT, Settings
from gis.store.database import Database
from gis.store.measures import district_summary, grid_measures, worst_grids
from tests import drawn

WEST, EAST, COMMUNITY = drawn.WEST_CODE, drawn.EAST_CODE, "500103001001"
MARCH = parse_period("2025-03")  # Asia/Shanghai days: every case below lies well inside, either way


def _day(month: int, day: int) -> datetime:
    return datetime(2025, month, day, tzinfo=UTC)


# name: (grid, status, reported, {timestamp column: hours after the report}, rework_count, satisfaction)
CASES: dict[str, tuple[str | None, str, datetime, dict[str, float], int, str | None]] = {
    "W1": (WEST, "evaluated", _day(3, 2), {"filed_at": 1, "first_action_at": 2, "dispatched_at": 2,
           "accepted_at": 3, "handled_at": 10, "closed_at": 12, "evaluated_at": 13, "deadline": 24},
           0, "satisfied"),
    "W2": (WEST, "evaluated", _day(3, 3), {"filed_at": 1, "first_action_at": 6, "handled_at": 30,
           "closed_at": 40, "evaluated_at": 41, "deadline": 24}, 0, "basically_satisfied"),
    "W3": (WEST, "closed", _day(3, 4), {"filed_at": 1, "first_action_at": 4, "reworked_at": 22,
           "handled_at": 50, "closed_at": 60, "deadline": 72}, 1, None),
    "W4": (WEST, "in_handling", _day(3, 5), {"filed_at": 1, "first_action_at": 1, "accepted_at": 2,
           "deadline": 24}, 0, None),
    "W5": (WEST, "evaluated", _day(2, 10), {"filed_at": 0.5, "first_action_at": 1, "handled_at": 2,
           "closed_at": 3, "evaluated_at": 3.5, "deadline": 4}, 0, "satisfied"),
    "W6": (WEST, "declined", _day(3, 20), {"declined_at": 1}, 0, None),
    "E1": (EAST, "rework", _day(3, 10), {"filed_at": 1, "first_action_at": 8, "handled_at": 16,
           "closed_at": 20, "reworked_at": 30, "deadline": 48}, 1, "unsatisfied"),
    "E2": (EAST, "evaluated", _day(3, 15), {"filed_at": 1, "first_action_at": 3, "reworked_at": 7,
           "handled_at": 90, "closed_at": 100, "evaluated_at": 101, "deadline": 48}, 1, "satisfied"),
    "U1": (None, "filed", _day(3, 25), {"filed_at": 1}, 0, None),
}

# E2's ledger: (hours, action, from, to). Closed at +6, so closed at 03-15 06:30 although closed_at is +100.
E2_LEDGER = [
    (0, "create", None, "reported"), (1, "file", "reported", "filed"), (3, "dispatch", "filed", "dispatched"),
    (4, "accept", "dispatched", "in_handling"), (5, "handle", "in_handling", "handled"),
    (6, "verify", "handled", "closed"), (7, "evaluate_unsatisfied", "closed", "rework"),
    (8, "accept", "rework", "in_handling"), (8.5, "photo", None, None),
    (90, "handle", "in_handling", "handled"),
    (100, "verify", "handled", "closed"), (101, "evaluate_satisfied", "closed", "evaluated"),
]


def _load_places(settings: Settings, folder: Path) -> None:
    """The pattern of tests/api/conftest.py `load_drawn`: the real import path for every file."""
    for kind, frame, name in (
        ("communities", drawn.communities_frame(), "communities.geojson"),
        ("grids", drawn.grids_frame(), "grids.geojson"),
        ("buildings", drawn.buildings_frame(), "buildings.geojson"),
        ("teams", drawn.teams_frame(), "teams.csv"),
    ):
        import_file(settings, kind, drawn.write(frame, folder / name))


def _insert_case(session: Session, name: str) -> int:
    grid, status, reported, offsets, rework, rating = CASES[name]
    stamps = {column: reported + timedelta(hours=hours) for column, hours in offsets.items()}
    keys = {"grid_code": grid, "community_code": COMMUNITY if grid else None,
            "street_code": "500103001" if grid else None, "district_code": "500103"}  # unrouted: still a district
    columns = ["source", "category_code", "description", "address", "position", "given_crs", "given_lon",
               "given_lat", "first_contact", "created_by", "status", "reported_at", "rework_count",
               "satisfaction", *keys, *stamps]
    values = [":source", "'exposed_rubbish'", ":name", "''", "ST_SetSRID(ST_MakePoint(106.53, 29.555), 4326)",
              "'wgs84'", "106.53", "29.555", "'test'", "'test'", ":status", ":reported", ":rework", ":rating",
              *(f":{k}" for k in keys), *(f":{k}" for k in stamps)]
    return session.execute(
        text(f"INSERT INTO service_case ({', '.join(columns)}) VALUES ({', '.join(values)}) RETURNING id"),
        {"source": "hotline", "name": name, "status": status, "reported": reported, "rework": rework,
         "rating": rating, **keys, **stamps},
    ).scalar_one()


def _insert_ledger(session: Session, case_id: int, reported: datetime) -> None:
    for hours, action, before, after in E2_LEDGER:
        session.execute(text(
            "INSERT INTO case_event (case_id, at, actor, action, from_status, to_status, note, district_code) "
            "SELECT :case_id, :at, 'test', :action, :before, :after, '', district_code FROM service_case "
            "WHERE id = :case_id"
        ), {"case_id": case_id, "at": reported + timedelta(hours=hours), "action": action, "before": before,
            "after": after})


def _insert_visits(session: Session, now: datetime) -> None:
    """B-WEST 10 days ago and B-EAST 1 day ago (inside a 30-day cycle), B-EDGE 40 days ago (outside it)."""
    worker = session.execute(text("SELECT id FROM person WHERE name = '孙网格员'")).scalar_one()
    for building, days in (("B-WEST", 10), ("B-EAST", 1), ("B-EDGE", 40)):
        session.execute(text(
            "INSERT INTO visit (building_id, person_id, visited_at, note, district_code) "
            "SELECT id, :person, :at, '', district_code FROM building WHERE code = :code"
        ), {"person": worker, "at": now - timedelta(days=days), "code": building})


@pytest.fixture
def places(db: Database, db_settings: Settings, tmp_path: Path) -> Database:
    _load_places(db_settings, tmp_path)
    return db


@pytest.fixture
def cases(places: Database) -> dict[str, int]:
    with places.session() as session:
        ids = {name: _insert_case(session, name) for name in CASES}
        _insert_ledger(session, ids["E2"], CASES["E2"][2])
        _insert_visits(session, datetime.now(UTC))
    return ids


def _by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in rows}


def _check(row: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        if isinstance(value, float):
            assert row[key] == pytest.approx(value), key
        else:
            assert row[key] == value, key


WEST_NOW = {
    # open now: W4. Overdue: W4 (open, deadline 03-06 < now) + W2 (closed 03-04 16:00 > deadline 03-04 00:00).
    "open_cases": 1, "overdue_open": 1, "overdue_closed": 1, "overdue": 2,
    # reported in March: W1–W4, W6 (W5 is February). Responses [1, 2, 4, 6] h (W6 declined: none).
    "reported": 5, "responded": 4, "resolved": 3,
    # p50 at position 3 × 0.5 = 1.5 → 2 + 0.5 × (4 − 2) = 3; p90 at 3 × 0.9 = 2.7 → 4 + 0.7 × (6 − 4) = 5.4.
    "response_p50_h": 3.0, "response_p90_h": 5.4,
    # resolutions [10, 30, 50] h: p50 = 30; p90 at 2 × 0.9 = 1.8 → 30 + 0.8 × 20 = 46.
    "resolution_p50_h": 30.0, "resolution_p90_h": 46.0,
    # due in March: W1, W2, W3, W4; closed: W1, W2, W3; by the deadline: W1, W3.
    "due": 4, "closed": 3, "closed_on_time": 2, "closure_rate": 0.75, "on_time_rate": 0.5,
    # handled in March: W1, W2, W3; reworked: W3. Rated among closed in March: W1, W2, both satisfied.
    "handled": 3, "reworked": 1, "rework_rate": 1 / 3, "rated": 2, "satisfied": 2, "satisfaction": 1.0,
    # branch, team, 孙网格员 active; 80 households / 1 worker. Visits: B-WEST only → 2 of 3 unvisited.
    "grids": 1, "org_gaps": 0, "org_coverage": 1.0, "workers": 1, "households": 80,
    "households_per_worker": 80.0, "buildings": 3, "unvisited": 2, "unvisited_share": 2 / 3,
    # 35 × 0.5 + 20 × 0.75 + 25 × 1 + 10 × (1 − 1/3) + 10 × 1 = 17.5 + 15 + 25 + 6.667 + 10 = 74.167 → C
    "score": 74.16666666666667, "grade": "C",
}

EAST_NOW = {
    # open now: E1 (rework). Overdue: E1 (deadline 03-12 < now) + E2 (closed 03-19 04:00 > deadline 03-17).
    "open_cases": 1, "overdue_open": 1, "overdue_closed": 1, "overdue": 2,
    # responses [3, 8]: p50 5.5, p90 = 3 + 0.9 × 5 = 7.5;
    # resolutions [16, 90]: p50 53, p90 = 16 + 0.9 × 74 = 82.6.
    "reported": 2, "response_p50_h": 5.5, "response_p90_h": 7.5, "resolution_p50_h": 53.0,
    "resolution_p90_h": 82.6,
    # due: E1, E2; closed now: E2 only (E1 reopened), and late → on time 0.
    "due": 2, "closed": 1, "closed_on_time": 0, "closure_rate": 0.5, "on_time_rate": 0.0,
    # handled in March: E1, E2, both reworked. Rated: E1 unsatisfied (closed 03-10), E2 satisfied.
    "handled": 2, "reworked": 2, "rework_rate": 1.0, "rated": 2, "satisfied": 1, "satisfaction": 0.5,
    # no team and so no active worker: 2 gaps of 4 → coverage 0.5; B-EAST visited yesterday.
    "org_gaps": 2, "no_team": 1, "no_worker": 1, "no_branch": 0, "over_target": 0, "org_coverage": 0.5,
    "households": 20, "workers": 0, "households_per_worker": None, "buildings": 1, "unvisited_share": 0.0,
    # 35 × 0 + 20 × 0.5 + 25 × 0.5 + 10 × (1 − 1) + 10 × 0.5 = 27.5 → E
    "score": 27.5, "grade": "E",
}

COMMUNITY_NOW = {
    "open_cases": 2, "overdue": 4, "reported": 7,
    # responses [1, 2, 3, 4, 6, 8]: p50 at 2.5 → 3.5; p90 at 4.5 → 6 + 0.5 × 2 = 7.
    "response_p50_h": 3.5, "response_p90_h": 7.0,
    # resolutions [10, 16, 30, 50, 90]: p50 30; p90 at 3.6 → 50 + 0.6 × 40 = 74.
    "resolution_p50_h": 30.0, "resolution_p90_h": 74.0,
    "due": 6, "closed": 4, "closed_on_time": 2, "closure_rate": 4 / 6, "on_time_rate": 2 / 6,
    "handled": 5, "reworked": 3, "rework_rate": 0.6, "rated": 4, "satisfied": 3, "satisfaction": 0.75,
    # 2 gaps over 2 grids × 4 checks → 0.75; 100 households / 1 worker; 2 of 4 buildings unvisited.
    "grids": 2, "org_gaps": 2, "org_coverage": 0.75, "households_per_worker": 100.0, "unvisited_share": 0.5,
    # 35/3 + 20 × 2/3 + 25 × 0.75 + 10 × 0.4 + 10 × 0.75 = 11.667 + 13.333 + 18.75 + 4 + 7.5 = 55.25 → D
    "score": 55.25, "grade": "D",
}


def test_grid_measures_now(places: Database, cases: dict[str, int]) -> None:
    with places.session() as session:
        rows = _by_code(grid_measures(session, MARCH))
    assert list(rows) == [WEST, EAST]
    assert set(MEASURES) <= set(rows[WEST])
    _check(rows[WEST], WEST_NOW | {"name": "西网格", "community_code": COMMUNITY, "level": "grid"})
    _check(rows[EAST], EAST_NOW)


def test_roll_ups_recompute_from_the_cases_of_the_unit(places: Database, cases: dict[str, int]) -> None:
    with places.session() as session:
        grids = grid_measures(session, MARCH)
        (community,) = grid_measures(session, MARCH, level="community")
        (street,) = grid_measures(session, MARCH, level="street")
        (district,) = grid_measures(session, MARCH, level="district")
    _check(community, COMMUNITY_NOW | {"code": COMMUNITY, "name": "测试社区"})
    summed = ("open_cases", "overdue", "due", "closed", "closed_on_time", "handled", "reworked", "rated",
              "satisfied", "org_gaps", "households", "workers", "buildings", "unvisited", "grids")
    for key in summed:
        assert community[key] == sum(g[key] for g in grids), key
    for key in (*summed, *MEASURES):
        assert street[key] == community[key] == district[key], key
    assert (street["code"], district["code"]) == ("500103001", "500103")


def test_open_cases_at_a_past_moment_are_rebuilt(places: Database, cases: dict[str, int]) -> None:
    # At 03-15 06:30: W1–W3 closed, W4 open and late; E1 closed at 03-10 20:00 but reopened 03-11 06:00 →
    # open and late (deadline 03-12); E2 closed at 06:00 by its ledger (closed_at says 03-19).
    moment = datetime(2025, 3, 15, 6, 30, tzinfo=UTC)
    with places.session() as session:
        rows = _by_code(grid_measures(session, MARCH, at=moment))
    _check(rows[WEST], {"open_cases": 1, "overdue_open": 1, "due": 4, "closed": 3, "closed_on_time": 2})
    # Due by then: E1 (deadline 03-12); E2 (deadline 03-17, still ahead) only because it was closed.
    # E2's closure then was at +6 h but its latest closure (+100 h) is after the moment: not on time.
    _check(rows[EAST], {"open_cases": 1, "overdue_open": 1, "due": 2, "closed": 1, "closed_on_time": 0})
    with places.session() as session:
        session.execute(text("DELETE FROM case_event WHERE case_id = :id"), {"id": cases["E2"]})
        east = _by_code(grid_measures(session, MARCH, at=moment))[EAST]
    # Without a ledger the latest closure decides (the documented approximation): E2 looks open.
    _check(east, {"open_cases": 2, "due": 1, "closed": 0})


def test_a_moment_before_everything_and_an_empty_period(places: Database, cases: dict[str, int]) -> None:
    with places.session() as session:
        before = _by_code(grid_measures(session, MARCH, at=datetime(2025, 3, 1, tzinfo=UTC)))
        empty = _by_code(grid_measures(session, parse_period("2025-05")))
    assert before[WEST]["open_cases"] == before[EAST]["open_cases"] == 0
    # May: nothing reported, due, handled or closed; the open cases of today are still open.
    _check(empty[WEST], {"open_cases": 1, "overdue": 1, "reported": 0, "response_p50_h": None, "due": 0,
                         "closure_rate": None, "on_time_rate": None, "rework_rate": None,
                         "satisfaction": None})
    # Only organisational coverage is left to score: west 1.0 → 100 (A), east 0.5 → 50 (D).
    assert (empty[WEST]["score"], empty[WEST]["grade"]) == (100.0, "A")
    assert (empty[EAST]["score"], empty[EAST]["grade"]) == (50.0, "D")


def test_target_and_visit_cycle_are_parameters(places: Database, cases: dict[str, int]) -> None:
    with places.session() as session:
        rows = grid_measures(session, MARCH, households_per_worker_target=50, visit_cycle_days=45)
    # 80 households for 1 worker is over a target of 50; B-EDGE's visit 40 days ago is inside 45 days.
    _check(_by_code(rows)[WEST], {"over_target": 1, "org_gaps": 1, "org_coverage": 0.75, "unvisited": 1,
                                  "unvisited_share": 1 / 3})


def test_district_summary_counts_every_case(places: Database, cases: dict[str, int]) -> None:
    with places.session() as session:
        summary = district_summary(session, MARCH)
    # As the community, plus U1: filed, open, unrouted (no deadline, so not overdue), reported in March.
    _check(summary, COMMUNITY_NOW | {"open_cases": 3, "open": 3, "unrouted_open": 1, "reported": 8,
                                     "code": "500103", "name": "渝中区", "level": "all"})
    assert summary["grades"] == {"A": 0, "B": 0, "C": 1, "D": 0, "E": 1}


def test_worst_grids(places: Database, cases: dict[str, int]) -> None:
    with places.session() as session:
        by_time = worst_grids(session, MARCH, measure="on_time_rate")
        by_grade = worst_grids(session, MARCH, measure="grade", limit=1)
        by_overdue = worst_grids(session, MARCH, measure="overdue")
        by_workers = worst_grids(session, MARCH, measure="households_per_worker")
    assert [r["code"] for r in by_time] == [EAST, WEST]  # 0.0 before 0.5
    assert [r["code"] for r in by_grade] == [EAST]  # score 27.5
    assert [r["code"] for r in by_overdue] == [WEST, EAST]  # 2 each: ties by code
    assert [r["code"] for r in by_workers] == [WEST]  # east has no worker: no value, left out


def test_bad_arguments_name_what_is_allowed(places: Database) -> None:
    with pytest.raises(InvalidInput, match="must be after"):
        period_between(date(2025, 4, 1), date(2025, 3, 1))
    with places.session() as session:
        with pytest.raises(InvalidInput, match="allowed: grid, community"):
            grid_measures(session, MARCH, level="county")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="allowed: open_cases"):
            worst_grids(session, MARCH, measure="happiness")


def test_sample_district_org_gaps_match_its_manifest(sample_db: Database) -> None:
    """The sample's generator planted organisational gaps and listed them (gis/sample/yuzhong/manifest.json);
    its one former-only worker left on 2025-12-31, so that grid has no active grid worker today."""
    gaps = json.loads((PROJECT_ROOT / "gis" / "sample" / "yuzhong" / "manifest.json").read_text())["gaps"]
    with sample_db.session() as session:
        rows = grid_measures(session, MARCH)

    def flagged(key: str) -> list[str]:
        return sorted(r["code"] for r in rows if r[key])

    assert len(rows) == 245
    assert flagged("no_team") == gaps["grids_without_team"]
    assert flagged("no_branch") == gaps["grids_without_branch"]
    # A grid without a team has no grid worker either.
    without_worker = gaps["grids_without_active_grid_worker"] + gaps["grids_without_team"]
    assert flagged("no_worker") == sorted(without_worker)
    assert flagged("over_target") == gaps["grids_over_worker_target"]


def test_sql_finishing_agrees_with_the_pure_definition(places: Database, cases: dict[str, int]) -> None:
    """Rates, score and grade are written once as data in gis.metrics and applied in SQL by the store."""
    with places.session() as session:
        rows = [*grid_measures(session, MARCH), *grid_measures(session, MARCH, level="community"),
                district_summary(session, MARCH)]
    for row in rows:
        for key, value in finish_measures(row).items():
            expected = value if value is None or isinstance(value, str) else pytest.approx(value)
            assert row[key] == expected, key
