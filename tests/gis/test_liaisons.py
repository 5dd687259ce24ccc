"""The liaison rules (gis/liaisons.py) on hand-made assignments whose answers can be read off by eye."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gis.errors import InvalidInput
from gis.liaisons import Assignment, LiaisonScope, check_assignment, liaisons_of, uncovered
from gis.store.vocabulary import is_serving

WEST, EAST, FAR = "500103001001001", "500103001001002", "500103002001001"
COMMUNITY_1 = "500103001001"
GRID, COMMUNITY = LiaisonScope.grid, LiaisonScope.community

# 1: 老王 on WEST for March; 2: 老李 on community 1 from March 10th, open-ended; 3: 老张 on FAR in February only.
ASSIGNMENTS = [
    Assignment(1, GRID, frozenset({WEST}), date(2026, 3, 1), date(2026, 3, 31), "老王"),
    Assignment(2, COMMUNITY, frozenset({COMMUNITY_1}), date(2026, 3, 10), None, "老李"),
    Assignment(3, GRID, frozenset({FAR}), date(2026, 2, 1), date(2026, 2, 28), "老张"),
]


@pytest.mark.parametrize(("grid", "day", "names"), [
    (WEST, date(2026, 3, 1), ["老王"]),  # the first day counts
    (WEST, date(2026, 3, 9), ["老王"]),
    (WEST, date(2026, 3, 10), ["老王", "老李"]),  # the grid's own liaison first, then its community's
    (WEST, date(2026, 3, 31), ["老王", "老李"]),  # the last day counts
    (WEST, date(2026, 4, 1), ["老李"]),
    (EAST, date(2026, 3, 9), []),
    (EAST, date(2027, 1, 1), ["老李"]),  # open-ended
    (FAR, date(2026, 2, 28), ["老张"]),
    (FAR, date(2026, 3, 1), []),
    (WEST, date(2026, 2, 28), []),
])
def test_the_liaisons_of_a_grid_on_a_day(grid: str, day: date, names: list[str]) -> None:
    assert [a.name for a in liaisons_of(ASSIGNMENTS, grid, day)] == names


@pytest.mark.parametrize(("day", "gaps"), [
    (date(2026, 2, 15), [WEST, EAST]),
    (date(2026, 3, 5), [EAST, FAR]),
    (date(2026, 3, 15), [FAR]),
])
def test_grids_without_a_liaison_are_the_gaps(day: date, gaps: list[str]) -> None:
    assert uncovered([WEST, EAST, FAR], ASSIGNMENTS, day) == gaps


def test_active_on_is_the_team_membership_rule() -> None:
    first, last = date(2026, 3, 1), date(2026, 3, 31)
    for to_date in (last, None):
        assignment = Assignment(9, GRID, frozenset({WEST}), first, to_date)
        for offset in range(-2, 35):
            day = first + timedelta(days=offset)
            assert assignment.active_on(day) == is_serving(first, to_date, day), (to_date, day)


@pytest.mark.parametrize(("scope", "codes", "last", "field"), [
    ("street", [WEST], None, "scope"),
    ("grid", [], None, "codes"),
    ("grid", [COMMUNITY_1], None, "codes"),  # a community code under the grid scope
    ("community", [WEST], None, "codes"),
    ("grid", [WEST, WEST], None, "codes"),
    ("grid", [WEST, "110101001001001"], None, "codes"),  # two districts
    ("grid", ["50010300100100x"], None, "codes"),
    ("grid", [WEST], date(2026, 2, 28), "to_date"),
])
def test_a_bad_assignment_is_refused_by_name(scope: str, codes: list[str], last: date | None, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_assignment(scope, codes, date(2026, 3, 1), last)
    assert refused.value.details["field"] == field


def test_a_good_assignment_passes() -> None:
    assert check_assignment("community", [COMMUNITY_1], date(2026, 3, 1), date(2026, 3, 1)) is COMMUNITY
