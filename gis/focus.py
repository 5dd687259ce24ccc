"""Focus households (关爱对象) and their helpers (结对帮扶): the pure rules, no database.

A focus household is a household of a building on the register because it needs care: the lonely elderly,
the severely ill or disabled, the elderly without children, retired cadres, military families and households
in hardship (`Category`). Each is paired with a helper (a party member or volunteer) and visited every
`cycle_days` days; the default cycle is its category's (`DEFAULT_CYCLE_DAYS`: weekly, as Liangcheng visits
its lonely elderly, except where the districts visit monthly or fortnightly), which a household may override.

**Dates** follow the project's validity rule (gis/store/vocabulary.py `is_current`): a household is on the
register on `day` when `valid_from <= day` and (`valid_to` is None or `valid_to > day`); ending it on a day
sets `valid_to` to that day. A pairing likewise: paired on `day` when it names a helper, `paired_from <= day`
and (`paired_to` is None or `paired_to > day`); unpairing on a day sets `paired_to` to it and keeps who it was.

**The next visit is due** `cycle_days` after the last visit (its local day), or after the day the household
came on the register when it was never visited (a new household has one cycle for its first visit); it is
**overdue** on any day after that due date (the due day itself is still in time). A household is a **gap** on
a day when it is on the register and unpaired or overdue: the wall's `focus_gap` counts those households
once each (gis/store/focus.py holds the same rules in SQL; tests/api/test_focus.py holds the two equal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from gis.errors import InvalidInput

MAX_CYCLE_DAYS = 366
"""The longest visit cycle a household may be given (a year)."""


class Category(StrEnum):
    lonely_elderly = "lonely_elderly"  # 独居老人
    ill_or_disabled = "ill_or_disabled"  # 重病重残
    childless_elderly = "childless_elderly"  # 失独/无子女老人
    retired_cadre = "retired_cadre"  # 离退休干部
    military_family = "military_family"  # 军属/优抚对象
    hardship = "hardship"  # 困难家庭


WEEKLY = 7
DEFAULT_CYCLE_DAYS: Mapping[Category, int] = MappingProxyType({
    Category.lonely_elderly: WEEKLY,
    Category.ill_or_disabled: WEEKLY,
    Category.childless_elderly: WEEKLY,
    Category.retired_cadre: 30,
    Category.military_family: 30,
    Category.hardship: 14,
})
"""The visit cycle of each category in days, unless a household is given its own: the one place it is set."""


@dataclass(frozen=True)
class FocusState:
    """What the rules need of one household: its register dates, pairing, cycle and last visit."""

    category: Category
    valid_from: date
    valid_to: date | None = None
    helper: bool = False  # a helper is named (a person or a name)
    paired_from: date | None = None
    paired_to: date | None = None
    cycle_days: int | None = None  # the household's own cycle; None: its category's
    last_visit: date | None = None


def parse_category(value: Any, field: str = "category") -> Category:
    """A posted category → Category; InvalidInput naming the value and the allowed ones."""
    try:
        return Category(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise InvalidInput(f"{field} {value!r} is not a focus category; allowed: {allowed}",
                           details={"field": field, "allowed": [c.value for c in Category]}) from None


def check_cycle(days: int | None, field: str = "cycle_days") -> int | None:
    """A household's own visit cycle: None (its category's) or 1 … MAX_CYCLE_DAYS whole days."""
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_CYCLE_DAYS:
        raise InvalidInput(f"{field} {days!r} must be a whole number of days from 1 to {MAX_CYCLE_DAYS}",
                           details={"field": field})
    return days


def cycle_of(state: FocusState) -> int:
    """The household's visit cycle in days: its own, else its category's."""
    return state.cycle_days if state.cycle_days is not None else DEFAULT_CYCLE_DAYS[state.category]


def on_register(state: FocusState, day: date) -> bool:
    return state.valid_from <= day and (state.valid_to is None or state.valid_to > day)


def is_paired(state: FocusState, day: date) -> bool:
    """Is a helper paired with the household on `day`?"""
    return (state.helper and state.paired_from is not None and state.paired_from <= day
            and (state.paired_to is None or state.paired_to > day))


def next_visit_due(state: FocusState) -> date:
    """The day by which the next visit is due: one cycle after the last visit, or after registration."""
    anchor = state.valid_from if state.last_visit is None else max(state.last_visit, state.valid_from)
    return anchor + timedelta(days=cycle_of(state))


def days_overdue(state: FocusState, day: date) -> int:
    """Days past the due date on `day` (0 when not overdue or not on the register)."""
    if not on_register(state, day):
        return 0
    return max((day - next_visit_due(state)).days, 0)


def is_overdue(state: FocusState, day: date) -> bool:
    return days_overdue(state, day) > 0


def is_gap(state: FocusState, day: date) -> bool:
    """On the register and unpaired or overdue: one coverage gap on the wall."""
    return on_register(state, day) and (not is_paired(state, day) or is_overdue(state, day))


def priority(state: FocusState, day: date) -> tuple[int, int, date]:
    """Sort key of a worker's list: overdue first (longest overdue first), then unpaired, then by due date."""
    late = days_overdue(state, day)
    return (0 if late else 1 if not is_paired(state, day) else 2, -late, next_visit_due(state))
