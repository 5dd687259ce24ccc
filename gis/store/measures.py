"""Measures per grid, rolled up to community, street and district, counted in PostGIS (DOMAIN.md "Measures").

One SQL statement (`gis/sql/measures_units.sql`) per call, no per-unit loop: the cases touched by the
period or open at the moment are scanned once and grouped by the unit's code, which every case carries
from its creation (grid_code, community_code, street_code, district_code; a later redraw does not move
history). Rates, score and grade are finished in the same statement, by SQL written from the tables of
`gis.metrics` (`RATES`, `SCORE_WEIGHTS`, `GRADES`); `gis.metrics.finish_measures` is the same arithmetic
in Python, and the tests hold the two equal. The choices, measure by measure:

* **Moment and period.** `period` is a `gis.periods.Period`, [start, end) of whole local days; `at` is
  the moment for stock measures and defaults to now. With `at` None (or not in the past) a case's state
  is its current status; for a past `at` it is rebuilt (see "open cases").
* **open cases** — filed (filed_at ≤ at) and not closed at `at` (`counts_as_open_case`: a `reported`
  case awaiting its filing decision is not counted). For a past `at` the state comes from timestamps where
  they decide it: never closed → open; no rework (a reopened case always has rework_count > 0) → closed
  iff closed_at ≤ at; last closure ≤ at and still closed now → closed; reopened (reworked_at) ≤ at → open.
  Otherwise (a case reopened after `at` or closed again after it) the ledger decides: the to_status of
  its last case_event at or before `at`. Only if a case has no ledger does the latest closure decide
  (closed iff closed_at ≤ at) — the one approximation, which can miss an earlier round.
* **overdue** — distinct cases that are open at `at` past their deadline (deadline < at), or were closed
  in the period after their deadline (latest closure). The two parts come as overdue_open and
  overdue_closed; a case in both counts once in `overdue`.
* **response / resolution time** — first_action_at − reported_at and handled_at − reported_at (latest
  handling, so rework lengthens it), elapsed clock hours, over cases reported in the period that have the
  timestamp (still unanswered cases are left out); median and 90th percentile by percentile_cont.
* **due to close** — deadline in the period; while the period is still running, a case whose deadline is
  after `at` only counts once it is closed, so a running month is not charged for cases not yet late.
  **closure rate** = closed at `at` / due; **on-time closure rate** = closed at `at` with its latest
  closure by the deadline / due (closed on time, reopened and closed late counts as late).
* **rework rate** = reworked (rework_count > 0) / handled, over cases whose latest handling is in the
  period. **satisfaction** = satisfied or basically satisfied / rated, over cases whose latest closure is
  in the period (the rating is the latest one; declined and unrated cases are left out).
* **organisational gaps** per grid on the local date of `at` (Asia/Shanghai): no grid party branch, no
  service team, no active grid worker (role grid_worker, from_date ≤ day ≤ to_date or open-ended, in the
  grid's team), households per worker over `households_per_worker_target`. `org_gaps` counts them (0–4
  per grid, summed in roll-ups); `households_per_worker` = households / active workers (None without
  a worker). A person serving two grids counts in both.
* **unvisited_share** = buildings with no visit in (at − visit_cycle_days, at] / buildings, over the
  buildings assigned to the grid (buildings outside every grid belong to the spatial coverage layer).
* **roll-ups** — counts are summed, rates recomputed from summed numerators and denominators,
  percentiles recomputed over the unit's cases. A community row also counts cases keyed to it that no
  grid answers for, and cases of grids since retired; `district_summary` counts every case.
* **units** — every current grid (valid on the date of `at`), every community, street or district gets a
  row, with zeros and Nones where nothing happened.

Speed: the case scan is a BitmapOr over the time-column indexes (reported_at, deadline, handled_at,
closed_at) and the status index, so it reads only the cases the period touches; it needs indexes on
deadline, handled_at and closed_at (reported_at and status have one). Those cases are read once
(a MATERIALIZED CTE): the counts and the percentiles (over the ones reported in the period, which the
reported_at arm brings in) both aggregate that one read, since the period's cases lie scattered over the
heap and reading their pages is most of the statement's cost. JIT is switched off for the statement
(`SET LOCAL`): compiling it cost more than running it. A past `at` reads the ledger only for reworked
cases that were closed after `at`, through case_event (case_id, at).

`measures_now` is the same statement judged at the caller's moment, for every unit or only some: the
`*_scope` placeholders of the SQL (and `_of_grids` for the per-grid statements it joins) keep each scan to
the units asked for, which gis/store/incremental.py uses to refresh only the units a change touched.

`district_summary` counts the district's cases in one statement that also gives `unrouted_open` (open
cases keyed to no grid, all among the cases it reads). Its organisational counts (grids, gaps, workers,
households, buildings, unvisited) are the sums over the current grids' rows, so when it has grid rows
carrying them (`ORG_COUNTS`) it sums those instead of counting buildings and visits again; without grid
rows it computes them first and sums them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.metrics import GRADES, INVERTED_IN_SCORE, MEASURES, ORG_CHECKS, RATES, SCORE_WEIGHTS, worst
from gis.periods import Period, district_today
from gis.store.focus import grid_gaps_sql
from gis.store.party import grid_party_sql
from gis.store.vocabulary import CLOSED_STATUSES, OPEN_CASE_STATUSES, current_sql, no_jit, past_deadline_sql
from gis.workflow import EVALUATIONS, Action

Level = Literal["grid", "community", "street", "district"]
LEVELS: tuple[str, ...] = ("grid", "community", "street", "district")

_SQL = (resources.files("gis") / "sql" / "measures_units.sql").read_text(encoding="utf-8")

SATISFIED_RATINGS = sorted(r.value for r in EVALUATIONS[Action.evaluate_satisfied])

# The organisational counts of a grid row; their sums over the current grids are the district's.
ORG_COUNTS = ("grids", "no_branch", "no_team", "no_worker", "over_target", "workers", "households",
              "buildings", "unvisited")
_ORG_GIVEN = "SELECT '' AS unit, " + ", ".join(f"CAST(:org_{k} AS bigint) AS {k}" for k in ORG_COUNTS)

# A case outside every community carries the nearest district as its distribution key only (no street):
# the district's row counts the cases keyed to its streets, as before; `district_summary` counts every case.
_CASE_UNIT = {"grid": "c.grid_code", "community": "c.community_code", "street": "c.street_code",
              "district": "CASE WHEN c.street_code IS NOT NULL THEN c.district_code END", "all": "''"}
_GRID_UNIT = {"grid": "g.code", "community": "g.community_code", "street": "g.street_code",
              "district": "g.district_code", "all": "''"}
_UNITS = {
    "grid": "SELECT code, name, community_code, street_code, district_code FROM grids_on",
    "community": "SELECT code, name, street_code, district_code FROM community",
    "street": "SELECT code, name, district_code FROM street",
    "district": "SELECT code, name FROM district",
    "all": "SELECT '' AS code, '' AS name",
}

_STATE_NOW = (
    "CASE WHEN c.status = ANY(:open_statuses) THEN 'open' "
    "WHEN c.status = ANY(:closed_statuses) THEN 'closed' END"
)
_OPEN_NOW = "c.status = ANY(:open_statuses)"
# The overdue rule (gis/store/vocabulary.py) on the case's state at :at, current or rebuilt.
_OVERDUE_OPEN = past_deadline_sql("state = 'open'", "deadline", ":at")

# The state at a past moment: timestamps where they decide it, the ledger where they cannot (module doc).
_STATE_PAST = """CASE
    WHEN c.filed_at IS NULL OR c.filed_at > :at THEN NULL
    WHEN c.closed_at IS NULL THEN 'open'
    WHEN c.rework_count = 0 THEN CASE WHEN c.closed_at <= :at THEN 'closed' ELSE 'open' END
    WHEN c.closed_at <= :at AND c.status = ANY(:closed_statuses) THEN 'closed'
    WHEN c.closed_at <= :at AND c.reworked_at <= :at THEN 'open'
    ELSE coalesce(
        (SELECT CASE WHEN e.to_status = ANY(:open_statuses) THEN 'open'
                     WHEN e.to_status = ANY(:closed_statuses) THEN 'closed' END
         FROM case_event AS e
         WHERE e.case_id = c.id AND e.at <= :at AND e.to_status IS NOT NULL
         ORDER BY e.at DESC, e.id DESC LIMIT 1),
        CASE WHEN c.closed_at <= :at THEN 'closed' ELSE 'open' END)
