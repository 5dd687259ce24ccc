"""Fast bulk writes: COPY a frame into a temporary staging table (CSV through psycopg), and the bulk paths
of big imports (numpy-made EWKB, pyarrow-written CSV, a write without row-by-row index upkeep)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyarrow import csv
from sqlalchemy import text
from sqlalchemy.orm import Session

SRID = 4326


def ewkb_hex(geometries: Sequence[shapely.Geometry] | np.ndarray) -> np.ndarray:
    """Hex EWKB with SRID 4326: the text form PostGIS parses fastest on COPY."""
    array = shapely.set_srid(np.asarray(geometries, dtype=object), SRID)
    return shapely.to_wkb(array, hex=True, include_srid=True)


def copy_frame(session: Session, table: str, columns_sql: str, frame: pd.DataFrame) -> int:
    """Create TEMP `table` (dropped at commit) with `columns_sql` and COPY `frame` into it, in column order."""
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE {table} ({columns_sql}) ON COMMIT DROP")
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False, na_rep="")
        with cursor.copy(f"COPY {table} FROM STDIN WITH (FORMAT csv)") as copy:
            view = buffer.getvalue()
            step = 8 << 20
            for start in range(0, len(view), step):
                copy.write(view[start : start + step])
    return len(frame)


# -- the bulk paths of big imports ---------------------------------------------------------------

_POINT_EWKB = np.dtype([("byte_order", "u1"), ("wkb_type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])
_EWKB_POINT_WITH_SRID = 0x20000001


def points_ewkb_hex(geometries: np.ndarray) -> pa.Array:
    """`ewkb_hex` as an Arrow text array, for `copy_columns`; for 2-D Points made with numpy straight into
    Arrow's buffers (a million in a fraction of a second, against seconds through shapely and Python str)."""
    array = np.asarray(geometries, dtype=object)
    if len(array) == 0 or not (shapely.get_type_id(array) == 0).all() or shapely.has_z(array).any() \
            or shapely.is_empty(array).any():
        return pa.array(ewkb_hex(array), type=pa.string())
    rows = np.empty(len(array), dtype=_POINT_EWKB)
    rows["byte_order"], rows["wkb_type"], rows["srid"] = 1, _EWKB_POINT_WITH_SRID, SRID
    rows["x"], rows["y"] = shapely.get_x(array), shapely.get_y(array)
    digits = rows.tobytes().hex().upper().encode("ascii")
    width = 2 * _POINT_EWKB.itemsize
    offsets = np.arange(0, width * (len(array) + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(len(array), pa.py_buffer(offsets), pa.py_buffer(digits))


def copy_columns(session: Session, table: str, columns_sql: str, columns: dict[str, Any]) -> int:
    """`copy_frame` for big stages: the columns (arrays of one length, in `columns_sql` order) written as CSV
    by pyarrow into TEMP `table` (dropped at commit), with blank text sent as NULL as `copy_frame` sends it."""
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE {table} ({columns_sql}) ON COMMIT DROP")
    return copy_into(session, table, columns, blank_as_null=True)


def copy_into(session: Session, table: str, columns: dict[str, Any], *, blank_as_null: bool = False) -> int:
    """COPY the columns (arrays of one length: numpy, pandas or Arrow), named as the table's, into `table`
    as CSV written by pyarrow; blank text stays blank unless `blank_as_null`."""
    arrays = {}
    for name, values in columns.items():
        array = values if isinstance(values, pa.Array) else pa.array(values, from_pandas=True)
        if blank_as_null and (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            array = pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array)
        arrays[name] = array
    if not arrays:
        return 0
    buffer = io.BytesIO()
    csv.write_csv(pa.table(arrays), buffer, csv.WriteOptions(include_header=False, quoting_style="needed"))
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor, \
            cursor.copy(f"COPY {table} ({', '.join(arrays)}) FROM STDIN WITH (FORMAT csv)") as copy:
        view = buffer.getbuffer()
        step = 8 << 20
        for start in range(0, len(view), step):
            copy.write(view[start : start + step])
        del view
    return len(next(iter(arrays.values())))


@contextmanager
def without_indexes(session: Session, table: str) -> Iterator[None]:
    """For a write of most of `table`: its foreign keys and its indexes other than those of constraints are
    dropped, and made again after the write — a sorted index build and one join checking each foreign key
    beat a million row-by-row updates and look-ups. Inside the caller's transaction, so a failure (a
    reference that does not hold, a duplicate under a unique index) rolls back the write and the drops
    alike; the table is locked (ACCESS EXCLUSIVE) until the transaction ends, and the tables it refers to
    against writes."""
    indexes = session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes AS i WHERE schemaname = current_schema() "
        "AND tablename = :table AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c "
        "WHERE c.conrelid = CAST(:table AS regclass) AND c.conname = i.indexname) ORDER BY indexname"
    ), {"table": table}).mappings().all()
    foreign = session.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = CAST(:table AS regclass) AND contype = 'f' ORDER BY conname"
    ), {"table": table}).mappings().all()
    for row in foreign:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{row["conname"]}"'))
    for row in indexes:
        session.execute(text(f'DROP INDEX "{row["indexname"]}"'))
    yield
    for row in indexes:
        session.execute(text(row["indexdef"]))
    for row in foreign:
        session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{row["conname"]}" {row["definition"]}'))
