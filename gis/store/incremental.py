"""Measures that stay fresh: which units a change touches, and their rows refreshed alone.

A full computation of the measures reads every case the period touches (3.7 s at 50,000 grids and
5,000,000 cases); one new case changes one grid's row and the rows above it. So the rows of a level are
kept (`MeasureRows`) with a `Mark` of what their computation saw, and `fresh_rows` recomputes only the
units touched since, by the very statement of `gis.store.measures` restricted to them (`measures_now`
with `units`): a unit's row is a function of its own cases, buildings, visits and teams, so the same
statement over fewer units gives the same rows a full computation would, and a new count added to
`gis/sql/measures_units.sql` stays right with no code here. Roll-ups (community, street, district) are
refreshed the same way, each touched parent recomputed over its own cases: their percentiles are not sums
of their grids', and a community also counts the cases no grid answers for.

**Which units a change touches** (`touched_since`), three sources:

1. committed writes — `measure_change` (migration 0015), filled by statement triggers in the writing
   transaction with the old and new codes of every case row written and the grid of the building of
   every visit and focus household written. The changes a computation missed are exactly those whose
   transaction was not visible in the snapshot taken just before it (`pg_visible_in_snapshot`); a max(id)
   watermark would miss a transaction that commits after a later one. A change committed between the
   snapshot and the statement is seen by both: it is computed twice, never missed;
2. time, with no write — an open case turns overdue and a case due in the period counts as due once its
   deadline passes: the cases whose deadline (or closure) lies between the last moment and this one;
3. the visit cycle slides — buildings whose visit leaves (or enters) the cycle between the two moments.

Anything else recomputes everything: another day (teams, grids valid on a day), a change of places or
organisations (data version), a TRUNCATE (the log's `everything` row), more touched grids than
`FULL_SHARE` of all, or rows older than `FULL_AFTER_SECONDS` (a safety net for a count added later whose
value moves with the clock in a way not listed above; the log is pruned after `PRUNE_AFTER`). The layer
cache takes that safety net out of requests: it renews aged rows in a thread of its own and swaps them in
(`gis.store.measure_rows`, `renew_rows`).

Writers that bypass triggers (a bulk load with `session_replication_role = replica`) must add an
`everything` row to `measure_change`, as they add a `layer_change` row. A new count that reads a table not
logged here must log its writes too (a trigger like migration 0015's), or bump the places or org version.
With Citus, the log would be distributed by district like the cases it describes and read per node; it is
coordinator-local here, as `layer_change` is (gis/store/distribution.py).

Cost at 50,000 grids / 5,000,000 cases: a refresh after one changed case is three small index reads and
the scoped statement (about 20 ms), against about 4 s for the full computation; the layer right after a
change answers in 0.06 s over HTTP (bench/layers.py, beside tipg's items at 3.8 s).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.periods import Period, district_today
from gis.store.data_version import DataVersion
from gis.store.measures import Level, measures_now

__all__ = ["FULL_AFTER_SECONDS", "FULL_SHARE", "PRUNE_AFTER", "Mark", "MeasureRows", "Touched", "fresh_rows",
           "mark", "prune", "touched_since"]

FULL_SHARE = 0.2
"""Touched grids beyond this share of all grids: one full computation is cheaper than a scoped one."""
FULL_AFTER_SECONDS = 600.0
"""Rows older than this are computed in full again (the log is kept far longer: `PRUNE_AFTER`)."""
PRUNE_AFTER = timedelta(hours=1)

_CODES = ("grid_code", "community_code", "street_code", "district_code")
_LEVEL_CODE = {"grid": "grid_code", "community": "community_code", "street": "street_code",
               "district": "district_code"}
_GRID_COLUMN = {"grid": "g.code", "community": "m.code", "street": "g.street_code", "district": "g.district_code"}

_LOGGED_SQL = """
SELECT everything, grid_code, community_code, street_code, district_code
FROM measure_change
WHERE xid >= pg_snapshot_xmin(CAST(:snapshot AS pg_snapshot))
  AND NOT pg_visible_in_snapshot(xid, CAST(:snapshot AS pg_snapshot))
"""
# Deadlines passed between the two moments: overdue_open and due change with no write; so does
# closed_on_time (closed_at <= :at) for a closure stamped by a clock ahead of the one judging.
_DEADLINES_SQL = """
SELECT DISTINCT grid_code, community_code, street_code, district_code
FROM service_case
WHERE (deadline >= :since AND deadline <= :until) OR (closed_at >= :since AND closed_at <= :until)
"""
# Visits entering or leaving the cycle (at − cycle, at] between the two moments.
_VISITS_SQL = """
SELECT DISTINCT g.code AS grid_code, m.code AS community_code, g.street_code, g.district_code
FROM visit AS v
JOIN building AS b ON b.id = v.building_id
JOIN grid AS g ON g.id = b.grid_id
JOIN community AS m ON m.id = g.community_id
WHERE (v.visited_at >= :since - :cycle AND v.visited_at <= :until - :cycle)
   OR (v.visited_at >= :since AND v.visited_at <= :until)
