"""Long-standing problems (老大难) in the database: add, change, list (overdue reviews first), with their
linked cases. The rules are `gis.repeats` (`check_long_problem`, `review_order`); who may read and keep them
`gis.permissions` (`check_read_long_problems`, `check_keep_long_problem`); a list adds `area_sql`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.codes import parse_community_code, parse_grid_code
from gis.errors import InvalidInput, NotFound
from gis.permissions import (
    Actor,
    Forbidden,
    area_of,
    check_keep_long_problem,
    check_read_case,
    check_read_long_problems,
)
from gis.repeats import LongProblemStatus, check_long_problem, review_order
from gis.store.area import area_sql
from gis.store.case_reads import case_scope
from gis.store.vocabulary import current_day
from gis.workflow import parse_enum

__all__ = ["LongProblemInput", "LongProblemPatch", "add_long_problem", "get_long_problem", "list_long_problems",
           "update_long_problem"]


@dataclass(frozen=True)
class LongProblemInput:
    title: str
    review_on: date
    community_code: str | None = None
    grid_code: str | None = None
    description: str = ""
    owner_username: str | None = None
    owner_department: str | None = None
    status: str = LongProblemStatus.open.value
    case_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class LongProblemPatch:
    title: str | None = None
    description: str | None = None
    owner_username: str | None = None
    owner_department: str | None = None
    review_on: date | None = None
    status: str | None = None
    add_case_ids: tuple[int, ...] = ()
    remove_case_ids: tuple[int, ...] = field(default_factory=tuple)


_COLUMNS = ("id", "title", "description", "owner_username", "owner_department", "review_on", "status",
            "community_code", "grid_code", "street_code", "district_code", "created_by", "created_at", "updated_at")
_SELECT = f"""
SELECT {", ".join(f"p.{c}" for c in _COLUMNS)}, u.display_name AS owner_name, m.name AS community_name,
       (SELECT coalesce(array_agg(l.case_id ORDER BY l.case_id), '{{}}') FROM long_problem_case AS l
        WHERE l.problem_id = p.id AND l.district_code = p.district_code) AS case_ids
