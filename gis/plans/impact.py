"""What a plan changes hands: each building and open case whose grid would change, and per grid the
load before and after. Today's grid of a point is what the store says (`Points.current_grids`); its
grid under the plan is the boundary rule on the plan's polygons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gis.plans.balance import assignment
from gis.plans.model import PlanGrid, Points


@dataclass(frozen=True)
class Move:
    id: object
    before: str | None
    after: str | None
    lon: float
    lat: float

    def as_dict(self, kind: str) -> dict[str, object]:
        return {"kind": kind, "id": self.id, "from": self.before, "to": self.after, "lon": self.lon, "lat": self.lat}


def moves(grids: Sequence[PlanGrid], points: Points) -> list[Move]:
    """The points whose grid would change (from today's grid to the plan's), in the order given."""
    index = assignment(grids, points)
    codes = np.array([g.code for g in grids] + [None], dtype=object)
    after = codes[index]  # index -1 picks the trailing None
    changed = np.flatnonzero(after != points.current_grids)
    return [Move(points.ids[i], points.current_grids[i], after[i], points.geometries[i].x, points.geometries[i].y)
            for i in changed]


def before_after(before: Mapping[str, Mapping[str, object]], after: Mapping[str, Mapping[str, object]],
                 fields: Sequence[str] = ("buildings", "households", "open_cases", "recent_cases", "workers"),
                 ) -> list[dict[str, object]]:
    """Per grid code (today's and the plan's), its loads before and after (None where the grid is not)."""
    return [{"code": code, "before": {f: before[code][f] for f in fields} if code in before else None,
             "after": {f: after[code][f] for f in fields} if code in after else None}
            for code in sorted(set(before) | set(after))]
