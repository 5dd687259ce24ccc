"""What is wrong with a plan, each problem with its geometry so the map can show it and a click can zoom
to it. Errors stop approval; warnings may be accepted with a reason (`gis/store/plans.py`).

Overlays are computed on the WGS84 coordinates as drawn (so an edge two grids share is the same line for
both), and each piece is measured in the CGCS2000 3-degree zone of the plan's area
(`gis.geometry.metric_crs_for`); an overlap or a gap smaller than the tolerance (m²) is drawing noise, not
a problem.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from gis.assignment import UNASSIGNED, assign_points
from gis.codes import is_valid_grid_code
from gis.geometry import metric_crs_for
from gis.party import MIN_MEMBERS, needs_seconded_branch
from gis.plans.model import PlanGrid, Points

DEFAULT_GAP_TOLERANCE_M2 = 10.0
REUSED_SHARE = 0.5  # a code keeps its identity if at least half of its old or new land is shared


class Severity(enum.StrEnum):
    error = "error"
    warning = "warning"


class CheckKind(enum.StrEnum):
    invalid_polygon = "invalid_polygon"
    overlap = "overlap"
    gap = "gap"
    outside_area = "outside_area"
    several_pieces = "several_pieces"
    code_invalid = "code_invalid"
    code_duplicate = "code_duplicate"
    code_reused = "code_reused"
    no_branch = "no_branch"
    no_team = "no_team"
    households_out_of_range = "households_out_of_range"
    building_outside = "building_outside"
    branch_under_three = "branch_under_three"  # gis/party.py: fewer than three members needs a seconded branch


WARNINGS = frozenset({CheckKind.households_out_of_range, CheckKind.branch_under_three})


@dataclass(frozen=True, eq=False)
class PlanProblem:
    kind: CheckKind
    message: str
    grids: tuple[str, ...]
    geometry: shapely.Geometry | None  # WGS84
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return Severity.warning if self.kind in WARNINGS else Severity.error

    @property
    def key(self) -> str:
        """Stable identity of the problem within a plan (to accept a warning by it)."""
        return f"{self.kind.value}:{','.join(self.grids)}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "severity": self.severity.value, "key": self.key,
                "message": self.message, "grids": list(self.grids), "details": dict(self.details),
                "geometry": None if self.geometry is None else shapely.geometry.mapping(self.geometry)}


@dataclass(frozen=True, eq=False)
class CheckContext:
    """What a plan is checked against."""

    area_code: str  # the community (12 digits) or street (9) the plan redraws
    boundary: shapely.Geometry  # that area's outline, WGS84
    buildings: Points
    earlier_versions: Mapping[str, shapely.Geometry] = field(default_factory=dict)  # code → land it held
    households_range: tuple[int, int] | None = None
    gap_tolerance_m2: float = DEFAULT_GAP_TOLERANCE_M2
    branch_members: Mapping[int, int] = field(default_factory=dict)  # branch id → members today (gis/party.py)


class _Metric:
    """Square metres of WGS84 geometries, in the area's metric zone."""

    def __init__(self, boundary: shapely.Geometry) -> None:
        centre = boundary.centroid
        zone = CRS.from_epsg(metric_crs_for(centre.x, centre.y))
        self._forward = Transformer.from_crs("EPSG:4326", zone, always_xy=True)

    def area(self, geometry: shapely.Geometry) -> float:
        projected = shapely.transform(geometry, lambda xy: np.column_stack(self._forward.transform(*xy.T)))
        return float(shapely.area(projected))


_WHERE = re.compile(r"\[([-0-9.eE]+) ([-0-9.eE]+)\]")


def _invalid_spot(geometry: shapely.Geometry) -> tuple[str, shapely.Geometry]:
    """GEOS's reason and the point it names (else the polygon itself)."""
    reason = shapely.is_valid_reason(geometry)
    found = _WHERE.search(reason)
    spot = shapely.Point(float(found[1]), float(found[2])) if found else geometry
    return reason, spot


