"""The store's vocabulary: the words every query uses, each defined once, in SQL and in Python.

* **open** — two sets, both read from `gis.workflow.STATUS_CATEGORY`:
  `OPEN_STATUSES` (someone still has to act, `is_open`: includes `reported`, awaiting the filing decision)
  and `OPEN_CASE_STATUSES` (the "open cases" measure, `counts_as_open_case`: filed and not closed). Maps,
  tiles, measures and the overdue rule count open *cases*; the unrouted queue and case listings use
  `OPEN_STATUSES`. `open_case_sql` is written with literals so the partial indexes of migration 0003
  (`ix_case_open_position`, `ix_case_open_grid`, declared in `gis.store.models` from the same text) apply.
* **overdue** — a case with a deadline that is open past it at the moment `at`, or was closed after it
  (latest closure): `is_overdue` in Python, `overdue_sql` in SQL; `overdue_open_sql` is the first half
  only (what the wall's overdue dots and the sweeper's flags are about). A case without a deadline (never
  dispatched) is never overdue.
* **current on a day** — a versioned row (grid, team, party organisation) is current on `day` when
  `valid_from <= day AND (valid_to IS NULL OR valid_to > day)`: `is_current` / `current_sql`; current on
  some day of a range: `is_current_during` / `current_during_sql` (OGC API `datetime` intervals). The day is
  the district's (`gis.periods.district_today`, Asia/Shanghai), never the machine's; a grid imported
  with a future `valid_from` is not current (routes nothing, is on no map) until that day.
* **solved** — a closed case whose outcome is solved (`gis.workflow.Outcome`; NULL, from before outcomes
  were kept, counts as solved): `is_solved` (from `gis.workflow`, so the pure ledger uses it too) /
  `SOLVED_OUTCOME_SQL` (with the closed state beside it). A case
  closed as explained (解释说明) is closed but not solved; a merged duplicate (status merged) is not a case of
  its own and counts in no measure. **resolved locally** (矛盾不上交) — closed without leaving the locality:
  no owning department and never escalated: `is_local_resolution` / `LOCAL_RESOLUTION_SQL`. The measures'
  SQL (`gis/sql/measures_units.sql`) writes both texts literally; tests/api/test_repeats.py holds them equal.
* **JIT off** — `no_jit`: the wide statements of measures, layers, coverage and large tiles cost more to
  JIT-compile than to run.

tests/store/test_vocabulary.py evaluates the SQL forms in PostGIS over a table of cases and versions and
holds them equal to the Python forms.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.periods import district_today
from gis.workflow import CaseStatus, Outcome, clock_running, counts_as_open_case, is_closed, is_open, is_solved

__all__ = [
    "CLOCK_STATUSES", "CLOSED_STATUSES", "LOCAL_RESOLUTION_SQL", "SOLVED_OUTCOME_SQL", "is_local_resolution",
    "is_solved", "OPEN_CASE_STATUSES", "OPEN_STATUSES", "current_day", "current_during_sql",
    "current_sql", "is_current", "is_current_during", "is_overdue", "is_overdue_open", "no_jit", "open_case_sql",
    "overdue_open_sql", "overdue_sql",
    "past_deadline_sql",
    "sql_list",
]

OPEN_STATUSES: tuple[str, ...] = tuple(s.value for s in CaseStatus if is_open(s))
"""Someone still has to act, including on a `reported` case awaiting its filing decision."""
OPEN_CASE_STATUSES: tuple[str, ...] = tuple(s.value for s in CaseStatus if counts_as_open_case(s))
"""The "open cases" measure: filed and not closed."""
CLOSED_STATUSES: tuple[str, ...] = tuple(s.value for s in CaseStatus if is_closed(s))
CLOCK_STATUSES: tuple[str, ...] = tuple(s.value for s in CaseStatus if clock_running(s))
"""The deadline applies now: the sweeper flags these when late."""


def sql_list(values: tuple[str, ...]) -> str:
    """`('a', 'b')`: status values inlined as literals (checked to be plain words), so partial indexes apply."""
    if not all(v.replace("_", "").isalpha() for v in values):
        raise ValueError(f"not plain status words: {values}")
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def open_case_sql(alias: str | None = "c") -> str:
    """`c.status IN ('filed', …)`: the case is an open case (`OPEN_CASE_STATUSES`)."""
    column = f"{alias}.status" if alias else "status"
    return f"{column} IN {sql_list(OPEN_CASE_STATUSES)}"


# -- overdue ------------------------------------------------------------------------------------------


def is_overdue_open(status: str, deadline: datetime | None, at: datetime) -> bool:
    """An open case past its deadline at `at`."""
    return deadline is not None and status in OPEN_CASE_STATUSES and deadline < at


def is_overdue(status: str, deadline: datetime | None, closed_at: datetime | None, at: datetime) -> bool:
    """Open past the deadline at `at`, or closed (latest closure) after the deadline."""
    if deadline is None:
        return False
    return is_overdue_open(status, deadline, at) or (closed_at is not None and closed_at > deadline)


def past_deadline_sql(is_open: str, deadline: str = "c.deadline", at: str = ":now") -> str:
    """The overdue rule's first half over any expressions: `is_open` (the case is open at `at`, e.g. a
    state rebuilt for a past moment) and past its `deadline`."""
    return f"({is_open} AND {deadline} < {at})"


def overdue_open_sql(alias: str = "c", at: str = ":now") -> str:
    """SQL of `is_overdue_open`; `at` is an SQL expression (a bound parameter by default)."""
    return past_deadline_sql(open_case_sql(alias), f"{alias}.deadline", at)


def overdue_sql(alias: str = "c", at: str = ":now") -> str:
    """SQL of `is_overdue` (never NULL)."""
    return (f"({alias}.deadline IS NOT NULL AND ({open_case_sql(alias)} AND {alias}.deadline < {at} "
            f"OR {alias}.closed_at IS NOT NULL AND {alias}.closed_at > {alias}.deadline))")


# -- solved, explained, resolved locally ---------------------------------------------------------------

SOLVED_OUTCOME_SQL = f"coalesce(c.outcome, '{Outcome.solved.value}') = '{Outcome.solved.value}'"
"""SQL of the outcome half of `is_solved` for the case `c` (the closed half is the caller's state)."""
LOCAL_RESOLUTION_SQL = "(c.department IS NULL AND c.escalated_at IS NULL)"
"""SQL of the locality half of `is_local_resolution` for the case `c`."""


def is_local_resolution(status: str, outcome: str | None, department: str | None, escalated_at: object) -> bool:
    """Closed (solved or explained, not merged) without leaving the grid or community: no owning department
    was asked and the case was never escalated to the level above (矛盾不上交)."""
    closed = is_closed(CaseStatus(status)) and CaseStatus.merged not in (status, outcome)
    return closed and department is None and escalated_at is None


# -- current on a day ---------------------------------------------------------------------------------


current_day = district_today
"""The day "current" is judged on: the district's (Asia/Shanghai) date of `now` (default: the clock)."""


def is_current(valid_from: date, valid_to: date | None, day: date) -> bool:
    """A version is current on `day`: begun on or before it, not ended on or before it."""
    return valid_from <= day and (valid_to is None or valid_to > day)


def current_sql(alias: str = "g", day: str = ":on") -> str:
    """SQL of `is_current` for the versioned row `alias`; `day` is an SQL date expression."""
    return f"({alias}.valid_from <= {day} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {day}))"


def is_current_during(valid_from: date, valid_to: date | None, first: date, last: date) -> bool:
    """A version is current on at least one day of `first`..`last` (both included): `is_current` on some
    day of the range, which is begun by `last` and not ended by `first`."""
    return valid_from <= last and (valid_to is None or valid_to > first)


def current_during_sql(alias: str = "g", first: str = ":first", last: str = ":last") -> str:
    """SQL of `is_current_during` (OGC API `datetime` intervals over grid versions)."""
    return f"({alias}.valid_from <= {last} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {first}))"


def is_serving(from_date: date, to_date: date | None, day: date) -> bool:
    """A team membership is active on `day`: from its first day to its last, both included."""
    return from_date <= day and (to_date is None or day <= to_date)


def serving_sql(alias: str = "m", day: str = ":on") -> str:
    """SQL of `is_serving` for the membership row `alias`."""
    return f"({alias}.from_date <= {day} AND ({alias}.to_date IS NULL OR {alias}.to_date >= {day}))"


# -- session settings ---------------------------------------------------------------------------------


def no_jit(session: Session) -> None:
    """JIT off for this transaction: compiling the wide statements costs more than running them (1.6 s of
    4 s for the measures on 5,000,000 cases; seconds for layers on 50,000 grids)."""
    session.execute(text("SET LOCAL jit = off"))
