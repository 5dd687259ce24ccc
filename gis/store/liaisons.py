"""Liaisons (联络员) in the database: assigning a cadre to grids or communities, ending an assignment, the
assignments a person may see, the liaisons of grids on a day and the grids without one.

The rules are gis/liaisons.py (valid assignments, which cover a grid on a day, gaps) and gis/permissions.py
(`check_assign_liaison`); the queries here load the assignments active on the day (`serving_sql`, the team
membership's rule) and hand them to those rules, so "covered" is decided in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.errors import InvalidInput, NotFound
from gis.liaisons import Assignment, LiaisonScope, check_assignment, liaisons_of, uncovered
from gis.periods import check_day
from gis.permissions import Actor, AreaLevel, area_of, check_assign_liaison
from gis.store.area import area_sql
from gis.store.models import Liaison, LiaisonArea
from gis.store.vocabulary import current_day, current_sql, serving_sql

__all__ = ["LiaisonInput", "assign", "end_assignment", "gaps", "grid_liaison", "liaisons_for_grids", "list_assignments"]


@dataclass(frozen=True)
class LiaisonInput:
    scope: str
    codes: tuple[str, ...]
    from_date: date
    to_date: date | None = None
    person_id: int | None = None
    user_id: int | None = None
    note: str = ""


# -- writing ----------------------------------------------------------------------------------------


def assign(session: Session, data: LiaisonInput, actor: Actor) -> int:
    """Store an assignment; returns its id. Admins and the command centre anywhere, a street officer in
    their street (every code)."""
    scope = check_assignment(data.scope, data.codes, data.from_date, data.to_date)
    check_assign_liaison(actor, data.codes)
    for name, day in (("from_date", data.from_date), ("to_date", data.to_date)):
        if day is not None:
            check_day(name, day)
    _check_who(session, data.person_id, data.user_id)
    _check_places(session, scope, data.codes)
    district = data.codes[0][:6]
    liaison_id = session.execute(pg_insert(Liaison.__table__).values(
        person_id=data.person_id, user_id=data.user_id, scope=scope.value, from_date=data.from_date,
        to_date=data.to_date, note=data.note, created_by=actor.username, district_code=district,
    ).returning(Liaison.__table__.c.id)).scalar_one()
    session.execute(pg_insert(LiaisonArea.__table__),
                    [{"liaison_id": liaison_id, "code": code, "district_code": district} for code in data.codes])
    return liaison_id


def end_assignment(session: Session, liaison_id: int, last_day: date, actor: Actor) -> None:
    """Set an assignment's last day (the assigners of all its places only)."""
    check_day("to_date", last_day)
    row = session.execute(text("SELECT id, from_date, district_code FROM liaison WHERE id = :id"),
                          {"id": liaison_id}).mappings().first()
    if row is None:
        raise NotFound(f"no liaison assignment {liaison_id}")
    codes = session.execute(text("SELECT code FROM liaison_area WHERE liaison_id = :id ORDER BY code"),
                            {"id": liaison_id}).scalars().all()
    check_assign_liaison(actor, codes)
    if last_day < row["from_date"]:
        raise InvalidInput(f"to_date {last_day.isoformat()} is before the assignment's from_date "
                           f"{row['from_date'].isoformat()}", details={"field": "to_date"})
    session.execute(text("UPDATE liaison SET to_date = :last WHERE id = :id AND district_code = :d"),
                    {"last": last_day, "id": liaison_id, "d": row["district_code"]})


def _check_who(session: Session, person_id: int | None, user_id: int | None) -> None:
    if person_id is None and user_id is None:
        raise InvalidInput("a liaison names a cadre: give person_id or user_id", details={"field": "person_id"})
    for column, table, value in (("person_id", "person", person_id), ("user_id", "app_user", user_id)):
        if value is not None and session.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"),
                                                 {"id": value}).first() is None:
            raise InvalidInput(f"{column} {value} is unknown", details={"field": column})


def _check_places(session: Session, scope: LiaisonScope, codes: Iterable[str]) -> None:
    table = "grid" if scope is LiaisonScope.grid else "community"
    known = set(session.execute(text(f"SELECT DISTINCT code FROM {table} WHERE code = ANY(:codes)"),
                                {"codes": list(codes)}).scalars())
    unknown = sorted(set(codes) - known)
    if unknown:
        raise InvalidInput(f"{scope.value} {unknown[0]} is unknown", details={"field": "codes"})


# -- reading ----------------------------------------------------------------------------------------

