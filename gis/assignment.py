"""Which grid a point belongs to: the rule shared by buildings and cases.

Rule: a point belongs to the current grid whose polygon *covers* it (interior or boundary). A point on
a boundary shared by several grids goes to the one with the **smallest grid code**: stable, independent
of insertion order, and checkable by hand. The same rule is written in SQL in `gis/store/routing.py`
(one point, and many at once); tests hold the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

UNASSIGNED = -1


def assign_points(
    points: NDArray[np.object_] | Sequence[shapely.Point],
    polygons: NDArray[np.object_] | Sequence[shapely.Geometry],
    codes: Sequence[str],
) -> NDArray[np.int64]:
    """For each point, the index of the polygon it belongs to, or UNASSIGNED (-1) if none covers it."""
    point_array = np.asarray(points, dtype=object)
    polygon_array = np.asarray(polygons, dtype=object)
    result = np.full(len(point_array), UNASSIGNED, dtype=np.int64)
    if len(point_array) == 0 or len(polygon_array) == 0:
        return result
    # The tree holds the points and each polygon queries it once: GEOS prepares the polygon for its
    # `covers` tests, about twice as fast for a million points as a polygon tree queried point by point.
    tree = shapely.STRtree(point_array)
    polygon_idx, point_idx = tree.query(polygon_array, predicate="covers")
    if len(point_idx) == 0:
        return result
    rank = _code_rank(codes)
    # Sort hits by point, then by the polygon's code rank; the first hit per point wins.
    order = np.lexsort((rank[polygon_idx], point_idx))
    point_idx, polygon_idx = point_idx[order], polygon_idx[order]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    result[point_idx[first]] = polygon_idx[first]
    return result


def _code_rank(codes: Sequence[str]) -> NDArray[np.int64]:
    """Rank of each code in sorted order (codes are fixed-width digit strings, so text order works)."""
    code_array = np.asarray(codes, dtype=object)
    order = np.argsort(code_array, kind="stable")
    rank = np.empty(len(code_array), dtype=np.int64)
    rank[order] = np.arange(len(code_array))
    return rank