def check_plan(grids: Sequence[PlanGrid], context: CheckContext) -> list[PlanProblem]:
    """Every problem of the plan, errors and warnings, in a stable order (by kind, then grid)."""
    problems: list[PlanProblem] = []
    metric = _Metric(context.boundary)
    problems += _code_problems(grids, context)
    usable: list[tuple[PlanGrid, shapely.Geometry]] = []  # valid polygons (invalid ones repaired, for coverage)
    for grid in grids:
        geometry = grid.geometry
        if geometry is None or geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(PlanProblem(CheckKind.invalid_polygon, f"grid {grid.code} has no polygon",
                                        (grid.code,), None))
            continue
        if not shapely.is_valid(geometry):
            reason, spot = _invalid_spot(geometry)
            problems.append(PlanProblem(CheckKind.invalid_polygon, f"grid {grid.code} is not a valid polygon: "
                                        f"{reason}", (grid.code,), spot, {"reason": reason}))
            usable.append((grid, shapely.make_valid(geometry)))
            continue
        parts = shapely.get_parts(geometry)
        if len(parts) > 1:
            problems.append(PlanProblem(CheckKind.several_pieces, f"grid {grid.code} is in {len(parts)} pieces",
                                        (grid.code,), geometry, {"pieces": len(parts)}))
        if grid.branch_id is None:
            problems.append(PlanProblem(CheckKind.no_branch, f"grid {grid.code} has no party branch",
                                        (grid.code,), geometry))
        elif needs_seconded_branch(members := context.branch_members.get(grid.branch_id, MIN_MEMBERS)):
            problems.append(PlanProblem(CheckKind.branch_under_three, f"grid {grid.code}: its branch has {members} "
                                        f"party member(s), fewer than {MIN_MEMBERS}: it needs a seconded branch",
                                        (grid.code,), geometry, {"members": members, "branch_id": grid.branch_id}))
        if grid.team_id is None:
            problems.append(PlanProblem(CheckKind.no_team, f"grid {grid.code} has no service team",
                                        (grid.code,), geometry))
        usable.append((grid, geometry))
    problems += _overlaps(usable, context, metric)
    problems += _coverage(usable, context, metric)
    problems += _reused(usable, context, metric)
    problems += _buildings(grids, context)
    order = list(CheckKind)
    return sorted(problems, key=lambda p: (order.index(p.kind), p.grids))


def _code_problems(grids: Sequence[PlanGrid], context: CheckContext) -> list[PlanProblem]:
    problems = []
    for grid in grids:
        if not is_valid_grid_code(grid.code):
            problems.append(PlanProblem(CheckKind.code_invalid, f"{grid.code!r} is not a grid code (15 digits, "
                                        "community code + 3-digit sequence 001–999)", (grid.code,), grid.geometry))
        elif not grid.code.startswith(context.area_code):
            problems.append(PlanProblem(CheckKind.code_invalid, f"grid code {grid.code} is not inside "
                                        f"{context.area_code}, the area this plan redraws", (grid.code,),
                                        grid.geometry))
    for code, count in sorted(Counter(g.code for g in grids).items()):
        if count > 1:
            geometry = shapely.union_all([g.geometry for g in grids if g.code == code and g.geometry is not None])
            problems.append(PlanProblem(CheckKind.code_duplicate, f"grid code {code} is used {count} times",
                                        (code,), geometry, {"count": count}))
    return problems


def _overlaps(usable: list[tuple[PlanGrid, shapely.Geometry]], context: CheckContext,
              metric: _Metric) -> list[PlanProblem]:
    if len(usable) < 2:
        return []
    shapes = np.array([m for _, m in usable], dtype=object)
    left, right = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    problems = []
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        for piece in _pieces(shapely.intersection(shapes[i], shapes[j]), metric, context.gap_tolerance_m2):
            area = metric.area(piece)
            a, b = sorted((usable[i][0].code, usable[j][0].code))
            problems.append(PlanProblem(CheckKind.overlap, f"grids {a} and {b} overlap by {area:,.0f} m²",
                                        (a, b), piece, {"area_m2": round(area, 1)}))
    return problems


