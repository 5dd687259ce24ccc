"""The focus-household rules (gis/focus.py) on hand-made households: dates worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from gis.errors import InvalidInput
from gis.focus import (
    DEFAULT_CYCLE_DAYS,
    MAX_CYCLE_DAYS,
    Category,
    FocusState,
    check_cycle,
    cycle_of,
    days_overdue,
    is_gap,
    is_overdue,
    is_paired,
    next_visit_due,
    on_register,
    parse_category,
    priority,
)

MARCH_1 = date(2026, 3, 1)


def _paired(**extra: object) -> FocusState:
    values = {"category": Category.lonely_elderly, "valid_from": MARCH_1, "helper": True, "paired_from": MARCH_1}
    return FocusState(**{**values, **extra})  # type: ignore[arg-type]


def test_every_category_has_a_cycle_and_the_default_is_weekly() -> None:
    assert set(DEFAULT_CYCLE_DAYS) == set(Category)
    assert DEFAULT_CYCLE_DAYS[Category.lonely_elderly] == 7
    assert cycle_of(_paired()) == 7
    assert cycle_of(_paired(category=Category.retired_cadre)) == 30
    assert cycle_of(_paired(category=Category.retired_cadre, cycle_days=10)) == 10


def test_a_household_never_visited_is_due_one_cycle_after_registration() -> None:
    state = _paired()
    assert next_visit_due(state) == date(2026, 3, 8)
    assert not is_overdue(state, date(2026, 3, 8))  # the due day is still in time
    assert days_overdue(state, date(2026, 3, 9)) == 1
    assert days_overdue(state, date(2026, 3, 20)) == 12


def test_a_visit_moves_the_due_date_one_cycle_on() -> None:
    state = _paired(last_visit=date(2026, 3, 10), cycle_days=14)
    assert next_visit_due(state) == date(2026, 3, 24)
    assert not is_overdue(state, date(2026, 3, 24))
    assert is_overdue(state, date(2026, 3, 25))


def test_a_visit_recorded_before_registration_does_not_count_before_it() -> None:
    assert next_visit_due(_paired(last_visit=date(2026, 2, 1))) == date(2026, 3, 8)


def test_pairing_dates_end_exclusive() -> None:
    state = _paired(paired_from=date(2026, 3, 5), paired_to=date(2026, 3, 10))
    assert not is_paired(state, date(2026, 3, 4))
    assert is_paired(state, date(2026, 3, 5))
    assert is_paired(state, date(2026, 3, 9))
    assert not is_paired(state, date(2026, 3, 10))
    assert not is_paired(FocusState(Category.hardship, MARCH_1), MARCH_1)  # no helper named


def test_gap_is_unpaired_or_overdue_on_the_register_only() -> None:
    day = date(2026, 3, 5)
    assert not is_gap(_paired(), day)
    assert is_gap(_paired(helper=False, paired_from=None), day)  # unpaired
    assert is_gap(_paired(), date(2026, 3, 9))  # overdue
    ended = _paired(valid_to=date(2026, 3, 4), helper=False, paired_from=None)
    assert not on_register(ended, day) and not is_gap(ended, day)
    assert days_overdue(ended, date(2026, 4, 1)) == 0


def test_priority_puts_the_longest_overdue_first_then_unpaired_then_by_due_date() -> None:
    day = date(2026, 3, 20)
    late_long = _paired()  # due 03-08: 12 days late
    late_short = _paired(last_visit=date(2026, 3, 11))  # due 03-18: 2 days late
    unpaired = _paired(helper=False, paired_from=None, last_visit=date(2026, 3, 19))
    soon = _paired(last_visit=date(2026, 3, 15))  # due 03-22
    later = _paired(last_visit=date(2026, 3, 19))  # due 03-26
    states = [later, unpaired, soon, late_short, late_long]
    assert sorted(states, key=lambda s: priority(s, day)) == [late_long, late_short, unpaired, soon, later]


@pytest.mark.parametrize("value", ["elderly", "", None, "LONELY_ELDERLY"])
def test_an_unknown_category_is_refused_naming_the_allowed(value: object) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_category(value)
    assert "lonely_elderly" in str(error.value) and error.value.details["field"] == "category"


@pytest.mark.parametrize("days", [0, -7, MAX_CYCLE_DAYS + 1, 7.5, True])
def test_a_bad_cycle_is_refused(days: object) -> None:
    with pytest.raises(InvalidInput, match="cycle_days"):
        check_cycle(days)  # type: ignore[arg-type]


def test_a_good_cycle_or_none_passes() -> None:
    assert check_cycle(None) is None
    assert check_cycle(1) == 1 and check_cycle(MAX_CYCLE_DAYS) == MAX_CYCLE_DAYS
