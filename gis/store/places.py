"""Read queries for grids and buildings, returning GeoJSON-ready dicts built by PostGIS."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.permissions import NOTICE_BOARD_ROLES
from gis.store.vocabulary import current_day, current_sql, serving_sql

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


def list_grids(session: Session, *, bbox: BBox | None, limit: int, offset: int, on: date | None = None) -> Page:
    """The grids current on `on` (default today), ordered by code, with their community and street,
    optionally within a bbox."""
    where = current_sql("g") + (f" AND g.{_BBOX_FILTER}" if bbox else "")
    params = {**_bbox_params(bbox), "limit": limit, "offset": offset, "on": on or current_day()}
    matched = session.execute(text(f"SELECT count(*) FROM grid AS g WHERE {where}"), params).scalar_one()
    rows = session.execute(text(
        "SELECT g.code, g.name, c.code AS community_code, c.name AS community_name, s.code AS street_code, "
        "s.name AS street_name, g.valid_from, g.valid_to, ST_AsGeoJSON(g.geom, 7) AS geojson "
        "FROM grid AS g JOIN community AS c ON c.id = g.community_id "
        f"JOIN street AS s ON s.code = g.street_code WHERE {where} ORDER BY g.code LIMIT :limit OFFSET :offset"
    ), params).mappings().all()
    features = [
        _feature(r["geojson"], {**{k: r[k] for k in ("code", "name", "community_code", "community_name",
                                                       "street_code", "street_name")},
                                "valid_from": r["valid_from"].isoformat(),
                                "valid_to": r["valid_to"].isoformat() if r["valid_to"] else None}, r["code"])
        for r in rows
    ]
    return Page(features, matched)


def grid_detail(session: Session, code: str, *, on: date | None = None,
                private_members: bool = False) -> dict[str, Any]:
    """One grid (current, or as it was on a date) with branch, team and counts; NotFound if unknown.

    The team as a notice board shows it: its leader and grid workers with their phones
    (`gis.permissions.NOTICE_BOARD_ROLES`); the private residents who serve (party-member central households,
    volunteers, caring residents) are listed only with `private_members` (the caller may see them:
    `gis.permissions.sees_team_members`), and otherwise only counted (`team.private_members`)."""
    on = on or current_day()
    row = session.execute(text(
        "SELECT g.id, g.code, g.name, c.code AS community_code, c.name AS community_name, "
        "s.code AS street_code, s.name AS street_name, g.valid_from, g.valid_to, "
        "ST_AsGeoJSON(g.geom, 7) AS geojson, ST_Area(g.geom::geography) AS area_m2 FROM grid AS g "
        "JOIN community AS c ON c.id = g.community_id JOIN street AS s ON s.code = g.street_code "
        f"WHERE g.code = :code AND {current_sql('g')} ORDER BY g.valid_from DESC LIMIT 1"
    ), {"code": code, "on": on}).mappings().first()
    if row is None:
        raise NotFound(f"unknown grid {code!r}" + ("" if on == current_day() else f" on {on.isoformat()}"))
    counts = session.execute(text(
        "SELECT count(*) AS buildings, COALESCE(sum(households), 0) AS households, "
        "COALESCE(sum(residents), 0) AS residents FROM building WHERE grid_id = :grid_id"
    ), {"grid_id": row["id"]}).mappings().one()
    branch = session.execute(text(
        "SELECT name, secretary, member_count FROM party_org AS b WHERE level = 'grid_branch' "
        f"AND place_code = :code AND {current_sql('b')} ORDER BY valid_from DESC LIMIT 1"
    ), {"code": code, "on": on}).mappings().first()
    properties = {
        **{k: row[k] for k in ("code", "name", "community_code", "community_name", "street_code", "street_name")},
        "valid_from": row["valid_from"].isoformat(),
        "valid_to": row["valid_to"].isoformat() if row["valid_to"] else None, "area_m2": round(row["area_m2"], 1),
        "branch": dict(branch) if branch else None,
        "team": _team(session, code, on, private_members),
        "counts": {key: int(value) for key, value in counts.items()},
    }
    return _feature(row["geojson"], properties, row["code"])


def _team(session: Session, code: str, on: date, private_members: bool) -> dict[str, Any] | None:
    team = session.execute(text(
        f"SELECT id, name FROM service_team AS t WHERE grid_code = :code AND {current_sql('t')} "
        "ORDER BY valid_from DESC LIMIT 1"
    ), {"code": code, "on": on}).mappings().first()
    if team is None:
        return None
    members = session.execute(text(
        "SELECT p.id, p.name, p.phone, m.role, m.from_date "
        "FROM team_membership AS m JOIN person AS p ON p.id = m.person_id "
        f"WHERE m.team_id = :team AND {serving_sql('m', ':on')} "
        "ORDER BY m.role, p.name"
    ), {"team": team["id"], "on": on}).mappings().all()
    leader = next((m["name"] for m in members if m["role"] == "leader"), None)
    public = [m for m in members if m["role"] in NOTICE_BOARD_ROLES]
    private = [m for m in members if m["role"] not in NOTICE_BOARD_ROLES]
    return {
        "name": team["name"],
        "leader": leader,
        "members": [{"name": m["name"], "role": m["role"], "since": m["from_date"].isoformat(), "phone": m["phone"]}
                    for m in public]
                   + ([{"name": m["name"], "role": m["role"], "since": m["from_date"].isoformat(), "person_id": m["id"]}
                       for m in private] if private_members else []),
        "grid_workers": sum(1 for m in members if m["role"] == "grid_worker"),
        "private_members": len(private),
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
            text(f"SELECT id FROM grid AS g WHERE code = :code AND {current_sql('g')}"),
            {"code": grid_code, "on": current_day()},
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
        "SELECT b.code, b.address, b.households, b.residents, b.floors, g.code AS grid_code, "
        f"ST_AsGeoJSON(b.geom, 7) AS geojson FROM building AS b LEFT JOIN grid AS g ON g.id = b.grid_id "
        f"WHERE {where} ORDER BY b.code LIMIT :limit OFFSET :offset"
    ), params).mappings().all()
    features = [_feature(r["geojson"], {k: v for k, v in r.items() if k != "geojson"}, r["code"]) for r in rows]
    return Page(features, matched)
