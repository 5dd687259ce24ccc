"""Mapbox vector tiles, made by PostGIS (ST_AsMVT / ST_AsMVTGeom on ST_TileEnvelope, Web Mercator).

Two layers (`TILE_LAYERS`), each one MVT layer of the same name:

* `grids` — every grid current on the local date, with code, name and the measure's value, class and
  colour (feature id = the numeric grid code). The values come from `gis.store.layers.grid_values`, so a
  tile agrees with the GeoJSON layer and its legend. The grids in the tile are found first from their
  bounding boxes, kept in memory (`GridBoxes`, cached by the places version): none, no round trip. A tile
  is made in two steps: its shapes (`grid_shapes`: PostGIS clips, simplifies and encodes the polygons;
  kept by places version, day and tile, since cases never change them), then the values written in
  (`grid_tile`, the shapes' `gis.mvt.LayerTemplate`, in Python, no round trip). So a tile with fresh measures (every
  case changes them) costs a few microseconds a feature once its shapes were made; measured at 50,000
  grids against tipg's plain tiles in bench/layers.py ("tiles_compared").
* `cases` — the open cases (`gis.store.vocabulary.open_case_sql`, the partial GiST index of migration
  0003). From zoom `CASE_POINTS_FROM_ZOOM` on, one point per case (feature id = case id; category, status, grid_code,
  count 1, overdue 0/1, supervised, escalated); below it one point per grid at ST_PointOnSurface with
  `count` and `overdue` (open and past the deadline), plus, one by one, the open cases no current grid
  answers for (unrouted, or keyed to a retired grid).

Simplification: ST_AsMVTGeom only snaps to the tile's 4096 grid, so polygons are first simplified
(ST_Simplify, collapsed rings kept) by about one screen pixel at the zoom — a 512-pixel tile, as Mapbox
GL and MapLibre draw them — converted to degrees at the tile's latitude: fewer vertices to transform and
clip, no visible change. Features reach `BUFFER` units (of 4096) beyond the tile so strokes and circles
at its edge are drawn whole. A tile with no feature is returned as b"" (the API answers 204).

`cached_grid_tile` and `cached_case_tile` keep made tiles in the layer cache, keyed by the data version
(and, for grids, by the measure values they carry), so wall screens showing the same view share them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.mvt import LayerTemplate, MvtFeature, read_layer, write_layer
from gis.periods import district_today
from gis.store.layers import (
    VALUES_MAX_AGE_SECONDS,
    LayerCache,
    LayerQuery,
    LayerValues,
    data_version,
    grid_values,
)
from gis.store.vocabulary import current_sql, no_jit, open_case_sql, overdue_open_sql
from gis.tilegrid import check_tile_address

__all__ = ["CASE_POINTS_FROM_ZOOM", "MAX_ZOOM", "TILE_LAYERS", "GridBoxes", "TileShapes", "cached_case_tile",
           "cached_grid_tile", "cached_shapes_tile", "case_tile", "check_tile", "current_grids", "grid_boxes",
           "grid_shapes", "grid_tile", "simplify_tolerance", "tile_area"]

TILE_LAYERS = ("grids", "cases")
MAX_ZOOM = 22
EXTENT = 4096
BUFFER = 64
CASE_POINTS_FROM_ZOOM = 14
SCREEN_PIXELS_PER_TILE = 512
JIT_OFF_BELOW_ZOOM = 13
"""Large tiles are made with JIT off (compiling costs more than it saves); small ones never reach it."""
EARTH_CIRCUMFERENCE_M = 2 * math.pi * 6378137.0
METRES_PER_DEGREE = EARTH_CIRCUMFERENCE_M / 360.0

_BOUNDS = (
    "bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS tile, "
    f"ST_Transform(ST_ClipByBox2D(ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}), "
    "ST_TileEnvelope(0, 0, 0)), 4326) AS area)"
)
_GRIDS_ON = current_sql("g")
_OPEN_CASE = open_case_sql("c")
_OVERDUE = overdue_open_sql("c", ":now")
_MVT_GEOM = f"ST_AsMVTGeom(ST_Transform({{geom}}, 3857), b.tile, {EXTENT}, {BUFFER}, true)"


def check_tile(layer: str, z: int, x: int, y: int) -> None:
    """NotFound for an unknown layer; InvalidInput naming the range for a bad z, x or y."""
    if layer not in TILE_LAYERS:
        raise NotFound(f"unknown tile layer {layer!r}; allowed: {', '.join(TILE_LAYERS)}",
                       details={"layer": layer, "allowed": list(TILE_LAYERS)})
    check_tile_address(z, x, y, MAX_ZOOM)


def simplify_tolerance(z: int, y: int) -> float:
    """One screen pixel at zoom `z`, in degrees at the latitude of the middle of tile row `y`.

    A Web Mercator metre is 1/METRES_PER_DEGREE degree of longitude and cos(lat) times that of latitude;
    the smaller (latitude) is taken, so the error stays under a pixel both ways.
    """
    pixel_m = EARTH_CIRCUMFERENCE_M / (SCREEN_PIXELS_PER_TILE * 2**z)
    latitude = math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / 2**z)))
    return pixel_m * math.cos(latitude) / METRES_PER_DEGREE


def serial(session: Session) -> None:
    """A tile is small work: a parallel ST_AsMVT plan was measured slower than a serial one (z12: 75 vs
    60 ms at 50,000 grids), so tiles run without parallel workers, for this transaction only."""
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


# The final SELECTs have no `WHERE geom IS NOT NULL`: ST_AsMVT skips NULL geometries itself, and such
# a WHERE is pushed into the scan, so every feature's ST_AsMVTGeom would be computed twice.

# -- grids --------------------------------------------------------------------------------------------

_BOXES_SQL = f"""
SELECT DISTINCT ON (g.code) g.code, ST_XMin(g.geom) AS minx, ST_YMin(g.geom) AS miny, ST_XMax(g.geom) AS maxx,
       ST_YMax(g.geom) AS maxy
