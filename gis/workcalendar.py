"""Working-time arithmetic on a PRC work calendar: deadlines and measured durations for cases.

Case time limits count working time (DOMAIN.md "Cases"), so "4 working hours" from Friday 16:00 ends
on Monday morning, and "3 working days" skips the Spring Festival but counts a make-up Saturday (调休上班).

Rules, chosen and fixed here:

* **Working day**: Monday–Friday, except public holidays (放假); plus the make-up working days
  (调休上班) the State Council announces, which fall on weekends. A date in neither list follows the
  weekday rule, so years not in the holiday file (see `WorkCalendar.covers`) get weekends only.
* **Working hours** (default): 09:00–12:00 and 13:30–17:30, Asia/Shanghai — 7 hours a day, with the
  lunch break most street offices and grid stations keep. Pass other `periods` for another timetable
  (e.g. `((time(9), time(17, 30)),)` for no lunch break).
* **clock_hours**: plain elapsed time, 24×7, for emergencies ("2 hours" means 2 hours on the clock).
* **working_hours**: counted only inside working periods. A start outside them waits for the next
  period; a deadline that lands exactly on the end of a period stays there (12:00, not 13:30).
* **working_days**: the day the clock starts is not counted (as in PRC law on periods: "开始的当日不计入",
  Civil Code art. 201); the limit ends at the close of the Nth working day after the start date. So
  dispatched on Monday at any hour, 3 working days → Thursday 17:30; dispatched on a Saturday,
  1 working day → Monday 17:30.

The shipped `gis/data/holidays.csv` (date, kind = holiday | workday, name; every day of each break,
weekends included, as the notices list them) follows the State Council notices:
2025 — 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 12 Nov 2024);
2026 — 国务院办公厅关于2026年部分节假日安排的通知 (4 Nov 2025, published by Xinhua).
Add each new year when it is announced (usually November); until then that year has weekends only.

All datetimes are timezone-aware; a naive datetime raises InvalidInput rather than being guessed at.
Results are returned in the calendar's timezone.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gis.errors import InvalidInput
from gis.i18n import is_english

__all__ = [
    "DEFAULT_PERIODS",
    "SHANGHAI",
    "CalendarEntry",
    "LimitUnit",
    "TimeLimit",
    "WorkCalendar",
    "default_calendar",
    "load_work_calendar",
    "read_calendar_entries",
]


def _shanghai() -> tzinfo:
    """Asia/Shanghai from the tz database; a fixed +08:00 if none is installed (no DST since 1991)."""
    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:  # pragma: no cover - depends on the host
        from datetime import timezone

        return timezone(timedelta(hours=8), "Asia/Shanghai")


SHANGHAI: tzinfo = _shanghai()

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
"""09:00–12:00 and 13:30–17:30: seven working hours a day."""

_SEARCH_LIMIT_DAYS = 3660
"""Give up after ten years without a working day: the calendar, not the case, is wrong then."""


class LimitUnit(StrEnum):
    """How a time limit is counted (the `limit_unit` column of categories.csv)."""

    clock_hours = "clock_hours"
    working_hours = "working_hours"
    working_days = "working_days"


_UNIT_WORDS = {
    LimitUnit.clock_hours: ("hour", "hours", "小时"),
    LimitUnit.working_hours: ("working hour", "working hours", "工作时"),
    LimitUnit.working_days: ("working day", "working days", "个工作日"),
}


@dataclass(frozen=True)
class TimeLimit:
    """A case's time limit: a positive amount of one unit. Working days must be whole days."""

    value: float
    unit: LimitUnit

    def __post_init__(self) -> None:
        if not isinstance(self.unit, LimitUnit):
            try:
                object.__setattr__(self, "unit", LimitUnit(self.unit))
            except ValueError:
                allowed = ", ".join(LimitUnit)
                raise InvalidInput(f"unknown limit unit {self.unit!r}; allowed: {allowed}") from None
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise InvalidInput(f"time limit value {self.value!r} must be a number")
        if not math.isfinite(self.value) or self.value <= 0:
            raise InvalidInput(f"time limit {self.value!r} {self.unit} must be positive")
        if self.unit is LimitUnit.working_days and not float(self.value).is_integer():
            raise InvalidInput(f"time limit {self.value!r} working_days must be a whole number of days")

    @classmethod
    def clock_hours(cls, value: float) -> TimeLimit:
        return cls(value, LimitUnit.clock_hours)

    @classmethod
    def working_hours(cls, value: float) -> TimeLimit:
        return cls(value, LimitUnit.working_hours)

    @classmethod
    def working_days(cls, value: int) -> TimeLimit:
        return cls(value, LimitUnit.working_days)

    def describe(self, language: str = "en") -> str:
        """"4 working hours" / "4工作时"; used in messages and the ledger."""
        singular, plural, zh = _UNIT_WORDS[self.unit]
        shown = int(self.value) if float(self.value).is_integer() else self.value
        if not is_english(language):
            return f"{shown}{zh}"
        return f"{shown} {singular if shown == 1 else plural}"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class CalendarEntry:
    """One row of holidays.csv: a date that is off (`holiday`) or a make-up working day (`workday`)."""

    day: date
    kind: str
    name: str


