"""A plan's grids as the rules see them: code, name, polygon (WGS84), branch and team, lineage."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import shapely


class PlanStatus(enum.StrEnum):
    """draft → checked → approved (by someone other than its author) → applied; or discarded."""

    draft = "draft"
    checked = "checked"
    approved = "approved"
    applied = "applied"
    discarded = "discarded"


class Lineage(enum.StrEnum):
    """How a plan's grid relates to the grids it replaces."""

    unchanged = "unchanged"
    reshaped = "reshaped"  # the same code, other land
    split_from = "split_from"  # a new code cut from one earlier grid
    merged = "merged"  # one grid made of several earlier grids
    new = "new"  # land no earlier grid held


@dataclass(frozen=True)
class PlanGrid:
    code: str
    name: str
    geometry: shapely.Geometry
    branch_id: int | None = None
    team_id: int | None = None
    sources: tuple[str, ...] = field(default=())  # earlier grid codes this one takes land from


@dataclass(frozen=True, eq=False)
class Points:
    """Points and what the balance counts of them (buildings: households and residents; cases: one each),
    with the grid code each is in today (None: outside every grid)."""

    ids: np.ndarray
    geometries: np.ndarray  # shapely Points, WGS84
    current_grids: np.ndarray  # object array of grid codes or None
    households: np.ndarray | None = None
    residents: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)
