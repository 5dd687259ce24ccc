"""Periods: one type (`Period`) for measures, layers, tiles and the ledger — a run of whole Asia/Shanghai
days, [start, end) as aware local midnights.

Pure: no database. Two ways to make one:

* `parse_period(spec)` — the map's and wall's short texts (`FORMS`):

  * `today` — today, from local midnight to the next;
  * `7d`, `30d`, `90d`, `365d` — that many local days ending with today (today included);
  * `YYYY-MM` — one calendar month;
  * `YYYY-MM-DD..YYYY-MM-DD` — from the first day to the last, both included.
* `period_between(from, to)` — the ledger's dates, `from` inclusive and `to` exclusive, at most
  `max_days` days.

`end` is the local midnight after the last day, so a running period (one that includes today) ends
tomorrow at 00:00 and the measures judge it at the moment asked (`at`, default now).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from gis.errors import InvalidInput
from gis.i18n import is_english
from gis.workcalendar import SHANGHAI

__all__ = ["DEFAULT_PERIOD", "EARLIEST_DAY", "FORMS", "LATEST_DAY", "ROLLING_DAYS", "Period", "check_day",
           "district_today", "parse_period", "period_between"]

DEFAULT_PERIOD = "30d"
ROLLING_DAYS: dict[str, int] = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
FORMS = ("today", *ROLLING_DAYS, "YYYY-MM", "YYYY-MM-DD..YYYY-MM-DD")
MAX_DAYS = 3660
"""The longest explicit range accepted (about ten years)."""
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
"""Days a period or a date filter may name: beyond them no case exists, and date arithmetic would overflow."""

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """Whole local days `first_day`..`last_day` (both included); `spec` in canonical form; [start, end) as
    aware local midnights."""

    spec: str
    first_day: date
    last_day: date
    label_zh: str
    label_en: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), SHANGHAI)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day, time(), SHANGHAI)

    @property
    def end_day(self) -> date:
        """The day after the last (the ledger's exclusive `to`)."""
        return self.last_day + timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        return self.start, self.end

    def describe(self, language: str = "zh-CN") -> str:
        """"2026-01-01 至 2026-01-31" / "2026-01-01 to 2026-01-31"."""
        return f"{self.first_day.isoformat()} {'to' if is_english(language) else '至'} {self.last_day.isoformat()}"

    def slug(self) -> str:
        """For file names: 2026-01 (a calendar month), 2026 (a year), a day, or first_last."""
        if self.first_day.day == 1 and self.end_day == _add_months(self.first_day, 1):
            return self.first_day.strftime("%Y-%m")
        if (self.first_day.month, self.first_day.day) == (1, 1) and self.end_day == _add_months(self.first_day, 12):
            return str(self.first_day.year)
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()}_{self.last_day.isoformat()}"

    def label(self, language: str = "zh-CN") -> str:
        return self.label_en if is_english(language) else self.label_zh

    def as_json(self, language: str = "zh-CN") -> dict[str, str]:
        """{spec, start, end, first_day, last_day, label}: start/end ISO 8601 with +08:00, end exclusive."""
        return {"spec": self.spec, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
                "label": self.label(language)}


def parse_period(spec: str | None, now: datetime | None = None) -> Period:
    """The span `spec` names, judged on the local (Asia/Shanghai) date of `now` (default: the clock).

    Raises InvalidInput naming the bad spec and the allowed forms.
    """
    text = (spec or DEFAULT_PERIOD).strip().lower()
    today = district_today(now)
    if text == "today":
        return Period("today", today, today, "今天", "Today")
    if text in ROLLING_DAYS:
        days = ROLLING_DAYS[text]
        return Period(text, today - timedelta(days=days - 1), today, f"近{days}天", f"Last {days} days")
    if match := _MONTH.match(text):
        return _month(text, int(match[1]), int(match[2]))
    if match := _RANGE.match(text):
        return _range(text, match[1], match[2])
    raise _bad(spec, "is not a period")


def period_between(start: date, end: date, *, max_days: int = MAX_DAYS) -> Period:
    """The days from `start` (inclusive) to `end` (exclusive), at most `max_days` of them; InvalidInput
    naming the dates otherwise."""
    check_day("from", start)
    check_day("to", end)
    if end <= start:
        raise InvalidInput(
            f"'to' ({end.isoformat()}) must be after 'from' ({start.isoformat()}); 'to' is exclusive: "
            "from=2026-01-01&to=2026-02-01 is January",
            details={"from": start.isoformat(), "to": end.isoformat()})
    days = (end - start).days
    if days > max_days:
        raise InvalidInput(
            f"the period from {start.isoformat()} to {end.isoformat()} is {days} days; at most "
            f"{max_days} days are allowed", details={"days": days, "max_days": max_days})
    return _days(start, end - timedelta(days=1))


def _days(first: date, last: date) -> Period:
    """A period of explicit days, in the canonical `YYYY-MM` or `YYYY-MM-DD..YYYY-MM-DD` form."""
    if first.day == 1 and last + timedelta(days=1) == _add_months(first, 1):
        return _month(first.strftime("%Y-%m"), first.year, first.month)
    return Period(f"{first.isoformat()}..{last.isoformat()}", first, last,
                  f"{first.isoformat()} 至 {last.isoformat()}", f"{first.isoformat()} – {last.isoformat()}")


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def check_day(name: str, day: date) -> date:
    """`day` itself, or InvalidInput naming it when it lies outside EARLIEST_DAY..LATEST_DAY."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInput(f"{name} {day.isoformat()} is outside the dates gridmap accepts "
                           f"({EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()})", details={"field": name})
    return day


def district_today(now: datetime | None = None) -> date:
    """Today in the district (Asia/Shanghai), the day every "current" and "valid on" rule is judged on:
    the machine's own date (often UTC) is a different day for eight hours of every day."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise InvalidInput(f"now {moment.isoformat()} has no timezone", details={"field": "now"})
    return moment.astimezone(SHANGHAI).date()


def _month(text: str, year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise _bad(text, f"has no month {month:02d}")
    if not EARLIEST_DAY.year <= year <= LATEST_DAY.year:
        raise _bad(text, f"is outside the years {EARLIEST_DAY.year}–{LATEST_DAY.year}")
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return Period(text, first, last, f"{year}年{month}月", first.strftime("%B %Y"))


def _range(text: str, first_text: str, last_text: str) -> Period:
    try:
        first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
    except ValueError as exc:
        raise _bad(text, f"has an impossible date ({exc})") from exc
    if last < first:
        raise _bad(text, "ends before it starts")
    if first < EARLIEST_DAY or last > LATEST_DAY:
        raise _bad(text, f"is outside {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}")
    if (last - first).days + 1 > MAX_DAYS:
        raise _bad(text, f"is longer than {MAX_DAYS} days")
    return Period(text, first, last, f"{first.isoformat()} 至 {last.isoformat()}",
                  f"{first.isoformat()} – {last.isoformat()}")


def _bad(spec: str | None, why: str) -> InvalidInput:
    return InvalidInput(
        f"period {spec!r} {why}; allowed: {', '.join(FORMS)} (Asia/Shanghai days, range end included)",
        details={"period": spec, "allowed": list(FORMS)},
    )