class WorkCalendar:
    """Working days and working periods in one timezone; answers deadlines and working durations."""

    def __init__(
        self,
        holidays: Iterable[date] = (),
        makeup_workdays: Iterable[date] = (),
        *,
        periods: Sequence[tuple[time, time]] = DEFAULT_PERIODS,
        tz: tzinfo = SHANGHAI,
        covered_years: Iterable[int] | None = None,
    ) -> None:
        self.holidays: frozenset[date] = frozenset(holidays)
        self.makeup_workdays: frozenset[date] = frozenset(makeup_workdays)
        both = sorted(self.holidays & self.makeup_workdays)
        if both:
            raise InvalidInput(f"dates both holiday and make-up working day: {', '.join(map(str, both))}")
        self.periods: tuple[tuple[time, time], ...] = _check_periods(periods)
        self.tz = tz
        years = covered_years if covered_years is not None else (
            d.year for d in self.holidays | self.makeup_workdays
        )
        self.covered_years: frozenset[int] = frozenset(years)

    def __repr__(self) -> str:
        years = ", ".join(map(str, sorted(self.covered_years))) or "none"
        counts = f"{len(self.holidays)} holidays, {len(self.makeup_workdays)} make-up days"
        return f"WorkCalendar(years: {years}; {counts})"

    # --- days -------------------------------------------------------------------------------------

    def covers(self, day: date) -> bool:
        """Whether the holiday file had an arrangement for this year (else only weekends are off)."""
        return day.year in self.covered_years

    def is_working_day(self, day: date) -> bool:
        """Holidays are off even on weekdays; make-up days are on even at weekends."""
        if day in self.holidays:
            return False
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5

    def working_days_after(self, day: date, count: int) -> date:
        """The `count`th working day after `day` (which itself is never counted)."""
        if count < 1:
            raise InvalidInput(f"count {count} must be at least 1")
        found = 0
        for current in _days_after(day):
            if self.is_working_day(current):
                found += 1
                if found == count:
                    return current
        raise AssertionError("unreachable")  # pragma: no cover - _days_after raises first

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of `day` as aware datetimes; empty on a day off."""
        if not self.is_working_day(day):
            return []
        return [
            (datetime.combine(day, start, self.tz), datetime.combine(day, end, self.tz))
            for start, end in self.periods
        ]

    def end_of_working_day(self, day: date) -> datetime:
        """When the last working period of `day` ends (whether or not `day` is a working day)."""
        return datetime.combine(day, self.periods[-1][1], self.tz)

    # --- deadlines and durations ------------------------------------------------------------------

    def add_working_time(self, start: datetime, limit: TimeLimit) -> datetime:
        """The deadline for `limit` counted from `start` (see the module docstring for the rules)."""
        local = self._localise(start, "start")
        if limit.unit is LimitUnit.clock_hours:
            return (local.astimezone(UTC) + timedelta(hours=limit.value)).astimezone(self.tz)
        if limit.unit is LimitUnit.working_hours:
            return self._add_working_hours(local, timedelta(hours=limit.value))
        return self.end_of_working_day(self.working_days_after(local.date(), int(limit.value)))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from `a` to `b`; negative when `b` is earlier (so f(a, b) == -f(b, a))."""
        first, second = self._localise(a, "a"), self._localise(b, "b")
        if second < first:
            return -self._working_time(second, first)
        return self._working_time(first, second)

    def _add_working_hours(self, start: datetime, remaining: timedelta) -> datetime:
        """Walk the working periods from `start`, spending `remaining` until it runs out."""
        for day in _days_from(start.date()):
            for period_start, period_end in self.periods_on(day):
                if start >= period_end:
                    continue
                begin = max(start, period_start)
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover - _days_from raises first

    def _working_time(self, a: datetime, b: datetime) -> timedelta:
        """Sum of the overlaps of [a, b] with every working period between them (a <= b)."""
        total = timedelta()
        day = a.date()
        while day <= b.date():
            for period_start, period_end in self.periods_on(day):
                overlap = min(b, period_end) - max(a, period_start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total

    def _localise(self, moment: datetime, name: str) -> datetime:
        """`moment` in the calendar's timezone; naive datetimes are refused, never assumed local."""
        if not isinstance(moment, datetime):
            raise InvalidInput(f"{name} must be a datetime, not {type(moment).__name__}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInput(
                f"{name} {moment.isoformat()} has no timezone; give an aware datetime such as "
                f"{moment.isoformat()}+08:00 (Asia/Shanghai)"
            )
        return moment.astimezone(self.tz)


def _check_periods(periods: Sequence[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    """Periods must be non-empty, each start before its end, in order and not overlapping."""
    checked = tuple((start, end) for start, end in periods)
    if not checked:
        raise InvalidInput("a work calendar needs at least one working period")
    previous_end: time | None = None
    for start, end in checked:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise InvalidInput("working periods are local wall-clock times; give them without tzinfo")
        if not start < end:
            raise InvalidInput(f"working period {start}–{end} must start before it ends")
        if previous_end is not None and start < previous_end:
            raise InvalidInput(f"working period {start}–{end} overlaps or precedes the one before it")
        previous_end = end
    return checked


def _days_from(day: date) -> Iterator[date]:
    """`day`, then each following day, for at most `_SEARCH_LIMIT_DAYS`."""
    for offset in range(_SEARCH_LIMIT_DAYS):
        yield day + timedelta(days=offset)
    raise InvalidInput(f"no working time within {_SEARCH_LIMIT_DAYS} days of {day}; check the work calendar")


def _days_after(day: date) -> Iterator[date]:
    """The days after `day` (not `day` itself), bounded like `_days_from`."""
    days = _days_from(day)
    next(days)
    yield from days


# --- the holiday file -----------------------------------------------------------------------------

_KINDS = ("holiday", "workday")


def read_calendar_entries(text: str, source: str = "holidays.csv") -> list[CalendarEntry]:
    """Parse and check holidays.csv text (columns date, kind, name); errors name the line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"date", "kind", "name"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(f"{source}: missing column(s) {', '.join(sorted(missing))}")
    entries: list[CalendarEntry] = []
    seen: dict[date, int] = {}
    for line, row in enumerate(reader, start=2):
        entry = _parse_entry(row, f"{source} line {line}")
        if entry.day in seen:
            raise InvalidInput(f"{source} line {line}: {entry.day} already listed on line {seen[entry.day]}")
        seen[entry.day] = line
        entries.append(entry)
    return entries


def _parse_entry(row: dict[str, str], where: str) -> CalendarEntry:
    """One row: an ISO date, a known kind, a name; make-up working days must be weekend days."""
    raw_date, kind, name = ((row.get(key) or "").strip() for key in ("date", "kind", "name"))
    try:
        day = date.fromisoformat(raw_date)
    except ValueError:
        raise InvalidInput(f"{where}: date {raw_date!r} is not YYYY-MM-DD") from None
    if kind not in _KINDS:
        raise InvalidInput(f"{where}: kind {kind!r} unknown; allowed: {', '.join(_KINDS)}")
    if not name:
        raise InvalidInput(f"{where}: name is empty")
    if kind == "workday" and day.weekday() < 5:
        raise InvalidInput(f"{where}: make-up working day {day} is a weekday; make-up days fall at weekends")
    return CalendarEntry(day, kind, name)


def load_work_calendar(
    path: str | Path | None = None,
    *,
    periods: Sequence[tuple[time, time]] = DEFAULT_PERIODS,
    tz: tzinfo = SHANGHAI,
) -> WorkCalendar:
    """A WorkCalendar from a holidays CSV; by default the one shipped in `gis/data/holidays.csv`."""
    if path is None:
        text = (resources.files("gis") / "data" / "holidays.csv").read_text(encoding="utf-8")
        source = "gis/data/holidays.csv"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    entries = read_calendar_entries(text, source)
    return WorkCalendar(
        holidays=(e.day for e in entries if e.kind == "holiday"),
        makeup_workdays=(e.day for e in entries if e.kind == "workday"),
        periods=periods,
        tz=tz,
    )


@functools.cache
def default_calendar() -> WorkCalendar:
    """The shipped calendar with default hours, read once (WorkCalendar is immutable in use)."""
    return load_work_calendar()