FROM grid AS g WHERE {_GRIDS_ON} ORDER BY g.code, g.valid_from DESC
"""

_GRID_SHAPES_SQL = f"""
WITH {_BOUNDS},
features AS (
    SELECT g.code::bigint AS fid, g.code, g.name,
           {_MVT_GEOM.format(geom="ST_Simplify(g.geom, :tolerance, true)")} AS geom
    FROM bounds AS b
    JOIN grid AS g ON g.geom && b.area
    WHERE {_GRIDS_ON} AND g.code = ANY(CAST(:codes AS text[]))
)
SELECT ST_AsMVT(features, 'grids', {EXTENT}, 'geom', 'fid') FROM features
"""
GRID_TILE_KEYS = ("code", "name", "value", "class", "colour")


@dataclass(frozen=True)
class TileShapes:
    """A grid tile's features as PostGIS made them (id, type, code and name, geometry commands), without
    values: they depend on the places only, so they are kept by places version and day."""

    extent: int
    features: tuple[MvtFeature, ...]

    @cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.properties["code"] for f in self.features)

    @cached_property
    def template(self) -> LayerTemplate:
        """The `grids` layer with code and name encoded once; a tile's values are written in per request."""
        fixed = [{"code": f.properties["code"], "name": f.properties.get("name")} for f in self.features]
        return LayerTemplate("grids", self.extent, self.features, fixed, GRID_TILE_KEYS, 2)


@dataclass(frozen=True)
class GridBoxes:
    """The bounding boxes of the current grids, so a tile finds its grids without a round trip."""

    codes: np.ndarray
    boxes: np.ndarray  # (n, 4): minx, miny, maxx, maxy in degrees

    def hits(self, area: tuple[float, float, float, float]) -> np.ndarray:
        minx, miny, maxx, maxy = area
        b = self.boxes
        return (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)

    def within(self, area: tuple[float, float, float, float]) -> list[str]:
        return self.codes[self.hits(area)].tolist()


def grid_boxes(session: Session, on: date) -> GridBoxes:
    """Bounding boxes of the grids current on `on` (cache them by the places version and date)."""
    rows = session.execute(text(_BOXES_SQL), {"on": on}).mappings().all()
    codes = np.array([r["code"] for r in rows], dtype=object)
    boxes = np.array([[r["minx"], r["miny"], r["maxx"], r["maxy"]] for r in rows], dtype=float).reshape(len(rows), 4)
    return GridBoxes(codes, boxes)


