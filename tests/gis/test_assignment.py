"""The point-to-grid rule on hand-drawn squares: interior, shared edge, shared corner, outside."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, box

from gis.assignment import UNASSIGNED, assign_points
from tests import drawn


def test_drawn_buildings_go_where_expected() -> None:
    codes = [drawn.WEST_CODE, drawn.EAST_CODE]
    result = assign_points(list(drawn.BUILDINGS.values()), [drawn.WEST, drawn.EAST], codes)
    got = {name: (codes[i] if i != UNASSIGNED else None) for name, i in zip(drawn.BUILDINGS, result, strict=True)}
    assert got == drawn.EXPECTED_GRID


def test_smallest_code_wins_regardless_of_polygon_order() -> None:
    # Same squares, listed east first and with codes swapped: the edge point follows the smaller code.
    result = assign_points([Point(106.510, 29.555)], [drawn.EAST, drawn.WEST], ["500103001001001", "500103001001009"])
    assert list(result) == [0]


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        (Point(0.5, 0.5), 0),  # interior of the first square
        (Point(1.0, 1.0), 0),  # corner shared by four squares: code ...001 is the smallest
        (Point(1.5, 1.5), 3),
        (Point(2.0, 0.5), 2),  # outer boundary of square 2 only
        (Point(2.5, 0.5), UNASSIGNED),
    ],
)
def test_four_squares(point: Point, expected: int) -> None:
    squares = [box(0, 0, 1, 1), box(0, 1, 1, 2), box(1, 0, 2, 1), box(1, 1, 2, 2)]
    codes = ["500103001001001", "500103001001002", "500103001001003", "500103001001004"]
    assert list(assign_points([point], squares, codes)) == [expected]


def test_empty_inputs() -> None:
    assert list(assign_points([], [drawn.WEST], ["500103001001001"])) == []
    assert list(assign_points([Point(0, 0)], [], [])) == [UNASSIGNED]
