"""The store's vocabulary: each SQL form, evaluated in PostGIS over a table of every combination, equals
its Python form; the status sets are the workflow's, written out here independently."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from gis.store import vocabulary as v
from gis.store.database import Database
from gis.workflow import CaseStatus

AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_status_sets_are_the_workflows() -> None:
    assert set(v.OPEN_STATUSES) == {"reported", "filed", "dispatched", "in_handling", "handled", "rework"}
    assert set(v.OPEN_CASE_STATUSES) == {"filed", "dispatched", "in_handling", "handled", "rework"}
    assert set(v.CLOSED_STATUSES) == {"closed", "evaluated", "merged"}
    assert set(v.CLOCK_STATUSES) == {"dispatched", "in_handling", "handled", "rework"}
    assert v.open_case_sql("c") == "c.status IN ('filed', 'dispatched', 'in_handling', 'handled', 'rework')"


def test_overdue_sql_equals_python(db: Database) -> None:
    deadlines = [None, AT - HOUR, AT, AT + HOUR]
    closings = [None, AT - 2 * HOUR, AT - HOUR, AT + HOUR]
    rows = [(i, status.value, deadline, closed)
            for i, (status, deadline, closed) in enumerate(itertools.product(CaseStatus, deadlines, closings))]
    with db.session() as session:
        session.execute(text("CREATE TEMP TABLE c (i int, status text, deadline timestamptz, closed_at timestamptz)"))
        session.execute(text("INSERT INTO c VALUES (:i, :status, :deadline, :closed)"),
                        [{"i": i, "status": s, "deadline": d, "closed": c} for i, s, d, c in rows])
        found = session.execute(text(
            f"SELECT i, {v.overdue_sql('c', ':at')}, {v.overdue_open_sql('c', ':at')} IS TRUE FROM c ORDER BY i"
        ), {"at": AT}).all()
    assert len(found) == len(rows) == 10 * 4 * 4
    for (i, status, deadline, closed), (j, overdue, overdue_open) in zip(rows, found, strict=True):
        assert i == j
        assert overdue is v.is_overdue(status, deadline, closed, AT), (status, deadline, closed)
        assert overdue_open is v.is_overdue_open(status, deadline, AT), (status, deadline)
    # Answers seen by hand: late and open; closed late; closed on time; open, not late yet; never dispatched.
    assert v.is_overdue("in_handling", AT - HOUR, None, AT)
    assert v.is_overdue("evaluated", AT - 2 * HOUR, AT - HOUR, AT)
    assert not v.is_overdue("closed", AT - HOUR, AT - 2 * HOUR, AT)
    assert not v.is_overdue("dispatched", AT, None, AT)
    assert not v.is_overdue("filed", None, None, AT)


def test_current_sql_equals_python(db: Database) -> None:
    day = date(2026, 3, 10)
    one = timedelta(days=1)
    froms = [day - 2 * one, day - one, day, day + one]
    tos = [None, day - one, day, day + one, day + 2 * one]
    rows = [(i, f, t) for i, (f, t) in enumerate(itertools.product(froms, tos)) if t is None or t > f]
    with db.session() as session:
        session.execute(text("CREATE TEMP TABLE g (i int, valid_from date, valid_to date)"))
        session.execute(text("INSERT INTO g VALUES (:i, :f, :t)"), [{"i": i, "f": f, "t": t} for i, f, t in rows])
        found = session.execute(text(f"SELECT i, {v.current_sql('g', ':on')} FROM g ORDER BY i"), {"on": day}).all()
    assert [current for _, current in found] == [v.is_current(f, t, day) for _, f, t in rows]
    assert v.is_current(day, None, day) and v.is_current(day - one, day + one, day)
    assert not v.is_current(day + one, None, day)  # future-dated: not yet
    assert not v.is_current(day - one, day, day)  # ended today


def test_current_during_sql_equals_python_and_is_current_on_some_day_of_the_range(db: Database) -> None:
    day = date(2026, 3, 10)
    one = timedelta(days=1)
    froms = [day - 2 * one, day - one, day, day + one, day + 2 * one]
    tos = [None, day - one, day, day + one, day + 2 * one, day + 3 * one]
    versions = [(f, t) for f, t in itertools.product(froms, tos) if t is None or t > f]
    ranges = [(day - one, day - one), (day, day), (day - one, day + one), (day + one, day + 2 * one)]
    rows = [(i, f, t, a, b) for i, ((f, t), (a, b)) in enumerate(itertools.product(versions, ranges))]
    with db.session() as session:
        session.execute(text("CREATE TEMP TABLE g (i int, valid_from date, valid_to date, a date, b date)"))
        session.execute(text("INSERT INTO g VALUES (:i, :f, :t, :a, :b)"),
                        [{"i": i, "f": f, "t": t, "a": a, "b": b} for i, f, t, a, b in rows])
        found = session.execute(text(f"SELECT i, {v.current_during_sql('g', 'g.a', 'g.b')} FROM g ORDER BY i")).all()
    assert [during for _, during in found] == [v.is_current_during(f, t, a, b) for _, f, t, a, b in rows]
    for _, f, t, a, b in rows:  # the one "current" rule, day by day
        days = [a + k * one for k in range((b - a).days + 1)]
        assert v.is_current_during(f, t, a, b) is any(v.is_current(f, t, d) for d in days), (f, t, a, b)


def test_current_day_is_the_districts() -> None:
    assert v.current_day(datetime(2026, 3, 9, 17, 0, tzinfo=UTC)) == date(2026, 3, 10)  # 01:00 in Shanghai
    assert v.current_day(datetime(2026, 3, 9, 15, 0, tzinfo=UTC)) == date(2026, 3, 9)


def test_solved_and_local_resolution_sql_equal_python(db: Database) -> None:
    """The closed state beside each SQL form is the caller's (the measures' `state`), as in the measures."""
    outcomes = [None, "solved", "explained", "merged"]
    rows = [(i, status.value, outcome, department, escalated)
            for i, (status, outcome, department, escalated) in enumerate(itertools.product(
                CaseStatus, outcomes, [None, "区住建委"], [None, AT]))]
    closed = set(v.CLOSED_STATUSES)
    with db.session() as session:
        session.execute(text("CREATE TEMP TABLE c (i int, status text, outcome text, department text, "
                             "escalated_at timestamptz)"))
        session.execute(text("INSERT INTO c VALUES (:i, :s, :o, :d, :e)"),
                        [{"i": i, "s": s, "o": o, "d": d, "e": e} for i, s, o, d, e in rows])
        found = session.execute(text(
            f"SELECT i, c.status = ANY(:closed) AND {v.SOLVED_OUTCOME_SQL}, "
            f"c.status = ANY(:closed) AND c.status <> 'merged' AND c.outcome IS DISTINCT FROM 'merged' "
            f"AND {v.LOCAL_RESOLUTION_SQL} "
            "FROM c ORDER BY i"), {"closed": sorted(closed)}).all()
    assert len(found) == len(rows) == 10 * 4 * 2 * 2
    for (i, status, outcome, department, escalated), (j, solved, local) in zip(rows, found, strict=True):
        assert i == j
        assert solved is v.is_solved(status, outcome), (status, outcome)
        assert local is v.is_local_resolution(status, outcome, department, escalated), (status, outcome)
    assert v.is_solved("evaluated", None) and not v.is_solved("evaluated", "explained")
    assert v.is_local_resolution("closed", "explained", None, None)
    assert not v.is_local_resolution("closed", "solved", "区住建委", None)
