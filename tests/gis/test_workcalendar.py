"""Deadlines and working durations on the shipped PRC calendar; every answer is worked out by hand.

Working periods: 09:00–12:00 and 13:30–17:30 Asia/Shanghai (7 working hours a day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from gis.errors import InvalidInput
from gis.workcalendar import (
    SHANGHAI,
    LimitUnit,
    TimeLimit,
    WorkCalendar,
    default_calendar,
    load_work_calendar,
    read_calendar_entries,
)


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return default_calendar()


# --- working hours --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Tue 10:00 + 4h: 10–12 (2h), lunch, 13:30 + 2h → 15:30.
        (cst(2025, 3, 11, 10), 4, cst(2025, 3, 11, 15, 30)),
        # Tue 16:30 + 2h: 16:30–17:30 (1h), Wed 09:00 + 1h → 10:00.
        (cst(2025, 3, 11, 16, 30), 2, cst(2025, 3, 12, 10)),
        # Before work: Tue 07:00 + 1h waits for 09:00 → 10:00.
        (cst(2025, 3, 11, 7), 1, cst(2025, 3, 11, 10)),
        # During lunch: Tue 12:30 + 1h waits for 13:30 → 14:30.
        (cst(2025, 3, 11, 12, 30), 1, cst(2025, 3, 11, 14, 30)),
        # Lands exactly on the end of the morning: 09:00 + 3h → 12:00, not 13:30.
        (cst(2025, 3, 11, 9), 3, cst(2025, 3, 11, 12)),
        # After work: Tue 20:00 + 0.5h → Wed 09:30.
        (cst(2025, 3, 11, 20), 0.5, cst(2025, 3, 12, 9, 30)),
        # Weekend: Fri 16:00 + 4h: Fri 1.5h; Sat, Sun off; Mon 09:00 + 2.5h → Mon 11:30.
        (cst(2025, 3, 14, 16), 4, cst(2025, 3, 17, 11, 30)),
        # Holiday: Thu 3 Apr 2025 15:00 + 4h: Thu 2.5h; Fri 4 Apr 清明 off, weekend off; Mon 7 Apr 10:30.
        (cst(2025, 4, 3, 15), 4, cst(2025, 4, 7, 10, 30)),
        # Make-up working day: Fri 24 Jan 2025 16:00 + 4h: Fri 1.5h; Sat off; Sun 26 Jan is a working
        # day (春节调休上班): 09:00 + 2.5h → Sun 11:30.
        (cst(2025, 1, 24, 16), 4, cst(2025, 1, 26, 11, 30)),
        # Whole Spring Festival: Mon 27 Jan 2025 17:00 + 1h: 0.5h on Mon; 28 Jan–4 Feb off; Wed 5 Feb 09:30.
        (cst(2025, 1, 27, 17), 1, cst(2025, 2, 5, 9, 30)),
        # 2026 make-up Saturday 14 Feb: Fri 13 Feb 16:00 + 4h: Fri 1.5h, Sat 09:00 + 2.5h → 11:30.
        (cst(2026, 2, 13, 16), 4, cst(2026, 2, 14, 11, 30)),
        # 14 working hours = two full days: Tue 09:00 → Wed 17:30.
        (cst(2025, 3, 11, 9), 14, cst(2025, 3, 12, 17, 30)),
    ],
)
def test_working_hours(cal: WorkCalendar, start: datetime, hours: float, expected: datetime) -> None:
    assert cal.add_working_time(start, TimeLimit.working_hours(hours)) == expected


def test_working_hours_from_utc_input_answer_in_shanghai(cal: WorkCalendar) -> None:
    # 02:00Z is 10:00 in Shanghai; + 4 working hours → 15:30 Shanghai = 07:30Z.
    end = cal.add_working_time(datetime(2025, 3, 11, 2, tzinfo=UTC), TimeLimit.working_hours(4))
    assert end == cst(2025, 3, 11, 15, 30)
    assert end.utcoffset() == timedelta(hours=8)
    assert end.astimezone(UTC) == datetime(2025, 3, 11, 7, 30, tzinfo=UTC)


# --- clock hours (emergencies) ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (cst(2025, 3, 11, 23), cst(2025, 3, 12, 1)),  # across midnight
        (cst(2025, 3, 15, 23, 30), cst(2025, 3, 16, 1, 30)),  # Saturday night: weekends count
        (cst(2025, 10, 1, 12), cst(2025, 10, 1, 14)),  # National Day: holidays count
        (datetime(2025, 3, 11, 15, tzinfo=UTC), cst(2025, 3, 12, 1)),  # 15:00Z = 23:00 CST
    ],
)
def test_emergency_two_clock_hours(cal: WorkCalendar, start: datetime, expected: datetime) -> None:
    end = cal.add_working_time(start, TimeLimit.clock_hours(2))
    assert end == expected
    assert (end.year, end.month, end.day, end.hour, end.minute) == (
        expected.year, expected.month, expected.day, expected.hour, expected.minute,
    )


# --- working days ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Mon 10 Mar 2025, any hour + 3 days: Tue (1), Wed (2), Thu (3) → Thu 17:30.
        (cst(2025, 3, 10, 10), 3, cst(2025, 3, 13, 17, 30)),
        # Before work counts the same: the start day is never counted.
        (cst(2025, 3, 10, 8), 3, cst(2025, 3, 13, 17, 30)),
        # Weekend: Thu 13 Mar + 3: Fri 14 (1), Mon 17 (2), Tue 18 (3).
        (cst(2025, 3, 13, 15), 3, cst(2025, 3, 18, 17, 30)),
        # Dispatched on a Saturday + 1: Mon 17 Mar.
        (cst(2025, 3, 15, 11), 1, cst(2025, 3, 17, 17, 30)),
        # Spring Festival 2025 with make-up Sunday: Fri 24 Jan + 3: Sun 26 (1, 调休), Mon 27 (2),
        # 28 Jan–4 Feb off, Wed 5 Feb (3).
        (cst(2025, 1, 24, 10), 3, cst(2025, 2, 5, 17, 30)),
        # Complaint, 13 days across National Day 2025, from Thu 25 Sep: Fri 26 (1), Sun 28 (2, 调休),
        # Mon 29 (3), Tue 30 (4), 1–8 Oct off, Thu 9 (5), Fri 10 (6), Sat 11 (7, 调休), Mon 13 (8),
        # Tue 14 (9), Wed 15 (10), Thu 16 (11), Fri 17 (12), Mon 20 (13).
        (cst(2025, 9, 25, 10), 13, cst(2025, 10, 20, 17, 30)),
        # New Year 2026: Wed 31 Dec 2025 + 1: 1–3 Jan off, Sun 4 Jan is a make-up working day.
        (cst(2025, 12, 31, 10), 1, cst(2026, 1, 4, 17, 30)),
        # Spring Festival 2026: Thu 12 Feb + 3: Fri 13 (1), Sat 14 (2, 调休), 15–23 Feb off, Tue 24 (3).
        (cst(2026, 2, 12, 10), 3, cst(2026, 2, 24, 17, 30)),
    ],
)
def test_working_days(cal: WorkCalendar, start: datetime, days: int, expected: datetime) -> None:
    assert cal.add_working_time(start, TimeLimit.working_days(days)) == expected


# --- working time between --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (cst(2025, 3, 11, 10), cst(2025, 3, 11, 10), timedelta()),
        (cst(2025, 3, 11, 10), cst(2025, 3, 11, 15, 30), timedelta(hours=4)),  # 2h + lunch + 2h
        (cst(2025, 3, 11, 12, 10), cst(2025, 3, 11, 13), timedelta()),  # inside lunch
        (cst(2025, 3, 11), cst(2025, 3, 12), timedelta(hours=7)),  # a whole working day
        (cst(2025, 3, 14, 16), cst(2025, 3, 17, 11, 30), timedelta(hours=4)),  # over a weekend
        (cst(2025, 3, 15, 8), cst(2025, 3, 16, 20), timedelta()),  # all weekend
        (cst(2025, 1, 27, 17), cst(2025, 2, 5, 9, 30), timedelta(hours=1)),  # over Spring Festival
        (cst(2025, 1, 25, 12), cst(2025, 1, 26, 12), timedelta(hours=3)),  # Sat off, make-up Sun morning
        (cst(2025, 3, 11, 17), cst(2025, 3, 11, 23), timedelta(minutes=30)),
    ],
)
def test_working_time_between_is_antisymmetric(
    cal: WorkCalendar, a: datetime, b: datetime, expected: timedelta
) -> None:
    assert cal.working_time_between(a, b) == expected
    assert cal.working_time_between(b, a) == -expected


@pytest.mark.parametrize(
    "start", [cst(2025, 3, 11, 10), cst(2025, 3, 14, 16), cst(2025, 1, 24, 16), cst(2026, 9, 30, 11)]
)
def test_between_undoes_add(cal: WorkCalendar, start: datetime) -> None:
    """Starting inside working time, the working time to the deadline is the limit itself."""
    for hours in (1, 4, 7, 13):
        end = cal.add_working_time(start, TimeLimit.working_hours(hours))
        assert cal.working_time_between(start, end) == timedelta(hours=hours)


# --- the calendar itself ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 3, 14), True),  # Friday
        (date(2025, 3, 15), False),  # Saturday
        (date(2025, 1, 26), True),  # Sunday, 春节调休上班
        (date(2025, 1, 28), False),  # Tuesday, 除夕
        (date(2025, 10, 8), False),  # Wednesday, National Day
        (date(2025, 10, 11), True),  # Saturday, make-up
        (date(2026, 1, 2), False),  # Friday, 元旦
        (date(2026, 5, 9), True),  # Saturday, make-up
        (date(2026, 9, 25), False),  # Friday, 中秋
    ],
)
def test_is_working_day(cal: WorkCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_shipped_file_covers_2025_and_2026(cal: WorkCalendar) -> None:
    assert cal.covered_years == {2025, 2026}
    assert cal.covers(date(2026, 12, 31)) and not cal.covers(date(2027, 1, 1))
    assert sorted(d for d in cal.makeup_workdays if d.year == 2025) == [
        date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11),
    ]
    assert sorted(d for d in cal.makeup_workdays if d.year == 2026) == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert all(d.weekday() >= 5 for d in cal.makeup_workdays)
    # Outside the file only weekends are off: 1 Jan 2027 (a Friday) is not known to be a holiday.
    assert cal.is_working_day(date(2027, 1, 1))


def test_naive_datetimes_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(InvalidInput, match=r"start 2025-03-11T10:00:00 has no timezone"):
        cal.add_working_time(datetime(2025, 3, 11, 10), TimeLimit.working_hours(1))
    with pytest.raises(InvalidInput, match="has no timezone"):
        cal.working_time_between(cst(2025, 3, 11), datetime(2025, 3, 12))


def test_custom_periods_without_lunch() -> None:
    cal = WorkCalendar(periods=((time(9), time(17, 30)),))
    # Tue 10:00 + 4h with no lunch break → 14:00; a day is 8.5 hours.
    assert cal.add_working_time(cst(2025, 3, 11, 10), TimeLimit.working_hours(4)) == cst(2025, 3, 11, 14)
    assert cal.working_time_between(cst(2025, 3, 11), cst(2025, 3, 12)) == timedelta(hours=8, minutes=30)
    # No holiday file: 1 Jan 2025 (a Wednesday) is a working day for this calendar.
    assert cal.is_working_day(date(2025, 1, 1))


def test_other_timezone_calendar() -> None:
    """Periods are wall-clock times in the calendar's zone, whatever zone the input is in."""
    utc_cal = WorkCalendar(tz=UTC)
    end = utc_cal.add_working_time(cst(2025, 3, 11, 18), TimeLimit.working_hours(1))  # 10:00Z
    assert end == datetime(2025, 3, 11, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    "periods",
    [(), ((time(12), time(9)),), ((time(9), time(12)), (time(11), time(14)))],
    ids=["empty", "backwards", "overlapping"],
)
def test_bad_periods(periods: tuple[tuple[time, time], ...]) -> None:
    with pytest.raises(InvalidInput):
        WorkCalendar(periods=periods)


