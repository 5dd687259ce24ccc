"""Checks, balance and impact of redraw plans on a hand-drawn community (answers worked out by hand).

The community is 0.003° × 0.002° at 29.55° N (about 290 m × 221 m); a good plan cuts it at 106.5015 into
a west and an east grid. Each faulty plan below has exactly one fault."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from gis.plans.balance import balance
from gis.plans.checks import CheckContext, CheckKind, Severity, blocking, check_plan
from gis.plans.impact import moves
from gis.plans.model import PlanGrid, Points

COMMUNITY = "500103001001"
WEST, EAST, NORTH = f"{COMMUNITY}001", f"{COMMUNITY}002", f"{COMMUNITY}003"
BOUNDARY = box(106.500, 29.550, 106.503, 29.552)


def grid(code: str, geometry: shapely.Geometry, *, branch: int | None = 1, team: int | None = 1) -> PlanGrid:
    return PlanGrid(code, f"网格{code[-3:]}", geometry, branch_id=branch, team_id=team)


GOOD = [grid(WEST, box(106.500, 29.550, 106.5015, 29.552), team=1),
        grid(EAST, box(106.5015, 29.550, 106.503, 29.552), team=2)]


def points(coords: list[tuple[float, float]], current: list[str | None], households: list[int] | None = None,
           ) -> Points:
    n = len(coords)
    return Points(ids=np.array([f"B{i}" for i in range(n)], dtype=object),
                  geometries=np.array([Point(x, y) for x, y in coords], dtype=object),
                  current_grids=np.array(current, dtype=object),
                  households=np.array(households or [0] * n),
                  residents=np.array([2 * h for h in households or [0] * n]))


BUILDINGS = points([(106.5005, 29.551), (106.5010, 29.5515), (106.5020, 29.551), (106.5025, 29.5512)],
                   [WEST, WEST, EAST, EAST], [100, 200, 300, 50])


def context(**changes: object) -> CheckContext:
    return CheckContext(**{"area_code": COMMUNITY, "boundary": BOUNDARY, "buildings": BUILDINGS, **changes})


def kinds(grids: list[PlanGrid], **changes: object) -> list[CheckKind]:
    return [p.kind for p in check_plan(grids, context(**changes))]


def test_a_good_plan_has_no_problem() -> None:
    assert check_plan(GOOD, context()) == []


@pytest.mark.parametrize(("plan", "expected"), [
    ([GOOD[0], grid(EAST, box(106.5016, 29.550, 106.503, 29.552))], [CheckKind.gap]),
    ([GOOD[0], grid(EAST, box(106.5014, 29.550, 106.503, 29.552))], [CheckKind.overlap]),
    ([GOOD[0], grid(EAST, MultiPolygon([box(106.5015, 29.550, 106.5022, 29.552),
                                        box(106.5022, 29.550, 106.503, 29.552).buffer(-0.00001)]))],
     [CheckKind.gap, CheckKind.several_pieces]),
    ([GOOD[0], grid(WEST, GOOD[1].geometry)], [CheckKind.code_duplicate]),
    ([GOOD[0], grid(EAST, GOOD[1].geometry, team=None)], [CheckKind.no_team]),
    ([GOOD[0], grid(EAST, GOOD[1].geometry, branch=None)], [CheckKind.no_branch]),
    ([GOOD[0], grid("500103001002001", GOOD[1].geometry)], [CheckKind.code_invalid]),
    ([GOOD[0], grid(f"{COMMUNITY}000", GOOD[1].geometry)], [CheckKind.code_invalid]),
    ([GOOD[0], grid(EAST, box(106.5015, 29.550, 106.5035, 29.552))], [CheckKind.outside_area]),
])
def test_each_fault_is_found_once_with_its_geometry(plan: list[PlanGrid], expected: list[CheckKind]) -> None:
    found = check_plan(plan, context())
    assert [p.kind for p in found] == expected
    assert all(p.severity is Severity.error for p in found)
    assert all(p.geometry is not None and not p.geometry.is_empty for p in found)


def test_the_gap_is_where_it_is_and_as_large_as_drawn() -> None:
    [gap] = check_plan([GOOD[0], grid(EAST, box(106.5016, 29.550, 106.503, 29.552))], context())
    assert gap.geometry.bounds == pytest.approx((106.5015, 29.550, 106.5016, 29.552), abs=1e-9)
    assert gap.details["area_m2"] == pytest.approx(9.69 * 221.7, rel=0.01)  # 0.0001° lon × 0.002° lat
    assert check_plan([GOOD[0], grid(EAST, box(106.5016, 29.550, 106.503, 29.552))],
                      context(gap_tolerance_m2=3000)) == []  # under the tolerance: drawing noise


def test_a_self_intersection_is_shown_where_it_crosses() -> None:
    bowtie = Polygon([(106.5015, 29.550), (106.503, 29.552), (106.503, 29.550), (106.5015, 29.552)])
    found = check_plan([GOOD[0], grid(EAST, bowtie)], context())
    assert found[0].kind is CheckKind.invalid_polygon  # first; the land the twist leaves out is a gap too
    assert {p.kind for p in found[1:]} == {CheckKind.gap}
    problem = found[0]
    assert problem.geometry.geom_type == "Point"
    assert (problem.geometry.x, problem.geometry.y) == pytest.approx((106.50225, 29.551))
    assert "Self-intersection" in problem.message


def test_a_building_the_plan_leaves_outside_every_grid_is_an_error() -> None:
    buildings = points([(106.50155, 29.551)], [EAST], [10])
    found = check_plan([GOOD[0], grid(EAST, box(106.5016, 29.550, 106.503, 29.552))], context(buildings=buildings))
    assert [p.kind for p in found] == [CheckKind.gap, CheckKind.building_outside]
    assert found[1].details == {"building": "B0"} and found[1].geometry.equals(Point(106.50155, 29.551))


def test_a_code_reused_for_other_land_is_an_error_but_a_reshape_is_not() -> None:
    elsewhere = box(106.510, 29.550, 106.511, 29.551)
    assert kinds(GOOD, earlier_versions={EAST: elsewhere}) == [CheckKind.code_reused]
    nudged = box(106.5016, 29.550, 106.503, 29.552)  # most of the land is the same: a reshape
    assert kinds(GOOD, earlier_versions={EAST: nudged}) == []


def test_households_out_of_range_is_a_warning_that_can_be_accepted_with_a_reason() -> None:
    found = check_plan(GOOD, context(households_range=(320, 1000)))
    assert [p.severity for p in found] == [Severity.warning]
    assert found[0].grids == (WEST,) and found[0].details["households"] == 300  # 100 + 200
    assert blocking(found, {}) == found
    assert blocking(found, {found[0].key: "   "}) == found  # a reason must say something
    assert blocking(found, {found[0].key: "新建小区，明年入住"}) == []


def test_balance_counts_the_governance_load_of_each_grid() -> None:
    open_cases = points([(106.5005, 29.5505), (106.5020, 29.5505), (106.5021, 29.5506)], [WEST, EAST, EAST])
    recent = points([(106.5005, 29.5505)], [WEST])
    west, east = balance(GOOD, BUILDINGS, open_cases, recent, workers_by_team={1: 1, 2: 2}, target=200)
    assert (west.buildings, west.households, west.residents, west.open_cases, west.recent_cases) == (2, 300, 600, 1, 1)
    assert (east.buildings, east.households, east.open_cases, east.recent_cases) == (2, 350, 2, 0)
    assert (west.workers, west.households_per_worker, west.deviation) == (1, 300.0, 0.5)
    assert (east.workers, east.households_per_worker, east.deviation) == (2, 175.0, -0.125)
    [lonely] = balance([grid(NORTH, BOUNDARY, team=None)], BUILDINGS, open_cases, recent, {}, 200)
    assert (lonely.households, lonely.workers, lonely.households_per_worker, lonely.deviation) == (650, 0, None, None)


def test_impact_lists_what_changes_hands() -> None:
    moved = [grid(WEST, box(106.500, 29.550, 106.5022, 29.552)), grid(EAST, box(106.5022, 29.550, 106.503, 29.552))]
    changes = moves(moved, BUILDINGS)
    assert [(m.id, m.before, m.after) for m in changes] == [("B2", EAST, WEST)]
    assert moves(GOOD, BUILDINGS) == []
    gone = moves([GOOD[0]], BUILDINGS)  # the east grid dropped: its buildings fall outside
    assert [(m.id, m.after) for m in gone] == [("B2", None), ("B3", None)]
