"""Route points to grids by the rule in gis/assignment.py (covers; smallest code wins): one point in PostGIS,
many at once in memory over the current grids read from PostGIS.

One point (intake) is a query on the grid table's GiST index (ROUTE_POINT_SQL). Many points (imports, the
sample, batch jobs) are routed by `gis.assignment.assign_points` over the current grid polygons read in one
query (`gis.store.assign.CurrentGrids`): an STRtree of the points queried once by each prepared polygon.
That beats any SQL plan tried for a million points (staging them by binary COPY with a GiST index and a
polygon-driven join took 2.7× a geopandas `sjoin`; most of it staging, indexing and sorting the points) and
needs no temporary table. Tests hold the two forms to the same answers (tests/store/test_routing.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from sqlalchemy.orm import Session

from gis.assignment import UNASSIGNED
from gis.errors import InvalidInput
from gis.store.assign import CurrentGrids
from gis.store.vocabulary import current_sql

# The boundary rule of gis/assignment.py in SQL, for one point at intake. Here, beside the bulk form, so a
# change to the rule is this file and gis/assignment.py.
ROUTE_POINT_SQL = f"""
SELECT g.id, g.code
FROM grid AS g
WHERE {current_sql("g")}
  AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY g.code
LIMIT 1
"""
"""The grid that answers for one WGS84 point (`:lon`, `:lat`) on the day `:on`."""

_LAST = "gridmap.route_points"


def route_points(session: Session, lons: ArrayLike, lats: ArrayLike) -> list[str | None]:
    """The code of the grid answering for each WGS84 point (None outside every grid), in input order, on the
    district's today; the grids are read in the session's transaction."""
    x, y = _checked(lons, lats)
    if len(x) == 0:
        return []
    grids = CurrentGrids.load(session)
    index = grids.index_of(shapely.points(x, y))
    codes = np.full(len(x), None, dtype=object)
    hit = index != UNASSIGNED
    codes[hit] = np.asarray(grids.codes, dtype=object)[index[hit]]
    session.info[_LAST] = {"points": len(x), "grids": len(grids.codes), "routed": int(hit.sum())}
    return codes.tolist()


def explain_route_points(session: Session) -> list[str]:
    """How the last `route_points` call in this session routed its points (for benchmarks)."""
    last: dict[str, Any] | None = session.info.get(_LAST)
    if last is None:
        return ["no route_points call in this session"]
    return [f"in memory (gis.assignment.assign_points): {last['grids']} current grids read from PostGIS in "
            f"one query; an STRtree of the {last['points']} points queried by each prepared grid polygon "
            f"(covers); the smallest code wins; {last['routed']} routed"]


def _checked(lons: ArrayLike, lats: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(lons, dtype=np.float64).ravel()
    y = np.asarray(lats, dtype=np.float64).ravel()
    if len(x) != len(y):
        raise InvalidInput(f"{len(x)} longitudes but {len(y)} latitudes: give one of each per point")
    if len(x) > np.iinfo(np.int32).max:
        raise InvalidInput(f"{len(x)} points in one call; at most {np.iinfo(np.int32).max}")
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        first = int(np.argmax(bad))
        raise InvalidInput(f"point {first} ({x[first]}, {y[first]}) is not a finite longitude/latitude")
    return x, y