FROM long_problem AS p
LEFT JOIN app_user AS u ON u.username = p.owner_username
LEFT JOIN community AS m ON m.code = p.community_code
"""


def _place(session: Session, community_code: str | None, grid_code: str | None) -> tuple[str, str | None]:
    """(community, grid) of a new problem: a grid names its community; either must exist."""
    grid = None
    if grid_code:
        grid = parse_grid_code(grid_code).code
        known = session.execute(text("SELECT 1 FROM grid WHERE code = :code LIMIT 1"), {"code": grid}).first()
        if known is None:
            raise InvalidInput(f"unknown grid {grid}", details={"field": "grid_code"})
        if community_code and community_code != grid[:12]:
            raise InvalidInput(f"grid {grid} is not in community {community_code}", details={"field": "grid_code"})
        community_code = grid[:12]
    if not community_code:
        raise InvalidInput("a long-standing problem sits in a community (community_code) or a grid (grid_code)",
                           details={"field": "community_code"})
    community = parse_community_code(community_code).code
    if session.execute(text("SELECT 1 FROM community WHERE code = :c"), {"c": community}).first() is None:
        raise InvalidInput(f"unknown community {community}", details={"field": "community_code"})
    return community, grid


def _check_owner(session: Session, username: str | None) -> None:
    if username and session.execute(text("SELECT 1 FROM app_user WHERE username = :u"), {"u": username}).first() \
            is None:
        raise InvalidInput(f"unknown account {username!r} as owner; name a department instead if it has none",
                           details={"field": "owner_username"})


def _link_cases(session: Session, problem: dict[str, Any], case_ids: tuple[int, ...], actor: Actor) -> None:
    for case_id in case_ids:
        check_read_case(actor, case_scope(session, case_id), case_id)
        session.execute(text(
            "INSERT INTO long_problem_case (problem_id, case_id, district_code) VALUES (:p, :c, :d) "
            "ON CONFLICT DO NOTHING"), {"p": problem["id"], "c": case_id, "d": problem["district_code"]})


def add_long_problem(session: Session, data: LongProblemInput, actor: Actor, *, now: datetime | None = None) -> int:
    """Store a new long-standing problem and link its cases; returns its id."""
    community, grid = _place(session, data.community_code, data.grid_code)
    check_keep_long_problem(actor, community, grid)
    status = check_long_problem(data.title, data.owner_username, data.owner_department, data.review_on, data.status)
    _check_owner(session, data.owner_username)
    at = now or datetime.now(UTC)
    problem_id = session.execute(text(
        "INSERT INTO long_problem (title, description, owner_username, owner_department, review_on, status, "
        "community_code, grid_code, street_code, district_code, created_by, created_at, updated_at) "
        "VALUES (:title, :description, :owner_username, :owner_department, :review_on, :status, :community, "
        ":grid, :street, :district, :actor, :at, :at) RETURNING id"),
        {"title": data.title.strip(), "description": data.description, "owner_username": data.owner_username or None,
         "owner_department": data.owner_department or None, "review_on": data.review_on, "status": status.value,
         "community": community, "grid": grid, "street": community[:9], "district": community[:6],
         "actor": actor.username, "at": at}).scalar_one()
    _link_cases(session, {"id": problem_id, "district_code": community[:6]}, data.case_ids, actor)
    return problem_id


def _row(session: Session, problem_id: int) -> dict[str, Any]:
    row = session.execute(text(f"{_SELECT} WHERE p.id = :id"), {"id": problem_id}).mappings().first()
    if row is None:
        raise NotFound(f"unknown long-standing problem {problem_id}")
    return dict(row)


def update_long_problem(session: Session, problem_id: int, patch: LongProblemPatch, actor: Actor, *,
                        now: datetime | None = None) -> None:
    """Change a problem's fields (those given), link and unlink cases."""
    row = _row(session, problem_id)
    check_keep_long_problem(actor, row["community_code"], row["grid_code"])
    merged = {key: getattr(patch, key) if getattr(patch, key) is not None else row[key]
              for key in ("title", "description", "owner_username", "owner_department", "review_on", "status")}
    for key in ("owner_username", "owner_department"):
        merged[key] = (merged[key] or "").strip() or None
    status = check_long_problem(merged["title"], merged["owner_username"], merged["owner_department"],
                                merged["review_on"], merged["status"])
    _check_owner(session, merged["owner_username"])
    session.execute(text(
        "UPDATE long_problem SET title = :title, description = :description, owner_username = :owner_username, "
        "owner_department = :owner_department, review_on = :review_on, status = :status, updated_at = :at "
        "WHERE id = :id"), {**merged, "title": merged["title"].strip(), "status": status.value,
                            "at": now or datetime.now(UTC), "id": problem_id})
    _link_cases(session, row, patch.add_case_ids, actor)
    if patch.remove_case_ids:
        session.execute(text("DELETE FROM long_problem_case WHERE problem_id = :p AND case_id = ANY(:ids)"),
                        {"p": problem_id, "ids": list(patch.remove_case_ids)})


def _shown(row: dict[str, Any], today: date) -> dict[str, Any]:
    unresolved = row["status"] != LongProblemStatus.resolved.value
    return {
        **{key: row[key] for key in _COLUMNS if key not in ("review_on", "created_at", "updated_at")},
        "owner": row["owner_name"] or row["owner_username"] or row["owner_department"],
        "community_name": row["community_name"],
        "review_on": row["review_on"].isoformat(),
        "review_overdue": unresolved and row["review_on"] < today,
        "created_at": row["created_at"].isoformat(), "updated_at": row["updated_at"].isoformat(),
        "case_ids": list(row["case_ids"]),
    }


def get_long_problem(session: Session, problem_id: int, actor: Actor, *, now: datetime | None = None
                     ) -> dict[str, Any]:
    check_read_long_problems(actor)
    row = _row(session, problem_id)
    if not area_of(actor).covers(row["grid_code"], row["community_code"], row["street_code"]):
        raise Forbidden(f"long-standing problem {problem_id} is outside {actor.username!r}'s area")
    return _shown(row, current_day(now))


def list_long_problems(session: Session, actor: Actor, *, community_code: str | None = None,
                       status: str | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The problems in the reader's area (and the community asked for), overdue reviews first."""
    check_read_long_problems(actor)
    where, params = area_sql(area_of(actor), grid="p.grid_code", community="p.community_code", street="p.street_code")
    if community_code:
        where += " AND p.community_code = :community"
        params["community"] = community_code
    if status:
        where += " AND p.status = :status"
        params["status"] = parse_enum(LongProblemStatus, status, "status").value
    today = current_day(now)
    rows = [dict(r) for r in session.execute(text(f"{_SELECT} WHERE {where}"), params).mappings()]
    rows.sort(key=lambda r: (*review_order(r["status"], r["review_on"], today), r["id"]))
    return [_shown(r, today) for r in rows]