def test_date_both_holiday_and_workday_is_refused() -> None:
    with pytest.raises(InvalidInput, match="2025-01-26"):
        WorkCalendar(holidays={date(2025, 1, 26)}, makeup_workdays={date(2025, 1, 26)})


def test_a_calendar_with_no_working_day_fails_clearly() -> None:
    everything_off = {date(2025, 1, 1) + timedelta(days=n) for n in range(4000)}
    cal = WorkCalendar(holidays=everything_off)
    with pytest.raises(InvalidInput, match="no working time within"):
        cal.add_working_time(cst(2025, 1, 1), TimeLimit.working_hours(1))


# --- time limits and the file format ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        (0, "working_hours", "must be positive"),
        (-2, "clock_hours", "must be positive"),
        (1.5, "working_days", "whole number of days"),
        (3, "fortnights", "unknown limit unit 'fortnights'"),
        (float("nan"), "clock_hours", "must be positive"),
    ],
)
def test_bad_time_limits(value: float, unit: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        TimeLimit(value, unit)  # type: ignore[arg-type]


def test_time_limit_text() -> None:
    assert str(TimeLimit.working_hours(4)) == "4 working hours"
    assert str(TimeLimit.working_days(1)) == "1 working day"
    assert TimeLimit.clock_hours(2).describe("zh-CN") == "2小时"
    assert TimeLimit(3, "working_days").unit is LimitUnit.working_days  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,kind,name\n2025-01-01,holiday,元旦\n2025-01-26,rest,春节\n", "line 3: kind 'rest' unknown"),
        ("date,kind,name\n2025-13-01,holiday,x\n", "line 2: date '2025-13-01' is not YYYY-MM-DD"),
        ("date,kind,name\n2025-01-27,workday,x\n", "line 2: make-up working day 2025-01-27 is a weekday"),
        ("date,kind,name\n2025-01-01,holiday,a\n2025-01-01,holiday,b\n", "line 3: 2025-01-01 already listed"),
        ("date,kind,name\n2025-01-01,holiday,\n", "line 2: name is empty"),
        ("day,kind,name\n", "missing column"),
    ],
)
def test_holiday_file_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_calendar_entries(text)


def test_load_from_a_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "h.csv"
    path.write_text("date,kind,name\n2030-01-01,holiday,元旦\n2030-01-05,workday,调休\n", encoding="utf-8")
    cal = load_work_calendar(path)
    assert not cal.is_working_day(date(2030, 1, 1))  # Tuesday, holiday
    assert cal.is_working_day(date(2030, 1, 5))  # Saturday, make-up
    assert cal.covered_years == {2030}
