"""Export grids to GeoPackage, and list buildings outside every grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.store.vocabulary import current_day, current_sql


def export_grids(session: Session, path: Path) -> int:
    """Write current grids with their community, street, branch and team to a GeoPackage layer `grids`."""
    rows = session.execute(text(
        "SELECT DISTINCT ON (g.code) g.code, g.name, c.code AS community_code, c.name AS community_name, "
        "g.street_code, g.valid_from::text AS valid_from, b.name AS branch_name, t.name AS team_name, "
        "ST_AsBinary(g.geom) AS wkb FROM grid AS g JOIN community AS c ON c.id = g.community_id "
        f"LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code AND {current_sql('b')} "
        f"LEFT JOIN service_team AS t ON t.grid_code = g.code AND {current_sql('t')} "
        f"WHERE {current_sql('g')} ORDER BY g.code, b.valid_from DESC, t.valid_from DESC"
    ), {"on": current_day()}).mappings().all()
    columns = ["code", "name", "community_code", "community_name", "street_code", "valid_from",
               "branch_name", "team_name"]
    frame = gpd.GeoDataFrame(
        [{key: r[key] for key in columns} for r in rows] or None,
        columns=columns,
        geometry=shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows else [],
        crs="EPSG:4326",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_file(path, layer="grids", driver="GPKG", engine="pyogrio")
    return len(frame)


def buildings_outside_grids(session: Session) -> list[dict[str, Any]]:
    """Buildings no current grid covers: kept, never dropped, and listed for the district to act on."""
    rows = session.execute(text(
        "SELECT code, address, street_code, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM building "
        "WHERE grid_id IS NULL ORDER BY code"
    )).mappings().all()
    return [dict(r) for r in rows]
