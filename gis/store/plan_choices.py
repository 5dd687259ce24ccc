"""What the planner's editor offers to choose from: the communities a plan may redraw, one community's
outline (drawn on the map, and snapped to), and the area's current service teams and party branches
(a grid's team and branch are picked by name in the side panel)."""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.store.vocabulary import current_day, current_sql


def communities(session: Session) -> list[dict[str, Any]]:
    """Every community with its street's name and how many current grids it has, by code."""
    rows = session.execute(text(
        f"SELECT c.code, c.name, s.name AS street, (SELECT count(*) FROM grid AS g WHERE g.community_id = c.id "
        f"AND {current_sql('g')}) AS grids FROM community AS c LEFT JOIN street AS s ON s.code = c.street_code "
        "ORDER BY c.code"), {"on": current_day()}).mappings()
    return [dict(r) for r in rows]


def area(session: Session, area_code: str) -> dict[str, Any]:
    """The community's outline (GeoJSON), name, and its current teams and branches."""
    row = session.execute(text("SELECT code, name, ST_AsBinary(geom) AS wkb FROM community WHERE code = :code"),
                          {"code": area_code}).mappings().first()
    if row is None:
        raise NotFound(f"unknown community {area_code}")
    params = {"area": area_code, "n": len(area_code), "on": current_day()}
    teams = session.execute(text(
        f"SELECT t.id, t.name, t.grid_code FROM service_team AS t WHERE left(t.grid_code, :n) = :area "
        f"AND {current_sql('t')} ORDER BY t.grid_code, t.id"), params).mappings()
    branches = session.execute(text(
        f"SELECT b.id, b.name, b.place_code AS grid_code FROM party_org AS b WHERE b.level = 'grid_branch' "
        f"AND left(b.place_code, :n) = :area AND {current_sql('b')} ORDER BY b.place_code, b.id"), params).mappings()
    outline = None if row["wkb"] is None else shapely.geometry.mapping(shapely.from_wkb(bytes(row["wkb"])))
    return {"code": row["code"], "name": row["name"], "outline": outline,
            "teams": [dict(t) for t in teams], "branches": [dict(b) for b in branches]}
