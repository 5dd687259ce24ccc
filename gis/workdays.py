"""Work days (社区工作日 / 楼栋工作日) and household visits: the pure rules, no database.

**A schedule** names a place (a community, or one building), a title, a meeting place, a start and end
time, and either one date (`on`) or a recurrence rule, valid from one date until another (or open-ended).

**The rule format** (stored as JSON, checked by `parse_rule`): a small explicit dict, not RRULE:

* `{"weekday": 2}` — every Tuesday (ISO weekdays: 1 = Monday … 7 = Sunday);
* `{"weekday": 2, "weeks": [2, 4]}` — the second and fourth Tuesday of each month (Yuzhong's cadres'
  day); `weeks` are the nth occurrence of that weekday in the month, 1 … 5, or -1 for the last.

**Non-working days** (decided here): an occurrence of a *recurring* rule that falls on a day the work
calendar (gis/workcalendar.py, the State Council's holidays) says is off is skipped, not moved — the
district publishes its roster beforehand and a Tuesday inside the National Day break has no session;
a make-up working Saturday does not gain one (the rule names a weekday). A *one-off* date is kept as
given even on a day off: a manager who picks a Saturday means it.

**The visit cycle**: by default a calendar month (`cycle_of`), or the days from one work day up to the
next (`cycle_between_work_days`). "Households visited in the cycle" of a building is the sum of the
households reached by its visits in the cycle, capped at the building's households (a visit records how
many households it reached, not which ones, so two visits to one building cannot be told apart);
`households_visited` adds that up per grid or per person.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Any

from gis.errors import InvalidInput
from gis.workcalendar import WorkCalendar

MAX_SPAN_DAYS = 366
"""The longest period a list of occurrences may cover."""

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Scope(StrEnum):
    community = "community"  # 社区工作日: the cadres spend the day in a community
    building = "building"  # 楼栋工作日: at one building


class AssigneeRole(StrEnum):
    cadre = "cadre"  # 机关干部 on the work day
    worker = "worker"  # 网格员 and other team members
    party_rep = "party_rep"  # 党代表, on a reception roster
    congress_rep = "congress_rep"  # 人大代表, on a reception roster


class Kind(StrEnum):
    """What a schedule is: a work day, or a reception (接待日, whose problems are cases of source
    reception_day); gis/rosters.py."""

    work_day = "work_day"
    reception = "reception"


@dataclass(frozen=True)
class Rule:
    """Every `weekday` (ISO, 1 = Monday), or only its nth occurrences in the month (`weeks`; -1 = last)."""

    weekday: int
    weeks: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"weekday": self.weekday, **({"weeks": list(self.weeks)} if self.weeks else {})}

    def matches(self, day: date) -> bool:
        if day.isoweekday() != self.weekday:
            return False
        if not self.weeks:
            return True
        nth = (day.day - 1) // 7 + 1
        last = (day + timedelta(days=7)).month != day.month
        return nth in self.weeks or (last and -1 in self.weeks)


@dataclass(frozen=True)
class Schedule:
    """One scheduled work day: a single date (`on`) or a recurring `rule`, within its validity."""

    valid_from: date
    valid_until: date | None = None
    on: date | None = None
    rule: Rule | None = None
    start_time: time | None = None
    end_time: time | None = None


def parse_rule(value: Mapping[str, Any] | None, field: str = "rule") -> Rule | None:
    """A rule dict as posted or stored → Rule; InvalidInput naming the field and what is allowed."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _bad(field, f"must be an object like {{\"weekday\": 2, \"weeks\": [2, 4]}}, not {value!r}")
    unknown = sorted(set(value) - {"weekday", "weeks"})
    if unknown:
        raise _bad(field, f"has unknown keys {unknown}; allowed: weekday (1 = Monday … 7 = Sunday), "
                          "weeks (1 … 5 or -1 for the last)")
    weekday = value.get("weekday")
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 1 <= weekday <= 7:
        raise _bad(f"{field}.weekday", f"{weekday!r} must be an ISO weekday 1 (Monday) … 7 (Sunday)")
    weeks = value.get("weeks", [])
    if not isinstance(weeks, list | tuple) or any(
            isinstance(w, bool) or not isinstance(w, int) or w not in (1, 2, 3, 4, 5, -1) for w in weeks):
        raise _bad(f"{field}.weeks", f"{weeks!r} must be a list of 1 … 5 (nth in the month) or -1 (the last)")
    return Rule(weekday, tuple(sorted(set(weeks), key=lambda w: (w < 0, w))))


def check_schedule(schedule: Schedule) -> Schedule:
    """Exactly one of a date and a rule; the validity and the times in order."""
    if (schedule.on is None) == (schedule.rule is None):
        raise _bad("date", "give either a date (one work day) or a rule (recurring), not both and not neither")
    if schedule.valid_until is not None and schedule.valid_until < schedule.valid_from:
        raise _bad("valid_until", f"{schedule.valid_until} is before valid_from {schedule.valid_from}")
    until = schedule.valid_until
    if schedule.on is not None and not (schedule.valid_from <= schedule.on and (until is None or schedule.on <= until)):
        raise _bad("date", f"{schedule.on} is outside valid_from … valid_until")
    if schedule.start_time and schedule.end_time and schedule.end_time <= schedule.start_time:
        raise _bad("end_time", f"{schedule.end_time} must be after start_time {schedule.start_time}")
    return schedule


def occurrences(schedule: Schedule, first: date, last: date, calendar: WorkCalendar | None = None) -> list[date]:
    """The dates of `schedule` from `first` to `last` (both included), within its validity; a recurring
    rule skips the days `calendar` says are off (see the module docstring)."""
    start = max(first, schedule.valid_from)
    end = last if schedule.valid_until is None else min(last, schedule.valid_until)
    if start > end:
        return []
    if schedule.on is not None:
        return [schedule.on] if start <= schedule.on <= end else []
    assert schedule.rule is not None
    return [day for day in _days(start, end) if schedule.rule.matches(day)
            and (calendar is None or calendar.is_working_day(day))]


def check_span(first: date, last: date, *, names: tuple[str, str] = ("from", "to")) -> None:
    if last < first:
        raise _bad(names[1], f"{last} is before {names[0]} {first}")
    if (last - first).days + 1 > MAX_SPAN_DAYS:
        raise _bad(names[1], f"{first} … {last} is longer than {MAX_SPAN_DAYS} days")


# -- the visit cycle ------------------------------------------------------------------------------


def cycle_of(day: date) -> tuple[date, date]:
    """The default visit cycle containing `day`: its calendar month (first and last day)."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def cycle_between_work_days(day: date, work_days: Iterable[date]) -> tuple[date, date] | None:
    """The cycle of a district that counts from work day to work day: from the last work day on or before
    `day` to the day before the next one. None when `day` is not between two known work days."""
    ordered = sorted(set(work_days))
    before = [d for d in ordered if d <= day]
    after = [d for d in ordered if d > day]
    if not before or not after:
        return None
    return before[-1], after[0] - timedelta(days=1)


@dataclass(frozen=True)
class VisitCount:
    """One building's visits in a cycle: its households and the households its visits reached."""

    building: str
    households: int
    reached: int


def households_visited(counts: Sequence[VisitCount]) -> int:
    """Households visited in the cycle over some buildings: each building's reach capped at its households."""
    return sum(min(c.reached, c.households) for c in counts)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _bad(field: str, why: str) -> InvalidInput:
    return InvalidInput(f"{field} {why}", details={"field": field})
