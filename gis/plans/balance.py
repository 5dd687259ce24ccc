"""Governance load per grid, live while a plan is edited: buildings, households, residents, open cases,
cases in the last 90 days, active workers, and how far households per worker stray from the target.
Counted by the boundary rule (`gis.assignment`), so the numbers are what applying the plan would give."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import shapely

from gis.assignment import assign_points
from gis.plans.model import PlanGrid, Points

RECENT_DAYS = 90


@dataclass(frozen=True)
class GridLoad:
    code: str
    buildings: int
    households: int
    residents: int
    open_cases: int
    recent_cases: int
    workers: int
    households_per_worker: float | None
    deviation: float | None  # (households per worker − target) / target; None without workers

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _counts(points: Points, index: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    inside = index >= 0
    values = np.ones(len(index)) if weights is None else np.asarray(weights, dtype=np.float64)
    return np.bincount(index[inside], weights=values[inside], minlength=size).astype(np.int64)


def assignment(grids: Sequence[PlanGrid], points: Points) -> np.ndarray:
    """Index into `grids` of the grid each point would belong to (-1: none), invalid polygons left out."""
    usable = [g.geometry if g.geometry is not None and shapely.is_valid(g.geometry) else shapely.Polygon()
              for g in grids]
    return assign_points(points.geometries, usable, [g.code for g in grids])


def balance(grids: Sequence[PlanGrid], buildings: Points, open_cases: Points, recent_cases: Points,
            workers_by_team: Mapping[int, int], target: int) -> list[GridLoad]:
    """One GridLoad per plan grid, in the plan's order."""
    size = len(grids)
    on_buildings = assignment(grids, buildings)
    count_buildings = _counts(buildings, on_buildings, size)
    households = _counts(buildings, on_buildings, size, buildings.households)
    residents = _counts(buildings, on_buildings, size, buildings.residents)
    open_counts = _counts(open_cases, assignment(grids, open_cases), size)
    recent_counts = _counts(recent_cases, assignment(grids, recent_cases), size)
    loads = []
    for i, grid in enumerate(grids):
        workers = workers_by_team.get(grid.team_id, 0) if grid.team_id is not None else 0
        per_worker = round(households[i] / workers, 1) if workers else None
        deviation = round((per_worker - target) / target, 3) if per_worker is not None and target else None
        loads.append(GridLoad(grid.code, int(count_buildings[i]), int(households[i]), int(residents[i]),
                              int(open_counts[i]), int(recent_counts[i]), workers, per_worker, deviation))
    return loads
