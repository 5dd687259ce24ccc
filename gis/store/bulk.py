"""Fast bulk writes: COPY a frame into a temporary staging table (CSV through psycopg)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
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
