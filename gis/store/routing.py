"""Route many points at once, in PostGIS, by the rule in gis/assignment.py (covers; smallest code wins).

The pipeline: binary COPY of the points into a temporary table, in Morton (Z-order) so that neighbours
share heap pages, with a GiST index; a join driven by the polygons, one probe into the points' index per
current grid, so PostGIS keeps that grid's prepared polygon across its consecutive ST_Covers calls; then
DISTINCT ON (point) ORDER BY code, the boundary rule. PostgreSQL's own choice for the join (a probe into
the grid index per point, the polygon changing at every call) ran ~10× slower, so `LATERAL (… OFFSET 0)`
fixes the order: the fence keeps the planner from flattening the subquery into a join it may turn round.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from numpy.typing import ArrayLike, NDArray
from psycopg.rows import dict_row
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.store.vocabulary import current_day, current_sql

STAGE = "route_point_stage"
SRID = 4326
JOIN_WORK_MEM = "256MB"

# The boundary rule of gis/assignment.py in SQL, in its two shapes: one point at intake, and many points
# at once (imports, the sample). Both here, so a change to the rule is this file and gis/assignment.py.
ROUTE_POINT_SQL = f"""
SELECT g.id, g.code
FROM grid AS g
WHERE {current_sql("g")}
  AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY g.code
LIMIT 1
"""
"""The grid that answers for one WGS84 point (`:lon`, `:lat`) on the day `:on`."""

# One row per routed point: the grid version with the smallest code among those current on the day
# (gis/store/vocabulary.py; the day is a literal, as COPY takes no parameters) that cover it.
ROUTE_POINTS_SQL = f"""
SELECT DISTINCT ON (p.i) p.i, g.id
FROM grid AS g
CROSS JOIN LATERAL (
    SELECT s.i FROM {STAGE} AS s WHERE ST_Covers(g.geom, s.geom) OFFSET 0
) AS p
WHERE {current_sql("g", "{day}")}
ORDER BY p.i, g.code
"""


def _route_points_sql() -> str:
    """ROUTE_POINTS_SQL on the district's today, as a date literal."""
    return ROUTE_POINTS_SQL.replace("{day}", f"DATE '{current_day().isoformat()}'")

_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
# Binary COPY rows: field count, then (length, value) per field. In: (i, point as little-endian EWKB);
# out: (i, grid id).
_ROW = np.dtype([
    ("fields", ">i2"), ("i_len", ">i4"), ("i", ">i4"), ("geom_len", ">i4"),
    ("byte_order", "u1"), ("wkb_type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8"),
])
_HIT = np.dtype([("fields", ">i2"), ("i_len", ">i4"), ("i", ">i4"), ("id_len", ">i4"), ("id", ">i4")])
_EWKB_POINT_WITH_SRID = 0x20000001


def route_points(session: Session, lons: ArrayLike, lats: ArrayLike) -> list[str | None]:
    """The code of the grid answering for each WGS84 point (None outside every grid), in input order.

    Runs in the session's transaction; the staging table is dropped at commit."""
    x, y = _checked(lons, lats)
    if len(x) == 0:
        return []
    _stage(session, x, y)
    point, grid_id = _hits(session)
    codes = np.full(len(x), None, dtype=object)
    codes[point] = _codes_by_id(session, grid_id)[grid_id]
    return codes.tolist()


def explain_route_points(session: Session) -> list[str]:
    """EXPLAIN (ANALYZE, COSTS OFF) of the routing join over the points staged by the last call in this
    transaction, with the same settings (for benchmarks and tests: shows which plan ran)."""
    connection = session.connection().connection.driver_connection
    with connection.cursor(row_factory=dict_row) as cursor, _join_settings(cursor):
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {_route_points_sql()}")
        return [line["QUERY PLAN"] for line in cursor.fetchall()]


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