def _pieces(geometry: shapely.Geometry, metric: _Metric, tolerance: float) -> list[shapely.Geometry]:
    """The polygon pieces of an overlay result larger than the tolerance (m²)."""
    return [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon" and metric.area(p) > tolerance]


def _coverage(usable: list[tuple[PlanGrid, shapely.Geometry]], context: CheckContext,
              metric: _Metric) -> list[PlanProblem]:
    boundary = shapely.make_valid(context.boundary)
    union = shapely.union_all([m for _, m in usable]) if usable else shapely.Polygon()
    problems = []
    for piece in _pieces(shapely.difference(boundary, union), metric, context.gap_tolerance_m2):
        area = metric.area(piece)
        problems.append(PlanProblem(CheckKind.gap, f"{area:,.0f} m² of {context.area_code} belong to no grid",
                                    (), piece, {"area_m2": round(area, 1)}))
    for grid, shape in usable:
        for piece in _pieces(shapely.difference(shape, boundary), metric, context.gap_tolerance_m2):
            area = metric.area(piece)
            problems.append(PlanProblem(CheckKind.outside_area, f"grid {grid.code} reaches {area:,.0f} m² "
                                        f"beyond {context.area_code}", (grid.code,), piece,
                                        {"area_m2": round(area, 1)}))
    return problems


def _reused(usable: list[tuple[PlanGrid, shapely.Geometry]], context: CheckContext,
            metric: _Metric) -> list[PlanProblem]:
    """A code that held other land before: history and measures would mix two places under one name."""
    problems = []
    for grid, shape in usable:
        earlier = context.earlier_versions.get(grid.code)
        if earlier is None or earlier.is_empty:
            continue
        old = shapely.make_valid(earlier)
        shared = metric.area(shapely.intersection(shape, old))
        if shared < REUSED_SHARE * metric.area(shape) and shared < REUSED_SHARE * metric.area(old):
            problems.append(PlanProblem(CheckKind.code_reused, f"grid code {grid.code} held other land before "
                                        "(less than half shared): give the new land a new code", (grid.code,),
                                        grid.geometry, {"shared_m2": round(shared, 1)}))
    return problems


def _buildings(grids: Sequence[PlanGrid], context: CheckContext) -> list[PlanProblem]:
    """Buildings of the area no plan grid covers; and households per grid outside the target range."""
    buildings = context.buildings
    valid = [g for g in grids if g.geometry is not None and not g.geometry.is_empty]
    shapes = [shapely.make_valid(g.geometry) for g in valid]  # an invalid grid is judged as GEOS repairs it
    index = assign_points(buildings.geometries, shapes, [g.code for g in valid])
    problems = []
    for i in np.flatnonzero(index == UNASSIGNED):
        problems.append(PlanProblem(CheckKind.building_outside, f"building {buildings.ids[i]} would be in no grid",
                                    (), buildings.geometries[i], {"building": str(buildings.ids[i])}))
    if context.households_range is not None and buildings.households is not None:
        low, high = context.households_range
        for position, grid in enumerate(valid):
            households = int(buildings.households[index == position].sum())
            if not low <= households <= high:
                problems.append(PlanProblem(CheckKind.households_out_of_range, f"grid {grid.code} has "
                                            f"{households} households; the target is {low}–{high}", (grid.code,),
                                            grid.geometry, {"households": households, "low": low, "high": high}))
    return problems


def blocking(problems: Sequence[PlanProblem], accepted: Mapping[str, str]) -> list[PlanProblem]:
    """The problems that stop approval: every error, and each warning not accepted with a reason."""
    return [p for p in problems if p.severity is Severity.error or not accepted.get(p.key, "").strip()]
