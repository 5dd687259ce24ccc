"""Per current grid, the part of a layer feature that does not depend on the measure: the geometry
(ST_SimplifyPreserveTopology at `SIMPLIFY_DEGREES`, GeoJSON with `PRECISION` decimals) and the fixed
properties (names, branch, team, leader, grid workers), as ready-made JSON text. Cached by (places and org
version, local date): they change with imports, not with cases, so a request after a new case only
computes measures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.store.data_version import DataVersion
from gis.store.layer_cache import LayerCache
from gis.store.vocabulary import current_sql, serving_sql

__all__ = ["PRECISION", "SIMPLIFY_DEGREES", "Frame", "frames"]

SIMPLIFY_DEGREES = 1e-5
"""Display simplification of the layer's polygons (about 1 m; a screen pixel at zoom 17)."""
PRECISION = 6
"""Decimals of the layer's coordinates (about 0.1 m)."""

_GRIDS_ON = current_sql("g")
_MEMBER_ON = serving_sql("m", ":on")

_FRAMES_SQL = f"""
WITH members AS (
    SELECT m.team_id, min(p.name) FILTER (WHERE m.role = 'leader') AS leader,
           count(DISTINCT m.person_id) FILTER (WHERE m.role = 'grid_worker') AS grid_workers
    FROM team_membership AS m JOIN person AS p ON p.id = m.person_id
    WHERE {_MEMBER_ON}
    GROUP BY m.team_id
)
SELECT DISTINCT ON (g.code) g.code, g.name, c.code AS community_code, c.name AS community_name,
       s.code AS street_code, s.name AS street_name, b.name AS branch, t.name AS team,
       w.leader, coalesce(w.grid_workers, 0) AS grid_workers
FROM grid AS g
JOIN community AS c ON c.id = g.community_id
JOIN street AS s ON s.code = g.street_code
LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code AND {current_sql("b")}
LEFT JOIN service_team AS t ON t.grid_code = g.code AND {current_sql("t")}
LEFT JOIN members AS w ON w.team_id = t.id
WHERE {_GRIDS_ON}
ORDER BY g.code, g.valid_from DESC, b.valid_from DESC, t.valid_from DESC
"""

_GEOMETRY_SQL = f"""
SELECT DISTINCT ON (g.code) g.code,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(g.geom, :tolerance), {PRECISION}) AS geometry
FROM grid AS g WHERE {_GRIDS_ON} ORDER BY g.code, g.valid_from DESC
"""


@dataclass(frozen=True)
class Frame:
    """One grid: `head` is its feature's JSON text up to and including the fixed properties."""

    code: str
    name: str
    street_name: str
    head: str


def frames(session: Session, cache: LayerCache, version: DataVersion, on: date,
            geometry: bool = True) -> list[Frame]:
    store = cache.frames
    props = store.get(("props", version.places, version.org, on), lambda: _props(session, on))
    if not geometry:
        return store.get(("bare", version.places, version.org, on), lambda: _join(props, None))
    shapes = store.get(("shapes", version.places, on), lambda: _shapes(session, on))
    return store.get(("frames", version.places, version.org, on), lambda: _join(props, shapes))


def _props(session: Session, on: date) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(text(_FRAMES_SQL), {"on": on}).mappings()]


def _shapes(session: Session, on: date) -> dict[str, str]:
    rows = session.execute(text(_GEOMETRY_SQL), {"on": on, "tolerance": SIMPLIFY_DEGREES}).mappings()
    return {r["code"]: r["geometry"] for r in rows}


def _join(props: list[dict[str, Any]], shapes: dict[str, str] | None) -> list[Frame]:
    built = []
    for row in props:
        code = json.dumps(row["code"])
        fixed = json.dumps({**row, "grid_workers": int(row["grid_workers"] or 0)}, ensure_ascii=False,
                           separators=(",", ":"))[:-1]
        geometry = "null" if shapes is None else shapes.get(row["code"], "null")
        head = f'{{"type":"Feature","id":{code},"geometry":{geometry},"properties":{fixed}'
        built.append(Frame(row["code"], row["name"], row["street_name"], head))
    return built
