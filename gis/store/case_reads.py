"""Reading cases: one case, a filtered page of cases, a case's events. Rows are read by column name
(`.mappings()`), the overdue flag and filter come from `gis.store.vocabulary`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.permissions import Actor, CaseScope, check_read_case, sees_personal_data
from gis.permissions import allowed_actions as actions_for
from gis.privacy import mask_case
from gis.store.area import case_visibility_sql
from gis.store.vocabulary import is_overdue, overdue_sql
from gis.workflow import STATUS_CATEGORY, CaseStatus, allowed_actions, parse_enum

__all__ = ["CaseFilter", "case_dict", "case_events", "case_scope", "get_case", "list_cases"]

TIMESTAMPS = ("reported_at", "filed_at", "declined_at", "dispatched_at", "accepted_at", "handled_at", "closed_at",
              "reworked_at", "evaluated_at", "first_action_at", "merged_at")
_PLAIN = ("id", "source", "category_code", "description", "address", "reporter_name", "reporter_contact",
          "given_crs", "given_lon", "given_lat", "grid_code", "community_code", "street_code", "district_code",
          "department", "first_contact", "created_by", "status", *TIMESTAMPS, "deadline", "supervised_at",
          "escalated_at", "decline_reason", "rework_count", "satisfaction", "updated_at", "extras",
          "outcome", "explanation", "expected_by", "merged_into", "repeat_of")
_CASE_COLUMNS = ", ".join([
    *(f"c.{name}" for name in _PLAIN),
    "k.name_zh AS category_zh", "k.name_en AS category_en", "ST_X(c.position) AS lon", "ST_Y(c.position) AS lat",
    "t.name AS team", "b.name AS branch",
    "(SELECT coalesce(array_agg(p.id ORDER BY p.id), '{}') FROM case_photo AS p WHERE p.case_id = c.id) AS photos",
])
_CASE_FROM = (
    "FROM service_case AS c JOIN case_category AS k ON k.code = c.category_code "
    "LEFT JOIN service_team AS t ON t.id = c.team_id LEFT JOIN party_org AS b ON b.id = c.branch_id"
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def row_scope(row: RowMapping) -> CaseScope:
    return CaseScope(row["grid_code"], row["street_code"], row["created_by"], row["community_code"])


def case_dict(row: RowMapping, now: datetime, actor: Actor | None) -> dict[str, Any]:
    """The API's view of one case row, as `actor` may see it: with the actions they may take now, and the
    reporter's name and contact and the exact address masked unless they may see them (`sees_personal_data`;
    None: the public, whose reader — Open311 — sees them masked). `personal_data` says which: "shown" or
    "masked" (the HTTP layer records each unmasked read in the audit log)."""
    status = CaseStatus(row["status"])
    workflow_allows = allowed_actions(status)
    case = {
        "id": row["id"], "source": row["source"],
        "category": {"code": row["category_code"], "name_zh": row["category_zh"], "name_en": row["category_en"]},
        "description": row["description"], "address": row["address"],
        "reporter": {"name": row["reporter_name"], "contact": row["reporter_contact"]},
        "position": {"lon": row["lon"], "lat": row["lat"]},
        "given_position": {"crs": row["given_crs"], "lon": row["given_lon"], "lat": row["given_lat"]},
        "grid_code": row["grid_code"], "community_code": row["community_code"], "street_code": row["street_code"],
        "district_code": row["district_code"], "routed": row["grid_code"] is not None, "team": row["team"],
        "branch": row["branch"], "department": row["department"], "first_contact": row["first_contact"],
        "created_by": row["created_by"], "status": status.value, "status_category": STATUS_CATEGORY[status].value,
        "allowed_actions": [a.value for a in workflow_allows],
        "my_actions": [] if actor is None else
        [a.value for a in actions_for(actor, row_scope(row), frozenset(workflow_allows))],
        "timestamps": {name: _iso(row[name]) for name in TIMESTAMPS},
        "deadline": _iso(row["deadline"]),
        "overdue": is_overdue(status, row["deadline"], row["closed_at"], now),
        "supervised_at": _iso(row["supervised_at"]), "escalated_at": _iso(row["escalated_at"]),
        "decline_reason": row["decline_reason"], "rework_count": row["rework_count"],
        "satisfaction": row["satisfaction"], "updated_at": row["updated_at"].isoformat(), "photos": list(row["photos"]),
        "extras": dict(row["extras"] or {}),
        # How it ended and its links (gis/repeats.py): solved | explained | merged, None while unhandled.
        "outcome": row["outcome"], "explanation": row["explanation"],
        "expected_by": row["expected_by"].isoformat() if row["expected_by"] else None,
        "merged_into": row["merged_into"], "repeat_of": row["repeat_of"],
    }
    if actor is not None and sees_personal_data(actor, row_scope(row)):
        return {**case, "personal_data": "shown"}
    return {**mask_case(case), "personal_data": "masked"}


def case_scope(session: Session, case_id: int) -> CaseScope:
    """Where a case belongs, for the permission checks; NotFound for an unknown id."""
    row = session.execute(text("SELECT grid_code, street_code, created_by, community_code FROM service_case "
                               "WHERE id = :id"),
                          {"id": case_id}).mappings().first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    return CaseScope(**row)


def get_case(session: Session, case_id: int, actor: Actor, *, now: datetime | None = None) -> dict[str, Any]:
    row = session.execute(text(f"SELECT {_CASE_COLUMNS} {_CASE_FROM} WHERE c.id = :id"),
                          {"id": case_id}).mappings().first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    check_read_case(actor, row_scope(row), case_id)
    return case_dict(row, now or datetime.now(UTC), actor)


@dataclass(frozen=True)
class CaseFilter:
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    statuses: tuple[str, ...] = ()
    category_code: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    overdue: bool | None = None
    unrouted: bool | None = None
    created_by: str | None = None
    case_ids: tuple[int, ...] = ()


def _where(filters: CaseFilter, now: datetime) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {"now": now}
    for column in ("grid_code", "community_code", "street_code", "category_code", "created_by"):
        value = getattr(filters, column)
        if value:
            clauses.append(f"c.{column} = :{column}")
            params[column] = value
    if filters.statuses:
        for value in filters.statuses:
            parse_enum(CaseStatus, value, "status")
        clauses.append("c.status = ANY(:statuses)")
        params["statuses"] = list(filters.statuses)
    if filters.reported_from:
        clauses.append("c.reported_at >= :reported_from")
        params["reported_from"] = filters.reported_from
    if filters.reported_to:
        clauses.append("c.reported_at < :reported_to")
        params["reported_to"] = filters.reported_to
    if filters.overdue is not None:
        clauses.append(overdue_sql("c", ":now") if filters.overdue else f"NOT {overdue_sql('c', ':now')}")
    if filters.unrouted is not None:
        clauses.append("c.grid_code IS NULL" if filters.unrouted else "c.grid_code IS NOT NULL")
    if filters.case_ids:
        clauses.append("c.id = ANY(:case_ids)")
        params["case_ids"] = list(filters.case_ids)
    return (" AND ".join(clauses) or "TRUE"), params


def list_cases(
    session: Session, filters: CaseFilter, actor: Actor | None, *, limit: int, offset: int,
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the cases the actor may read (newest first) and the number that matched. `actor` None is
    the public read of Open311, which sees every case and shows only its public fields."""
    at = now or datetime.now(UTC)
    where, params = _where(filters, at)
    visible, visible_params = case_visibility_sql(actor) if actor is not None else ("TRUE", {})
    where, params = f"{where} AND {visible}", {**params, **visible_params}
    matched = session.execute(text(f"SELECT count(*) FROM service_case AS c WHERE {where}"), params).scalar_one()
    rows = session.execute(text(
        f"SELECT {_CASE_COLUMNS} {_CASE_FROM} WHERE {where} ORDER BY c.reported_at DESC, c.id DESC "
        "LIMIT :limit OFFSET :offset"
    ), {**params, "limit": limit, "offset": offset}).mappings().all()
    return [case_dict(r, at, actor) for r in rows], matched


def case_events(session: Session, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    check_read_case(actor, case_scope(session, case_id), case_id)
    rows = session.execute(text(
        "SELECT id, at, actor, action, from_status, to_status, note, ST_X(position) AS lon, "
        "ST_Y(position) AS lat, data FROM case_event WHERE case_id = :id ORDER BY at, id"
    ), {"id": case_id}).mappings()
    return [
        {"id": r["id"], "at": r["at"].isoformat(), "actor": r["actor"], "action": r["action"],
         "from_status": r["from_status"], "to_status": r["to_status"], "note": r["note"],
         "position": {"lon": r["lon"], "lat": r["lat"]} if r["lon"] is not None else None, "data": r["data"]}
        for r in rows
    ]