END"""
# Every case open at a past moment is never closed, closed (last) after it, or open now: a case whose last
# closure came before the moment and that is closed now was closed then. Each arm has an index.
_OPEN_PAST = "(c.closed_at IS NULL OR c.closed_at > :at OR c.status = ANY(:open_statuses))"


def _finishing_sql(counted: str) -> str:
    """Wrap the counting statement with the rates, score and grade of `gis.metrics`, written as SQL from the
    same tables (`RATES`, `SCORE_WEIGHTS`, `GRADES`) so the two cannot drift apart."""
    rates = ", ".join(f"{num}::float8 / NULLIF({den}, 0) AS {key}" for key, (num, den) in RATES.items())
    coverage = f"1 - org_gaps::float8 / NULLIF({ORG_CHECKS} * grids, 0) AS org_coverage"
    terms = {key: f"(1 - {key})" if key in INVERTED_IN_SCORE else key for key in SCORE_WEIGHTS}
    weighted = " + ".join(f"coalesce({w:g} * {terms[key]}, 0)" for key, w in SCORE_WEIGHTS.items())
    weights = " + ".join(f"CASE WHEN {key} IS NULL THEN 0 ELSE {w:g} END" for key, w in SCORE_WEIGHTS.items())
    score = f"100 * ({weighted}) / NULLIF({weights}, 0) AS score"
    grades = " ".join(f"WHEN score >= {lowest:g} THEN '{letter}'" for letter, lowest in GRADES[:-1])
    grade = f"CASE WHEN score IS NULL THEN NULL {grades} ELSE '{GRADES[-1][0]}' END AS grade"
    return (f"SELECT s.*, {grade} FROM (SELECT r.*, {score} FROM (SELECT c.*, {rates}, {coverage} "
            f"FROM ({counted}) AS c) AS r) AS s ORDER BY s.code")


_FINISHED_SQL = _finishing_sql(_SQL)


def grid_measures(
    session: Session,
    period: Period,
    *,
    at: datetime | None = None,
    level: Level = "grid",
    households_per_worker_target: int = 500,
    visit_cycle_days: int = 30,
) -> list[dict[str, Any]]:
    """One dict per unit of `level`, ordered by code: code, name, every `MEASURES` key, and the counts
    behind them (due, closed, handled, rated, grids, households, …) so a caller can show the arithmetic."""
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}; allowed: {', '.join(LEVELS)}",
                           details={"level": str(level), "allowed": list(LEVELS)})
    return _measures(session, period, at, level, households_per_worker_target, visit_cycle_days)


def district_summary(
    session: Session,
    period: Period,
    *,
    at: datetime | None = None,
    households_per_worker_target: int = 500,
    visit_cycle_days: int = 30,
    grid_rows: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Totals over every case and grid (the wall map's header): every `MEASURES` key and its counts, `open`
    (= open_cases), `unrouted_open` (open cases no grid answers for) and `grades` (grids per grade).

    Pass `grid_rows` from a `grid_measures` call for the same arguments to avoid computing them twice:
    rows that carry the organisational counts (`ORG_COUNTS`) also spare the buildings and visits, whose
    district totals are the sums over the current grids.
    """
    if grid_rows is None:
        grid_rows = _measures(session, period, at, "grid", households_per_worker_target, visit_cycle_days)
    org_totals: dict[str, int] | None = None
    if all(key in grid for grid in grid_rows for key in ORG_COUNTS):
        org_totals = {key: sum(int(grid[key]) for grid in grid_rows) for key in ORG_COUNTS}
    (row,) = _measures(session, period, at, "all", households_per_worker_target, visit_cycle_days,
                       org_totals=org_totals)
    districts = session.execute(text("SELECT code, name FROM district ORDER BY code")).mappings().all()
    only = districts[0] if len(districts) == 1 else {"code": None, "name": None}
    unrouted = row.pop("unrouted_open")
    grades = {letter: 0 for letter, _ in GRADES}
    for grid in grid_rows:
        if grid["grade"] is not None:
            grades[grid["grade"]] += 1
    row.update(
        code=only["code"], name=only["name"],
        level="all", open=row["open_cases"], unrouted_open=unrouted, grades=grades,
    )
    return row


