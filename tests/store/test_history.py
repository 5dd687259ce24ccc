"""The seeded case-history generator (gis/sample/history.py) on the hand-drawn places, in a real PostGIS."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gis.categories import load_categories
from gis.errors import Conflict
from gis.sample import history
from gis.settings import Settings
from gis.store.database import Database
from gis.store.reference import load_calendar
from gis.workcalendar import SHANGHAI, default_calendar
from gis.workflow import FIRST_ACTIONS, STATUS_TIMESTAMP, Action, CaseStatus, next_status
from tests import drawn
from tests.api.conftest import load_drawn

END = datetime(2026, 6, 30, 18, 0, tzinfo=SHANGHAI)
DAYS = 60
ACTIONS = {a.value for a in Action}
FLAGS = {"supervise", "escalate"}
STAMPS = tuple(STATUS_TIMESTAMP.values())


@pytest.fixture
def places(db: Database, db_settings: Settings, tmp_path: Path) -> Database:
    load_drawn(db_settings, tmp_path)
    return db


def _generate(db: Database, **options: Any) -> dict[str, Any]:
    """60 days on two grids at 6 cases per grid per day (~700 cases), 3% of them outside every grid."""
    with db.session() as session:
        return history.generate_history(session, seed=7, end=END, days=DAYS, progress=lambda _: None,
                                        cases_per_grid_day=6, outside_share=0.03, **options)


def _rows(db: Database, sql: str) -> list[dict[str, Any]]:
    with db.session() as session:
        return [dict(r._mapping) for r in session.execute(text(sql))]


def _snapshot(db: Database) -> tuple:
    """Counts and the first rows, without database ids."""
    cases = _rows(db, "SELECT source, category_code, grid_code, status, reported_at, deadline, closed_at, "
                      "satisfaction, ST_AsText(position) AS position FROM service_case "
                      "ORDER BY reported_at, idempotency_key LIMIT 25")
    events = _rows(db, "SELECT e.at, e.actor, e.action, e.to_status, e.note FROM case_event AS e "
                       "JOIN service_case AS c ON c.id = e.case_id "
                       "ORDER BY c.reported_at, c.idempotency_key, e.at, e.id LIMIT 60")
    visits = _rows(db, "SELECT building_id, person_id, visited_at, note FROM visit "
                       "ORDER BY visited_at, id LIMIT 20")
    counts = _rows(db, "SELECT (SELECT count(*) FROM service_case) AS cases, "
                       "(SELECT count(*) FROM case_event) AS events, (SELECT count(*) FROM visit) AS visits")
    return counts, cases, events, visits


def test_same_seed_same_history_and_replace_is_required(places: Database) -> None:
    first = _generate(places)
    before = _snapshot(places)
    with pytest.raises(Conflict, match="--replace"):
        _generate(places)
    second = _generate(places, replace=True)
    assert _snapshot(places) == before
    del first["seconds"], second["seconds"]
    assert first == second
    assert 500 < first["cases"] < 900


def test_ledger_replays_from_events_and_deadlines_follow_the_calendar(places: Database) -> None:
    # The calendar is the database's: a day off declared there (not in holidays.csv) moves deadlines.
    with places.session() as session:
        session.execute(text("INSERT INTO calendar_day (day, kind, name) VALUES "
                             "('2026-06-10', 'holiday', '本区调休'), ('2026-06-11', 'holiday', '本区调休')"))
        calendar = load_calendar(session)
    assert default_calendar().is_working_day(date(2026, 6, 10)) and not calendar.is_working_day(date(2026, 6, 10))
    _generate(places)
    cases = _rows(places, "SELECT * FROM service_case ORDER BY id")
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in _rows(places, "SELECT * FROM case_event ORDER BY at, id"):
        events[event["case_id"]].append(event)
    categories = load_categories()
    for case in cases:
        chain = events[case["id"]]
        create = chain[0]
        assert (create["action"], create["from_status"], create["to_status"]) == ("create", None, "reported")
        assert create["at"] == case["reported_at"]
        status, stamps = CaseStatus.reported, {"reported_at": create["at"]}
        first_action = first_dispatch = None
        for previous, event in zip(chain, chain[1:], strict=False):
            assert event["at"] >= previous["at"]
            if event["action"] in FLAGS:
                assert event["from_status"] == event["to_status"] == status.value
                assert case[f"{event['action']}d_at"] == event["at"]
                continue
            assert event["action"] in ACTIONS and event["from_status"] == status.value
            status = next_status(status, event["action"])
            assert event["to_status"] == status.value
            stamps[STATUS_TIMESTAMP[status]] = event["at"]
            if Action(event["action"]) in FIRST_ACTIONS and first_action is None:
                first_action = event["at"]
            if event["action"] == "dispatch" and first_dispatch is None:
                first_dispatch = event["at"]
        assert case["status"] == status.value, case["id"]
        assert {f: case[f] for f in STAMPS} == {f: stamps.get(f) for f in STAMPS}
        assert case["first_action_at"] == first_action
        assert case["updated_at"] == chain[-1]["at"] <= END
        category = categories[case["category_code"]]
        assert case["deadline"] == (category.deadline(first_dispatch, calendar) if first_dispatch else None)
        if case["supervised_at"]:
            assert case["supervised_at"] >= case["deadline"]
            assert case["escalated_at"] is None or case["escalated_at"] >= case["supervised_at"]
        assert (case["status"] == "declined") == (case["decline_reason"] is not None)


def test_shares_routing_and_visits_are_plausible(places: Database) -> None:
    summary = _generate(places)
    routed = _rows(places, "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'declined') AS declined "
                           "FROM service_case WHERE grid_code IS NOT NULL")[0]
    assert 0.01 <= routed["declined"] / routed["n"] <= 0.06  # ~3%; out-of-district reports are declined too
    assert 0.85 <= summary["satisfaction"] <= 0.995
    assert 0.6 <= summary["rated_share"] <= 0.85
    assert 0.5 <= summary["on_time_closure_rate"] <= summary["closure_rate"] <= 1
    # A grid with an organisational gap struggles: the east grid has no service team.
    on_time = {r["grid_code"]: r["share"] for r in _rows(
        places, "SELECT grid_code, avg(coalesce(closed_at <= deadline, false)::int) AS share "
                f"FROM service_case WHERE deadline <= '{END.isoformat()}' AND grid_code IS NOT NULL "
                "GROUP BY grid_code")}
    assert on_time[drawn.EAST_CODE] < on_time[drawn.WEST_CODE]
    hotline = _rows(places, "SELECT count(*) AS n FROM service_case WHERE source = 'hotline'")[0]["n"]
    assert 0.3 <= hotline / summary["cases"] <= 0.5
    # Routed by the shared rule; reports outside every grid are kept, unrouted, with no team.
    wrong = _rows(places, "SELECT c.id FROM service_case AS c LEFT JOIN LATERAL (SELECT g.code "
                          "FROM grid AS g WHERE g.valid_to IS NULL AND ST_Covers(g.geom, c.position) "
                          "ORDER BY g.code LIMIT 1) AS r ON true WHERE c.grid_code IS DISTINCT FROM r.code")
    assert wrong == []
    unrouted = _rows(places, "SELECT status, team_id FROM service_case WHERE grid_code IS NULL")
    assert summary["unrouted"] == len(unrouted) >= 5
    assert all(r["team_id"] is None for r in unrouted)
    teams = _rows(places, "SELECT DISTINCT c.grid_code, c.team_id = t.id AS ok FROM service_case AS c "
                          "LEFT JOIN service_team AS t ON t.grid_code = c.grid_code "
                          "WHERE c.grid_code IS NOT NULL")
    assert {r["grid_code"]: r["ok"] for r in teams} == {drawn.WEST_CODE: True, drawn.EAST_CODE: None}
    # Visits: only by the west grid's serving worker (the east grid has no team, the other worker left).
    visitors = _rows(places, "SELECT DISTINCT p.name, g.code FROM visit AS v "
                             "JOIN person AS p ON p.id = v.person_id "
                             "JOIN building AS b ON b.id = v.building_id JOIN grid AS g ON g.id = b.grid_id")
    assert visitors == [{"name": "孙网格员", "code": drawn.WEST_CODE}]
    assert summary["visits"] >= 3
    assert summary["buildings_visited_30d"] <= 3 / 4  # four buildings in grids, the east one never visited
