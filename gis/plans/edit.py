"""The planner's two cutting tools, on plain polygons: split a grid along a drawn line, merge two grids.

GEOS does the overlay, so the pieces of a split share exactly the same edge (the line's own vertices where
it crosses the grid), holes go to the piece that holds them and a line that crosses a grid several times
gives several pieces. A merge of two grids that touch along an edge is one polygon; grids drawn a hair
apart (under `SNAP_DEGREES`, about 10 cm) are snapped together first, so no sliver is left between them.
"""

from __future__ import annotations

import shapely
from shapely.ops import split as _split

from gis.errors import InvalidInput

SNAP_DEGREES = 1e-6  # ≈ 0.1 m at Chongqing's latitude: drawing noise, not land


def _polygon_parts(geometry: shapely.Geometry) -> list[shapely.Polygon]:
    if isinstance(geometry, shapely.Polygon):
        return [geometry]
    if isinstance(geometry, shapely.MultiPolygon):
        return list(geometry.geoms)
    raise InvalidInput(f"a grid is a polygon, not a {geometry.geom_type}")


def split_grid(geometry: shapely.Geometry, line: shapely.Geometry) -> list[shapely.Polygon]:
    """The pieces of `geometry` cut by `line`, largest first; the line must cross it from edge to edge."""
    if not isinstance(line, shapely.LineString) or len(line.coords) < 2:
        raise InvalidInput(f"a grid is split along a line of two or more points, not a {line.geom_type}")
    if not shapely.is_valid(geometry):
        raise InvalidInput("the grid's polygon is invalid (it crosses itself): mend it before splitting")
    line = _extended(line, SNAP_DEGREES * 10)  # a line snapped onto the edge may stop a hair short of it
    pieces = [piece for part in _polygon_parts(geometry) for piece in _split(part, line).geoms]
    if len(pieces) < 2:
        raise InvalidInput("the line does not cross the grid from one edge to another: draw it across the grid")
    return sorted(pieces, key=lambda piece: piece.area, reverse=True)


def _extended(line: shapely.LineString, by: float) -> shapely.LineString:
    """The line with its first and last segments lengthened by `by` (degrees)."""
    coords = [tuple(c[:2]) for c in line.coords]

    def beyond(tip: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
        dx, dy = tip[0] - towards[0], tip[1] - towards[1]
        size = (dx * dx + dy * dy) ** 0.5 or 1.0
        return tip[0] + dx / size * by, tip[1] + dy / size * by

    return shapely.LineString([beyond(coords[0], coords[1]), *coords, beyond(coords[-1], coords[-2])])


def merge_grids(first: shapely.Geometry, second: shapely.Geometry) -> shapely.Polygon:
    """One polygon covering both grids; they must touch along an edge (a shared corner is not enough)."""
    for geometry in (first, second):
        _polygon_parts(geometry)
    merged = shapely.union(first, second)
    if not isinstance(merged, shapely.Polygon):
        merged = shapely.union(first, shapely.snap(second, first, SNAP_DEGREES)).buffer(0)
    if not isinstance(merged, shapely.Polygon):
        raise InvalidInput("the two grids do not share an edge: only neighbouring grids can be merged")
    return shapely.Polygon(merged.exterior, [ring for ring in merged.interiors
                                             if shapely.Polygon(ring).area > SNAP_DEGREES ** 2 * 100])