def worst_grids(session: Session, period: Period, *, measure: str, limit: int = 10,
                at: datetime | None = None) -> list[dict[str, Any]]:
    """The `limit` grids worst on `measure` (worst first; ties by code). Grids with no value are left out;
    "grade" ranks by score."""
    if measure not in MEASURES:
        raise InvalidInput(f"unknown measure {measure!r}; allowed: {', '.join(MEASURES)}",
                           details={"measure": measure, "allowed": list(MEASURES)})
    return [dict(row) for row in worst(grid_measures(session, period, at=at), measure, limit)]


# -- the pipeline -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Moment:
    at: datetime
    current: bool


def _moment(at: datetime | None) -> _Moment:
    """`at` None or not in the past: current statuses; otherwise the state is rebuilt at `at`."""
    now = datetime.now(UTC)
    if at is None:
        return _Moment(now, True)
    if at.tzinfo is None:
        raise InvalidInput(f"at {at.isoformat()} has no timezone", details={"field": "at"})
    return _Moment(at, at >= now)


def _status_params() -> dict[str, Any]:
    return {"open_statuses": list(OPEN_CASE_STATUSES), "closed_statuses": list(CLOSED_STATUSES),
            "satisfied": SATISFIED_RATINGS}


def measures_now(
    session: Session, period: Period, level: Level, now: datetime, *, units: list[str] | None = None,
    grids: list[str] | None = None, households_per_worker_target: int = 500, visit_cycle_days: int = 30,
) -> list[dict[str, Any]]:
    """The rows of `grid_measures` with current statuses judged at `now` (the caller's clock, so that it
    knows the moment its rows stand for), for every unit or for `units` only: the same statement restricted
    to them (gis/store/incremental.py refreshes the units a change touched). `grids` are then the codes of
    every grid in those units (for the grid level, `units` itself): their organisational counts are read."""
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}; allowed: {', '.join(LEVELS)}",
                           details={"level": str(level), "allowed": list(LEVELS)})
    if now.tzinfo is None:
        raise InvalidInput(f"now {now.isoformat()} has no timezone", details={"field": "now"})
    scope = None if units is None else (units, units if grids is None else grids)
    return _measures(session, period, _Moment(now, True), level, households_per_worker_target, visit_cycle_days,
                     scope=scope)