"""


@dataclass(frozen=True)
class Mark:
    """What a computation saw: the data committed in `snapshot` (taken just before it), judged at `at`."""

    snapshot: str
    at: datetime


def mark(session: Session, at: datetime) -> Mark:
    """The snapshot to take before computing rows judged at `at`."""
    return Mark(session.execute(text("SELECT CAST(pg_current_snapshot() AS text)")).scalar_one(), at)


@dataclass(frozen=True)
class Touched:
    """Units whose rows may have changed: codes per level, or `everything`."""

    everything: bool
    codes: dict[str, frozenset[str]]

    def of(self, level: str) -> frozenset[str]:
        return self.codes[_LEVEL_CODE[level]]


def touched_since(session: Session, since: Mark, at: datetime, cycle_days: int) -> Touched:
    """The units whose measures may differ between `since` and the data committed now judged at `at`
    (module doc: the log, deadlines passed, the visit cycle)."""
    logged = session.execute(text(_LOGGED_SQL), {"snapshot": since.snapshot}).mappings().all()
    if any(row["everything"] for row in logged):
        return Touched(True, {code: frozenset() for code in _CODES})
    low, high = min(since.at, at), max(since.at, at)
    window = {"since": low, "until": high}
    rows: list[Any] = list(logged)
    rows += session.execute(text(_DEADLINES_SQL), window).mappings().all()
    rows += session.execute(text(_VISITS_SQL), window | {"cycle": timedelta(days=cycle_days)}).mappings().all()
    return Touched(False, {code: frozenset(r[code] for r in rows if r[code] is not None) for code in _CODES})


def prune(session: Session) -> None:
    """Forget log rows older than `PRUNE_AFTER` (once at a time; never on a read replica)."""
    if session.info.get("replica"):
        return
    if session.execute(text("SELECT pg_try_advisory_xact_lock(hashtext('gridmap.measure_change'))")).scalar_one():
        session.execute(text("DELETE FROM measure_change WHERE at < clock_timestamp() - :age"), {"age": PRUNE_AFTER})


# -- rows kept fresh ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureRows:
    """The rows of every unit of `level` by code, as `measures_now` makes them (`kept` columns only, if
    given), for the data at `version` and `mark`; `changed` are the codes recomputed by the refresh that
    made them (None: all of them)."""

    level: str
    period: Period
    version: DataVersion
    mark: Mark
    day: date
    made: float
    rows: dict[str, dict[str, Any]]
    changed: frozenset[str] | None


def fresh_rows(
    session: Session, previous: MeasureRows | None, period: Period, level: Level, version: DataVersion, at: datetime,
    *, households_per_worker_target: int = 500, visit_cycle_days: int = 30, kept: Iterable[str] | None = None,
    full_share: float = FULL_SHARE, full_after: float = FULL_AFTER_SECONDS,
) -> MeasureRows:
    """The rows of every unit of `level` for `period`, judged at `at` (current statuses) on the data committed
    now: `previous` refreshed for the units touched since it (module doc), or computed in full (also when
    more than `full_share` of the units were touched, or `previous` descends from a full computation more
    than `full_after` seconds old: a caller that renews rows in the background passes a longer one)."""
    keys = tuple(kept) if kept is not None else None
    args = {"households_per_worker_target": households_per_worker_target, "visit_cycle_days": visit_cycle_days}
    day = district_today(at)
    seen = mark(session, at)
    if _refreshable(previous, period, level, version, day, full_after):
        assert previous is not None
        touched = touched_since(session, previous.mark, at, visit_cycle_days)
        units = touched.of(level)
        if not touched.everything and len(units) <= full_share * max(len(previous.rows), 1):
            rows = dict(previous.rows)
            if units:
                grids = sorted(units) if level == "grid" else _grids_of(session, level, units)
                for row in measures_now(session, period, level, at, units=sorted(units), grids=grids, **args):
                    rows[row["code"]] = _kept(row, keys)
            return MeasureRows(level, period, version, seen, day, previous.made, rows, frozenset(units))
    prune(session)
    rows = {row["code"]: _kept(row, keys) for row in measures_now(session, period, level, at, **args)}
    return MeasureRows(level, period, version, seen, day, time.monotonic(), rows, None)


def _refreshable(previous: MeasureRows | None, period: Period, level: str, version: DataVersion, day: date,
                 full_after: float) -> bool:
    return (previous is not None and previous.level == level and previous.period == period
            and previous.day == day and previous.version.places == version.places
            and previous.version.org == version.org
            and time.monotonic() - previous.made <= full_after)


def _grids_of(session: Session, level: str, units: frozenset[str]) -> list[str]:
    """Every grid code (any version) in `units` of `level`: the grids whose organisational counts roll up."""
    return list(session.execute(text(
        f"SELECT DISTINCT g.code FROM grid AS g JOIN community AS m ON m.id = g.community_id "
        f"WHERE {_GRID_COLUMN[level]} = ANY(CAST(:units AS text[]))"), {"units": sorted(units)}).scalars())


def _kept(row: dict[str, Any], keys: tuple[str, ...] | None) -> dict[str, Any]:
    return row if keys is None else {k: row[k] for k in keys}