_ASSIGNMENTS_SQL = """
SELECT l.id, l.scope, l.from_date, l.to_date, l.note, l.created_by, l.person_id, l.user_id,
       coalesce(p.name, up.name, u.display_name) AS name, coalesce(p.phone, up.phone) AS phone,
       array_agg(a.code ORDER BY a.code) AS codes
FROM liaison AS l
JOIN liaison_area AS a ON a.liaison_id = l.id AND a.district_code = l.district_code
LEFT JOIN person AS p ON p.id = l.person_id
LEFT JOIN app_user AS u ON u.id = l.user_id
LEFT JOIN person AS up ON up.id = u.person_id
WHERE {serving} AND l.id IN (SELECT s.liaison_id FROM liaison_area AS s WHERE {areas})
GROUP BY l.id, l.district_code, p.name, p.phone, up.name, up.phone, u.display_name
ORDER BY l.id
"""


def _rows(session: Session, areas: str, params: dict[str, Any], day: date) -> list[dict[str, Any]]:
    sql = _ASSIGNMENTS_SQL.format(serving=serving_sql("l"), areas=areas)
    return [dict(r) for r in session.execute(text(sql), {**params, "on": day}).mappings()]


def _assignment(row: dict[str, Any]) -> Assignment:
    return Assignment(row["id"], LiaisonScope(row["scope"]), frozenset(row["codes"]), row["from_date"],
                      row["to_date"], row["name"] or "")


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "scope": row["scope"], "codes": list(row["codes"]), "name": row["name"],
            "phone": row["phone"], "person_id": row["person_id"], "user_id": row["user_id"],
            "from_date": row["from_date"].isoformat(),
            "to_date": row["to_date"].isoformat() if row["to_date"] else None,
            "note": row["note"], "created_by": row["created_by"]}


def _visible_areas(actor: Actor) -> tuple[str, dict[str, Any]]:
    """Assignment places inside the actor's area (a grid worker also sees their grids' communities')."""
    area = area_of(actor)
    condition, params = area_sql(area, grid="s.code")
    if area.level is AreaLevel.grid:
        condition = f"({condition} OR s.code = ANY(:area_communities))"
        params["area_communities"] = sorted({code[:12] for code in area.codes})
    return condition, params


def list_assignments(session: Session, actor: Actor, day: date | None = None) -> list[dict[str, Any]]:
    """The assignments active on the day (default today) with a place in the actor's area."""
    areas, params = _visible_areas(actor)
    return [_item(row) for row in _rows(session, areas, params, day or current_day())]


def liaisons_for_grids(session: Session, grid_codes: Iterable[str], day: date | None = None
                       ) -> dict[str, list[dict[str, Any]]]:
    """Each grid's liaisons on the day (`gis.liaisons.liaisons_of`: the grid's own first); a grid with none
    maps to an empty list."""
    codes = sorted(set(grid_codes))
    if not codes:
        return {}
    rows = _rows(session, "s.code = ANY(:codes)", {"codes": codes + sorted({c[:12] for c in codes})},
                 day or current_day())
    by_id = {row["id"]: row for row in rows}
    assignments = [_assignment(row) for row in rows]
    return {code: [_item(by_id[a.id]) for a in liaisons_of(assignments, code, day or current_day())]
            for code in codes}


def gaps(session: Session, actor: Actor, day: date | None = None) -> list[dict[str, Any]]:
    """The grids current on the day, in the actor's area, that no liaison covers (a coverage gap)."""
    on = day or current_day()
    condition, params = area_sql(area_of(actor), grid="g.code", community="c.code", street="g.street_code")
    grids = session.execute(text(
        "SELECT g.code, g.name, c.code AS community_code, c.name AS community_name, g.street_code "
        "FROM grid AS g JOIN community AS c ON c.id = g.community_id "
        f"WHERE {current_sql('g')} AND {condition} ORDER BY g.code"), {**params, "on": on}).mappings().all()
    if not grids:
        return []
    codes = [g["code"] for g in grids]
    rows = _rows(session, "s.code = ANY(:codes)", {"codes": codes + sorted({c[:12] for c in codes})}, on)
    missing = set(uncovered(codes, [_assignment(row) for row in rows], on))
    return [dict(g) for g in grids if g["code"] in missing]


def grid_liaison(session: Session, grid_code: str, day: date | None = None) -> dict[str, Any]:
    """The liaison part of a grid's card: its liaisons on the day and the gap flag."""
    found = liaisons_for_grids(session, [grid_code], day)[grid_code]
    return {"liaisons": found, "no_liaison": not found}