# The scope placeholders of measures_units.sql (every unit when not refreshing a few).
_EVERY_UNIT = {"case_scope": "", "grid_scope": "", "team_scope": "", "building_scope": ""}
_SCOPED_GRIDS = "CAST(:scope_grids AS text[])"


def _scope_sql(level: str) -> dict[str, str]:
    return {"case_scope": f" AND {_CASE_UNIT[level]} = ANY(CAST(:scope_units AS text[]))",
            "grid_scope": f" AND g.code = ANY({_SCOPED_GRIDS})",
            "team_scope": f" AND t.grid_code = ANY({_SCOPED_GRIDS})",
            "building_scope": f" AND grid_id IN (SELECT id FROM grid WHERE code = ANY({_SCOPED_GRIDS}))"}


def _of_grids(per_grid: str, scope: tuple[list[str], list[str]] | None) -> str:
    """A per-grid statement (a `grid_code` column) kept to the grids in scope: the filter is pushed down
    into it (onto its DISTINCT ON key or join), so it reads only their rows."""
    if scope is None:
        return per_grid
    return f"SELECT * FROM ({per_grid}) AS scoped WHERE scoped.grid_code = ANY({_SCOPED_GRIDS})"


def _measures(
    session: Session, period: Period, at: datetime | _Moment | None, level: str, target: int, cycle_days: int,
    *, org_totals: dict[str, int] | None = None, scope: tuple[list[str], list[str]] | None = None,
) -> list[dict[str, Any]]:
    if target <= 0 or cycle_days <= 0:
        raise InvalidInput("households_per_worker_target and visit_cycle_days must be positive",
                           details={"households_per_worker_target": target, "visit_cycle_days": cycle_days})
    moment = at if isinstance(at, _Moment) else _moment(at)
    units = _UNITS[level]
    if scope is not None:
        units = f"SELECT * FROM ({units}) AS u WHERE u.code = ANY(CAST(:scope_units AS text[]))"
    sql = _FINISHED_SQL.format(
        case_unit=_CASE_UNIT[level], grid_unit=_GRID_UNIT[level], units=units,
        **(_EVERY_UNIT if scope is None else _scope_sql(level)),
        state=_STATE_NOW if moment.current else _STATE_PAST,
        open_candidates=_OPEN_NOW if moment.current else _OPEN_PAST,
        case_columns=", c.grid_code IS NULL AS no_grid" if level == "all" else "",
        case_counts=", count(*) FILTER (WHERE state = 'open' AND no_grid) AS unrouted_open" if level == "all" else "",
        unit_columns=", coalesce(s.unrouted_open, 0) AS unrouted_open" if level == "all" else "",
        org_stats="SELECT * FROM org_counted" if org_totals is None else _ORG_GIVEN,
        current_g=current_sql("g"), current_t=current_sql("t"), current_o=current_sql("o"),
        overdue_open=_OVERDUE_OPEN,
        focus_gaps=_of_grids(grid_gaps_sql(), scope),  # focus households unpaired or overdue (gis/store/focus.py)
        # branch members and weak branches per grid (gis/store/party.py)
        party_strength=_of_grids(grid_party_sql(), scope),
    )
    params = _status_params() | {
        "start": period.start, "end": period.end, "at": moment.at,
        "on": district_today(moment.at), "cycle_start": moment.at - timedelta(days=cycle_days),
        "target": target,
    } | {f"org_{key}": value for key, value in (org_totals or {}).items()}
    if scope is not None:
        params |= {"scope_units": list(scope[0]), "scope_grids": list(scope[1])}
    no_jit(session)
    result = session.execute(text(sql), params)
    keys = [*result.keys(), "level"]
    return [dict(zip(keys, (*row, level), strict=True)) for row in result]