def _morton_order(x: NDArray, y: NDArray, bits: int = 16) -> NDArray[np.intp]:
    """Indices that sort the points along a Z-order curve over their own extent."""

    def scaled(v: NDArray) -> NDArray[np.uint64]:
        low, span = v.min(), np.ptp(v)
        return ((v - low) / (span or 1.0) * ((1 << bits) - 1)).astype(np.uint64)

    def spread(v: NDArray[np.uint64]) -> NDArray[np.uint64]:  # 16 bits → every other of 32
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    return np.argsort(spread(scaled(x)) | (spread(scaled(y)) << np.uint64(1)))


def _copy_payload(x: NDArray, y: NDArray) -> bytes:
    """The points, Morton-ordered, as one binary COPY stream of (i integer, geom geometry) rows."""
    order = _morton_order(x, y)
    rows = np.empty(len(x), dtype=_ROW)
    rows["fields"], rows["i_len"], rows["geom_len"] = 2, 4, 25
    rows["i"] = order
    rows["byte_order"], rows["wkb_type"], rows["srid"] = 1, _EWKB_POINT_WITH_SRID, SRID
    rows["x"], rows["y"] = x[order], y[order]
    return _COPY_SIGNATURE + struct.pack(">ii", 0, 0) + rows.tobytes() + struct.pack(">h", -1)


def _stage(session: Session, x: NDArray, y: NDArray) -> None:
    """TEMP table of the points (dropped at commit) with a GiST index and fresh statistics."""
    connection = session.connection().connection.driver_connection
    payload = memoryview(_copy_payload(x, y))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMP TABLE {STAGE} (i integer, geom geometry(Point, {SRID})) ON COMMIT DROP")
        with cursor.copy(f"COPY {STAGE} (i, geom) FROM STDIN WITH (FORMAT binary)") as copy:
            step = 8 << 20
            for start in range(0, len(payload), step):
                copy.write(payload[start : start + step])
        cursor.execute(f"CREATE INDEX ON {STAGE} USING gist (geom)")
        cursor.execute(f"ANALYZE {STAGE}")


@contextmanager
def _join_settings(cursor: psycopg.Cursor[Any]) -> Iterator[None]:
    """For the join only: work_mem enough to keep the sort behind DISTINCT ON (every hit, ~90 bytes each)
    in memory for a million points; the caller's value is back afterwards."""
    with cursor.connection.cursor(row_factory=dict_row) as settings:
        before = settings.execute("SELECT current_setting('work_mem') AS work_mem, "
                                  "set_config('work_mem', %s, true)", (JOIN_WORK_MEM,)).fetchone()
    try:
        yield
    finally:
        if cursor.connection.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
            cursor.execute("SELECT set_config('work_mem', %s, true)", (before["work_mem"] if before else "4MB",))


def _hits(session: Session) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """(point index, grid id) for every point some current grid covers, one pair per point."""
    connection = session.connection().connection.driver_connection
    buffer = bytearray()
    with connection.cursor() as cursor, _join_settings(cursor), cursor.copy(
        f"COPY ({_route_points_sql()}) TO STDOUT WITH (FORMAT binary)"
    ) as copy:
        for chunk in copy:
            buffer += chunk
    start = len(_COPY_SIGNATURE) + 8 + struct.unpack_from(">i", buffer, len(_COPY_SIGNATURE) + 4)[0]
    rows = np.frombuffer(buffer, dtype=_HIT, count=(len(buffer) - start - 2) // _HIT.itemsize, offset=start)
    if not ((rows["fields"] == 2) & (rows["i_len"] == 4) & (rows["id_len"] == 4)).all():
        raise RuntimeError("unexpected binary COPY layout from the routing query")
    return rows["i"].astype(np.int32), rows["id"].astype(np.int32)


def _codes_by_id(session: Session, grid_id: NDArray[np.int32]) -> NDArray[np.object_]:
    """A lookup array: the code of each grid version in `grid_id`, at its id (a version keeps its code)."""
    ids = np.unique(grid_id).tolist()
    table = np.full(ids[-1] + 1 if ids else 0, None, dtype=object)
    rows = session.execute(text("SELECT id, code FROM grid WHERE id = ANY(:ids)"), {"ids": ids}).mappings()
    for row in rows:
        table[row["id"]] = row["code"]
    return table