def current_grids(session: Session, on: date | None = None) -> tuple[int, tuple[float, float, float, float] | None]:
    """How many grids are current on `on` (default the district's today) and their extent (minx, miny, maxx,
    maxy; None without grids): the wall picks tiles by the count and starts at the extent."""
    sql = f"SELECT count(DISTINCT g.code) AS n, ST_Extent(g.geom)::geometry AS e FROM grid AS g WHERE {_GRIDS_ON}"
    sql = f"SELECT n, ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy FROM ({sql}) AS x"
    row = session.execute(text(sql), {"on": on or district_today()}).mappings().one()
    if not row["n"]:
        return 0, None
    return int(row["n"]), (row["minx"], row["miny"], row["maxx"], row["maxy"])


def tile_area(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile with its `BUFFER` margin, in degrees (minx, miny, maxx, maxy), clipped to the world."""
    n = 2**z
    margin = BUFFER / EXTENT

    def lon(tx: float) -> float:
        return min(max(tx / n * 360.0 - 180.0, -180.0), 180.0)

    def lat(ty: float) -> float:
        ty = min(max(ty, 0.0), float(n))
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return lon(x - margin), lat(y + 1 + margin), lon(x + 1 + margin), lat(y - margin)


def grid_shapes(session: Session, z: int, x: int, y: int, on: date, boxes: GridBoxes) -> TileShapes:
    """The shapes of the grids current on `on` in tile z/x/y (simplified by about a pixel, clipped, encoded
    by PostGIS), read back into features."""
    codes = boxes.within(tile_area(z, x, y))
    if not codes:
        return TileShapes(EXTENT, ())
    if z < JIT_OFF_BELOW_ZOOM:
        no_jit(session)
        serial(session)  # only large tiles could be given parallel workers
    params = {"z": z, "x": x, "y": y, "on": on, "codes": codes, "tolerance": simplify_tolerance(z, y)}
    _name, extent, features = read_layer(_bytes(session.execute(text(_GRID_SHAPES_SQL), params).scalar_one()))
    return TileShapes(extent, tuple(features))


def grid_tile(session: Session, z: int, x: int, y: int, values: LayerValues, boxes: GridBoxes,
              shapes: TileShapes | None = None) -> bytes:
    """The `grids` tile, coloured by `values` (code, name, value, class, colour): `shapes` (made if not
    given) with the values written into its template (`gis.mvt.LayerTemplate`: code and name encoded once)."""
    if shapes is None:
        shapes = grid_shapes(session, z, x, y, values.query.day(values.generated_at), boxes)
    colours = values.colours()
    classes = values.classes
    rows, measure = values.rows, values.query.measure
    changing = []  # value, class, colour: GRID_TILE_KEYS after code and name
    for code in shapes.codes:
        cls = classes.get(code)
        row = rows.get(code)
        value = None if row is None else row[measure]
        changing.append((value if isinstance(value, str) or value is None else float(value), cls,
                         colours.get(cls) or colours[None]))
    return shapes.template.write(changing)


# -- cases --------------------------------------------------------------------------------------------

_CASE_POINTS_SQL = f"""
WITH {_BOUNDS},
features AS (
    SELECT c.id AS fid, c.category_code AS category, c.status, c.grid_code, 1 AS count,
           coalesce({_OVERDUE}, false)::int AS overdue,
           c.supervised_at IS NOT NULL AS supervised, c.escalated_at IS NOT NULL AS escalated,
           {_MVT_GEOM.format(geom="c.position")} AS geom
    FROM bounds AS b
    JOIN service_case AS c ON c.position && b.area AND {_OPEN_CASE}
)
SELECT ST_AsMVT(features, 'cases', {EXTENT}, 'geom', 'fid') FROM features
"""

_CASE_COUNTS_SQL = f"""
WITH {_BOUNDS},
grids AS (
    SELECT DISTINCT ON (g.code) g.code, ST_PointOnSurface(g.geom) AS point
    FROM bounds AS b JOIN grid AS g ON g.geom && b.area
    WHERE {_GRIDS_ON}
    ORDER BY g.code, g.valid_from DESC
),
per_grid AS (
    SELECT g.code AS grid_code, g.point, n.count, n.overdue
    FROM grids AS g
    CROSS JOIN LATERAL (
        SELECT count(*)::int AS count, (count(*) FILTER (WHERE {_OVERDUE}))::int AS overdue
        FROM service_case AS c WHERE c.grid_code = g.code AND {_OPEN_CASE}
    ) AS n
    WHERE n.count > 0
),
loose AS (
    SELECT c.grid_code, c.position AS point, 1 AS count, coalesce({_OVERDUE}, false)::int AS overdue
    FROM bounds AS b
    JOIN service_case AS c ON c.position && b.area AND {_OPEN_CASE}
    WHERE c.grid_code IS NULL
       OR NOT EXISTS (SELECT 1 FROM grid AS g WHERE g.code = c.grid_code AND {_GRIDS_ON})
),
features AS (
    SELECT p.grid_code, p.count, p.overdue, {_MVT_GEOM.format(geom="p.point")} AS geom
    FROM bounds AS b, (SELECT * FROM per_grid UNION ALL SELECT * FROM loose) AS p
)
SELECT ST_AsMVT(features, 'cases', {EXTENT}, 'geom') FROM features
"""


def case_tile(session: Session, z: int, x: int, y: int, *, now: datetime | None = None) -> bytes:
    """The `cases` tile: points from zoom `CASE_POINTS_FROM_ZOOM`, counts per grid below it."""
    moment = now or datetime.now(UTC)
    if z < JIT_OFF_BELOW_ZOOM:
        no_jit(session)
    serial(session)
    sql = _CASE_POINTS_SQL if z >= CASE_POINTS_FROM_ZOOM else _CASE_COUNTS_SQL
    params = {"z": z, "x": x, "y": y, "now": moment, "on": district_today(moment)}
    return _bytes(session.execute(text(sql), params).scalar_one())


# -- with the layer cache -----------------------------------------------------------------------------


def cached_grid_tile(session: Session, cache: LayerCache, query: LayerQuery, z: int, x: int, y: int, *,
                     households_per_worker_target: int = 500) -> bytes:
    """`grid_tile` for `query` at the current data version, kept in `cache.tiles` while its values are."""
    version = data_version(session)
    values = grid_values(session, cache, query, version,
                         households_per_worker_target=households_per_worker_target)
    on = query.day(values.generated_at)
    boxes = cache.get(("boxes", version.places, on), lambda: grid_boxes(session, on))
    shapes = cache.tiles.get(("shapes", version.places, on, z, x, y),
                             lambda: grid_shapes(session, z, x, y, on, boxes))
    key = ("grids", values.version.token, version.places, *query.key, values.generated_at, z, x, y)
    return cache.tiles.get(key, lambda: grid_tile(session, z, x, y, values, boxes, shapes))


def cached_shapes_tile(session: Session, cache: LayerCache, z: int, x: int, y: int, on: date | None = None) -> bytes:
    """The `grids` tile with code and name only (no measure): for a client that colours the grids itself
    (the wall, from `gis.store.tile_classes`). It never waits for measures, and is kept while the places
    are the same."""
    version = data_version(session)
    day = on or district_today()
    boxes = cache.get(("boxes", version.places, day), lambda: grid_boxes(session, day))
    shapes = cache.tiles.get(("shapes", version.places, day, z, x, y),
                             lambda: grid_shapes(session, z, x, y, day, boxes))
    props = [{"code": f.properties["code"], "name": f.properties.get("name")} for f in shapes.features]
    return write_layer("grids", shapes.extent, shapes.features, props, ("code", "name"))


def cached_case_tile(session: Session, cache: LayerCache, z: int, x: int, y: int) -> bytes:
    """`case_tile` at the current data version, kept in `cache.tiles` for `VALUES_MAX_AGE_SECONDS` (its
    overdue flags follow the clock)."""
    key = ("cases", data_version(session).token, z, x, y)
    return cache.tiles.get(key, lambda: case_tile(session, z, x, y), VALUES_MAX_AGE_SECONDS)


def _bytes(value: bytes | memoryview | None) -> bytes:
    return b"" if value is None else bytes(value)


