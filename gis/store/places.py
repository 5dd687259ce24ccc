"""Read queries for grids and buildings, returning GeoJSON-ready dicts built by PostGIS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.periods import district_today

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Page:
    """One page of features and the total that matched."""

    features: list[dict[str, Any]]
    matched: int


def _feature(geometry: str, properties: dict[str, Any], feature_id: str | None = None) -> dict[str, Any]:
    feature: dict[str, Any] = {"type": "Feature", "geometry": json.loads(geometry), "properties": properties}
    if feature_id is not None:
        feature["id"] = feature_id
    return feature


_BBOX_FILTER = "geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"


def _bbox_params(bbox: BBox | None) -> dict[str, float]:
    if bbox is None:
        return {}
    return dict(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))


def list_grids(session: Session, *, bbox: BBox | None, limit: int, offset: int) -> Page:
    """Current grids (ordered by code) with their community and street, optionally within a bbox."""
    where = "g.valid_to IS NULL" + (f" AND g.{_BBOX_FILTER}" if bbox else "")
    params = {**_bbox_params(bbox), "limit": limit, "offset": offset}
    matched = session.execute(text(f"SELECT count(*) FROM grid AS g WHERE {where}"), params).scalar_one()
    rows = session.execute(text(
        "SELECT g.code, g.name, c.code, c.name, s.code, s.name, g.valid_from, "
        "ST_AsGeoJSON(g.geom, 7) FROM grid AS g JOIN community AS c ON c.id = g.community_id "
        f"JOIN street AS s ON s.code = g.street_code WHERE {where} ORDER BY g.code LIMIT :limit OFFSET :offset"
    ), params).all()
    features = [
        _feature(r[7], {"code": r[0], "name": r[1], "community_code": r[2], "community_name": r[3],
                        "street_code": r[4], "street_name": r[5], "valid_from": r[6].isoformat()}, r[0])
        for r in rows
    ]
    return Page(features, matched)


def grid_detail(session: Session, code: str, *, on: date | None = None) -> dict[str, Any]:
    """One grid (current, or as it was on a date) with branch, team and counts; NotFound if unknown."""
    on = on or district_today()
    row = session.execute(text(
        "SELECT g.id, g.code, g.name, c.code, c.name, s.code, s.name, g.valid_from, g.valid_to, "
        "ST_AsGeoJSON(g.geom, 7), ST_Area(g.geom::geography) FROM grid AS g "
        "JOIN community AS c ON c.id = g.community_id JOIN street AS s ON s.code = g.street_code "
        "WHERE g.code = :code AND g.valid_from <= :on AND (g.valid_to IS NULL OR g.valid_to > :on) "
        "ORDER BY g.valid_from DESC LIMIT 1"
    ), {"code": code, "on": on}).first()
    if row is None:
        raise NotFound(f"unknown grid {code!r}" + ("" if on == district_today() else f" on {on.isoformat()}"))
    grid_id = row[0]
    counts = session.execute(text(
        "SELECT count(*), COALESCE(sum(households), 0), COALESCE(sum(residents), 0) FROM building "
        "WHERE grid_id = :grid_id"
    ), {"grid_id": grid_id}).one()
    branch = session.execute(text(
        "SELECT name, secretary, member_count FROM party_org WHERE level = 'grid_branch' "
        "AND place_code = :code AND valid_to IS NULL"
    ), {"code": code}).first()
    team = _team(session, code, on)
    properties = {
        "code": row[1], "name": row[2], "community_code": row[3], "community_name": row[4],
        "street_code": row[5], "street_name": row[6], "valid_from": row[7].isoformat(),
        "valid_to": row[8].isoformat() if row[8] else None, "area_m2": round(row[10], 1),
        "branch": {"name": branch[0], "secretary": branch[1], "member_count": branch[2]} if branch else None,
        "team": team,
        "counts": {"buildings": counts[0], "households": int(counts[1]), "residents": int(counts[2])},
    }
    return _feature(row[9], properties, row[1])


def _team(session: Session, code: str, on: date) -> dict[str, Any] | None:
    team = session.execute(text(
        "SELECT id, name FROM service_team WHERE grid_code = :code AND valid_from <= :on "
        "AND (valid_to IS NULL OR valid_to > :on) ORDER BY valid_from DESC LIMIT 1"
    ), {"code": code, "on": on}).first()
    if team is None:
        return None
    members = session.execute(text(
        "SELECT p.name, m.role, m.from_date FROM team_membership AS m JOIN person AS p ON p.id = m.person_id "
        "WHERE m.team_id = :team AND m.from_date <= :on AND (m.to_date IS NULL OR m.to_date >= :on) "
        "ORDER BY m.role, p.name"
    ), {"team": team[0], "on": on}).all()
    leader = next((m[0] for m in members if m[1] == "leader"), None)
    return {
        "name": team[1],
        "leader": leader,
        "members": [{"name": m[0], "role": m[1], "since": m[2].isoformat()} for m in members],
        "grid_workers": sum(1 for m in members if m[1] == "grid_worker"),
    }


def list_buildings(
    session: Session, *, bbox: BBox | None = None, grid_code: str | None = None, outside: bool = False,
    limit: int, offset: int,
) -> Page:
    """Buildings by bbox, by grid (current version) or outside every grid."""
    clauses = []
    params: dict[str, Any] = {**_bbox_params(bbox), "limit": limit, "offset": offset}
    if bbox:
        clauses.append(f"b.{_BBOX_FILTER}")
    if grid_code:
        grid_id = session.execute(
            text("SELECT id FROM grid WHERE code = :code AND valid_to IS NULL"), {"code": grid_code}
        ).scalar_one_or_none()
        if grid_id is None:
            raise NotFound(f"unknown grid {grid_code!r}")
        clauses.append("b.grid_id = :grid_id")
        params["grid_id"] = grid_id
    if outside:
        clauses.append("b.grid_id IS NULL")
    where = " AND ".join(clauses) or "TRUE"
    matched = session.execute(text(f"SELECT count(*) FROM building AS b WHERE {where}"), params).scalar_one()
    rows = session.execute(text(
        "SELECT b.code, b.address, b.households, b.residents, b.floors, g.code, ST_AsGeoJSON(b.geom, 7) "
        f"FROM building AS b LEFT JOIN grid AS g ON g.id = b.grid_id WHERE {where} "
        "ORDER BY b.code LIMIT :limit OFFSET :offset"
    ), params).all()
    features = [
        _feature(r[6], {"code": r[0], "address": r[1], "households": r[2], "residents": r[3], "floors": r[4],
                        "grid_code": r[5]}, r[0])
        for r in rows
    ]
    return Page(features, matched)
