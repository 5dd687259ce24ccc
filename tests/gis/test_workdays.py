"""Work-day recurrence and the visit cycle (gis/workdays.py), with dates worked out on a wall calendar:
January 2026 starts on a Thursday, February and March 2026 on a Sunday, October 2025 on a Wednesday."""

from __future__ import annotations

from datetime import date, time

import pytest

from gis.errors import InvalidInput
from gis.workcalendar import default_calendar
from gis.workdays import (
    Rule,
    Schedule,
    VisitCount,
    check_schedule,
    cycle_between_work_days,
    cycle_of,
    households_visited,
    occurrences,
    parse_rule,
)

SECOND_AND_FOURTH_TUESDAY = {"weekday": 2, "weeks": [2, 4]}


def test_second_and_fourth_tuesday_across_months() -> None:
    schedule = Schedule(valid_from=date(2026, 1, 1), rule=parse_rule(SECOND_AND_FOURTH_TUESDAY))
    assert occurrences(schedule, date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 1, 13), date(2026, 1, 27), date(2026, 2, 10), date(2026, 2, 24),
        date(2026, 3, 10), date(2026, 3, 24)]


def test_every_monday_and_the_last_tuesday() -> None:
    mondays = Schedule(valid_from=date(2026, 3, 1), rule=parse_rule({"weekday": 1}))
    assert occurrences(mondays, date(2026, 3, 1), date(2026, 3, 31)) == [
        date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)]
    last = Schedule(valid_from=date(2026, 1, 1), rule=parse_rule({"weekday": 2, "weeks": [-1]}))
    assert occurrences(last, date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 1, 27), date(2026, 2, 24), date(2026, 3, 31)]


def test_a_recurring_day_on_a_holiday_is_skipped_not_moved() -> None:
    calendar = default_calendar()
    tuesdays = Schedule(valid_from=date(2026, 2, 1), rule=Rule(2))
    # 17 February 2026 is in the Spring Festival break.
    assert occurrences(tuesdays, date(2026, 2, 1), date(2026, 2, 28), calendar) == [
        date(2026, 2, 3), date(2026, 2, 10), date(2026, 2, 24)]
    assert occurrences(tuesdays, date(2026, 2, 1), date(2026, 2, 28)) == [
        date(2026, 2, 3), date(2026, 2, 10), date(2026, 2, 17), date(2026, 2, 24)]
    first_and_third = Schedule(valid_from=date(2025, 10, 1), rule=Rule(2, (1, 3)))
    # 7 October 2025 is in the National Day break; the make-up Saturday 11 October gains nothing.
    assert occurrences(first_and_third, date(2025, 10, 1), date(2025, 10, 31), calendar) == [date(2025, 10, 21)]


def test_a_one_off_date_is_kept_even_on_a_day_off() -> None:
    calendar = default_calendar()
    saturday = Schedule(valid_from=date(2026, 3, 7), on=date(2026, 3, 7))
    assert occurrences(saturday, date(2026, 3, 1), date(2026, 3, 31), calendar) == [date(2026, 3, 7)]
    assert occurrences(saturday, date(2026, 3, 8), date(2026, 3, 31), calendar) == []
    holiday = Schedule(valid_from=date(2026, 2, 17), on=date(2026, 2, 17))
    assert occurrences(holiday, date(2026, 2, 1), date(2026, 2, 28), calendar) == [date(2026, 2, 17)]


def test_validity_bounds_the_occurrences() -> None:
    schedule = Schedule(valid_from=date(2026, 1, 20), valid_until=date(2026, 3, 1),
                        rule=parse_rule(SECOND_AND_FOURTH_TUESDAY))
    assert occurrences(schedule, date(2026, 1, 1), date(2026, 12, 31)) == [
        date(2026, 1, 27), date(2026, 2, 10), date(2026, 2, 24)]


@pytest.mark.parametrize(("rule", "field"), [
    ({"weekday": 0}, "rule.weekday"), ({"weekday": 8}, "rule.weekday"), ({"weekday": "2"}, "rule.weekday"),
    ({"weekday": 2, "weeks": [6]}, "rule.weeks"), ({"weekday": 2, "weeks": 2}, "rule.weeks"),
    ({"weekday": 2, "every": 2}, "rule"), ([2, 4], "rule"),
])
def test_a_bad_rule_is_refused_naming_the_field(rule: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rule(rule)  # type: ignore[arg-type]
    assert caught.value.details["field"] == field


@pytest.mark.parametrize(("schedule", "field"), [
    (Schedule(valid_from=date(2026, 1, 1)), "date"),
    (Schedule(valid_from=date(2026, 1, 1), on=date(2026, 1, 5), rule=Rule(2)), "date"),
    (Schedule(valid_from=date(2026, 2, 1), valid_until=date(2026, 1, 1), rule=Rule(2)), "valid_until"),
    (Schedule(valid_from=date(2026, 2, 1), on=date(2026, 1, 5)), "date"),
    (Schedule(valid_from=date(2026, 1, 1), rule=Rule(2), start_time=time(12), end_time=time(9)), "end_time"),
])
def test_a_bad_schedule_is_refused_naming_the_field(schedule: Schedule, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_schedule(schedule)
    assert caught.value.details["field"] == field


def test_the_cycle_is_a_calendar_month_or_the_days_between_two_work_days() -> None:
    assert cycle_of(date(2026, 2, 17)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert cycle_of(date(2024, 2, 29)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert cycle_of(date(2025, 12, 31)) == (date(2025, 12, 1), date(2025, 12, 31))
    work_days = [date(2026, 1, 13), date(2026, 1, 27), date(2026, 2, 10)]
    assert cycle_between_work_days(date(2026, 2, 1), work_days) == (date(2026, 1, 27), date(2026, 2, 9))
    assert cycle_between_work_days(date(2026, 1, 27), work_days) == (date(2026, 1, 27), date(2026, 2, 9))
    assert cycle_between_work_days(date(2026, 1, 1), work_days) is None
    assert cycle_between_work_days(date(2026, 2, 10), work_days) is None


def test_households_visited_caps_each_building_at_its_households() -> None:
    counts = [VisitCount("B1", households=10, reached=4), VisitCount("B2", households=6, reached=9),
              VisitCount("B3", households=5, reached=0)]
    assert households_visited(counts) == 4 + 6 + 0
