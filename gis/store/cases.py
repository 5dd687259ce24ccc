"""Cases in the database: intake with routing, workflow actions, listing, manual routing, supervision.

Every change writes a `case_event` row (who, when, where, from, to, note), so the ledger can be rebuilt
from events alone. Illegal moves raise before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.cases import CaseInput, Photo, Position, check_photo, check_photos, checked_source, position_of
from gis.categories import HandlingRule
from gis.errors import InvalidInput, NotFound
from gis.permissions import (
    Actor,
    CaseScope,
    check_action,
    check_add_photo,
    check_create_case,
    check_read_case,
    check_route_by_hand,
)
from gis.store.distribution import district_of_point, move_to_district
from gis.store.reference import load_calendar, load_category
from gis.workflow import (
    FIRST_ACTION_FIELD,
    STATUS_CATEGORY,
    Action,
    CaseStatus,
    allowed_actions,
    check_transition,
    clock_running,
    is_open,
    parse_enum,
)

ROUTE_SQL = (resources.files("gis") / "sql" / "route_point.sql").read_text(encoding="utf-8")
OPEN_STATUSES = tuple(s.value for s in CaseStatus if is_open(s))
CLOCK_STATUSES = tuple(s.value for s in CaseStatus if clock_running(s))


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


@dataclass(frozen=True)
class Responsible:
    """Who answers for a position: grid (version row), its community/street/district, team and branch."""

    grid_id: int | None
    grid_code: str | None
    community_code: str | None
    street_code: str | None
    district_code: str
    team_id: int | None
    branch_id: int | None


def responsible_for(session: Session, lon: float, lat: float) -> Responsible:
    """Route a WGS84 point by the shared rule (covers; smallest code wins). Outside every grid: unrouted,
    but still keyed to the community around it when there is one; outside every community too, to the
    district whose boundary is nearest (every case has a district: gis/store/distribution.py)."""
    hit = session.execute(text(ROUTE_SQL), {"lon": lon, "lat": lat}).first()
    if hit is None:
        around = session.execute(text(
            "SELECT code, street_code, district_code FROM community "
            "WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY code LIMIT 1"
        ), {"lon": lon, "lat": lat}).first()
        if around is None:
            return Responsible(None, None, None, None, district_of_point(session, lon, lat), None, None)
        return Responsible(None, None, around[0], around[1], around[2], None, None)
    return _responsible_for_grid(session, hit[0])


def _responsible_for_grid(session: Session, grid_id: int) -> Responsible:
    row = session.execute(text(
        "SELECT g.id, g.code, c.code, g.street_code, g.district_code, t.id, b.id FROM grid AS g "
        "JOIN community AS c ON c.id = g.community_id "
        "LEFT JOIN service_team AS t ON t.grid_code = g.code AND t.valid_to IS NULL "
        "LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code AND b.valid_to IS NULL "
        "WHERE g.id = :id"
    ), {"id": grid_id}).one()
    return Responsible(*row)


def _current_grid_id(session: Session, grid_code: str) -> int:
    grid_id = session.execute(
        text("SELECT id FROM grid WHERE code = :code AND valid_to IS NULL"), {"code": grid_code}
    ).scalar_one_or_none()
    if grid_id is None:
        raise NotFound(f"unknown grid {grid_code!r}")
    return grid_id


# -- intake -------------------------------------------------------------------------------------


def create_case(session: Session, data: CaseInput, actor: Actor, *, now: datetime | None = None) -> tuple[int, bool]:
    """Store a new case routed to its grid; returns (case id, created). A retried request with the same
    idempotency key returns the first case and creates nothing. The key is looked up in every district (the
    first case may have been routed by hand into another since); the unique key (idempotency_key,
    district_code) settles concurrent retries, which route the same position to the same district."""
    check_create_case(actor)
    source = checked_source(data.source)
    position = position_of(data)
    check_photos(data.photos)
    category = load_category(session, data.category_code)
    key = f"{actor.username}:{data.idempotency_key}" if data.idempotency_key else None
    if key:
        existing = session.execute(
            text("SELECT id FROM service_case WHERE idempotency_key = :key"), {"key": key}
        ).scalar_one_or_none()
        if existing is not None:
            return existing, False
    reported_at = data.reported_at or _now(now)
    who = responsible_for(session, position.lon, position.lat)
    case_id = session.execute(text(
        "INSERT INTO service_case (source, category_code, description, address, reporter_name, reporter_contact, "
        "position, given_crs, given_lon, given_lat, grid_id, grid_code, community_code, street_code, district_code, "
        "team_id, branch_id, department, first_contact, created_by, idempotency_key, status, reported_at, "
        "rework_count, updated_at) VALUES (:source, :category, :description, :address, :reporter_name, "
        ":reporter_contact, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :crs, :given_lon, :given_lat, :grid_id, "
        ":grid_code, :community_code, :street_code, :district_code, :team_id, :branch_id, :department, :actor, "
        ":actor, :key, 'reported', :reported_at, 0, :reported_at) "
        "ON CONFLICT (idempotency_key, district_code) DO NOTHING RETURNING id"
    ), {
        "source": source.value, "category": category.code, "description": data.description,
        "address": data.address, "reporter_name": data.reporter_name, "reporter_contact": data.reporter_contact,
        "lon": position.lon, "lat": position.lat, "crs": position.given_crs, "given_lon": position.given_lon,
        "given_lat": position.given_lat, **who.__dict__,
        "department": _first_department(category.handling_rule, category.group_zh),
        "actor": actor.username, "key": key, "reported_at": reported_at,
    }).scalar_one_or_none()
    if case_id is None:  # a concurrent retry won the race
        existing = session.execute(text("SELECT id FROM service_case WHERE idempotency_key = :key"), {"key": key})
        return existing.scalar_one(), False
    note = f"routed to grid {who.grid_code}" if who.grid_code else "outside every grid: waiting in the unrouted queue"
    _event(session, case_id, actor.username, "create", None, CaseStatus.reported, note, position, reported_at,
           {"source": source.value, "category": category.code, "grid_code": who.grid_code,
            "given": {"crs": position.given_crs, "lon": position.given_lon, "lat": position.given_lat}},
           who.district_code, who.street_code)
    for photo in data.photos:
        _store_photo(session, case_id, photo, who.district_code)
    return case_id, True


def _first_department(rule: HandlingRule, group: str) -> str | None:
    """Components go to their owner first; everything else to the locality (the grid's team)."""
    return f"{group}权属单位" if rule == HandlingRule.owner_first else None


def add_photo(session: Session, case_id: int, photo: Photo, actor: Actor) -> int:
    scope = _scope(session, case_id)
    check_add_photo(actor, scope, case_id)
    check_photo(photo)
    district = session.execute(
        text("SELECT district_code FROM service_case WHERE id = :id"), {"id": case_id}).scalar_one()
    photo_id = _store_photo(session, case_id, photo, district)
    _event(session, case_id, actor.username, "photo", None, None, f"photo {photo_id} added", None, _now(None),
           {"photo_id": photo_id}, district, scope.street_code)
    return photo_id


def _store_photo(session: Session, case_id: int, photo: Photo, district: str) -> int:
    return session.execute(text(
        "INSERT INTO case_photo (case_id, content_type, size, data, district_code) "
        "VALUES (:case_id, :type, :size, :data, :district) RETURNING id"
    ), {"case_id": case_id, "type": photo.content_type, "size": len(photo.data), "data": photo.data,
        "district": district}).scalar_one()


def photo(session: Session, case_id: int, photo_id: int, actor: Actor) -> Photo:
    check_read_case(actor, _scope(session, case_id), case_id)
    row = session.execute(text(
        "SELECT content_type, data FROM case_photo WHERE id = :pid AND case_id = :cid"
    ), {"pid": photo_id, "cid": case_id}).first()
    if row is None:
        raise NotFound(f"case {case_id} has no photo {photo_id}")
    return Photo(row[0], bytes(row[1]))


# -- workflow -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionInput:
    action: str
    reason: str | None = None
    satisfaction: str | None = None
    note: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    grid_code: str | None = None  # reassign to another grid
    department: str | None = None  # dispatch/reassign to an owning department


def apply_action(
    session: Session, case_id: int, data: ActionInput, actor: Actor, *, now: datetime | None = None
) -> None:
    """Take one workflow action; IllegalTransition (409) names the current status and allowed actions."""
    action = parse_enum(Action, data.action, "action")
    row = session.execute(text(
        "SELECT status, grid_code, street_code, created_by, category_code, deadline, district_code, "
        "first_action_at FROM service_case WHERE id = :id FOR UPDATE"
    ), {"id": case_id}).first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    status, grid_code, street_code, created_by, category_code, deadline, district, first_action = row
    check_action(actor, CaseScope(grid_code, street_code, created_by), action, case_id)
    transition = check_transition(CaseStatus(status), action, reason=data.reason, satisfaction=data.satisfaction)
    if grid_code is None and action in (Action.dispatch,) and not data.department:
        raise InvalidInput(f"case {case_id} is unrouted: route it to a grid (or name a department) before dispatch")
    at = _now(now)
    position = _action_position(data)
    updates: dict[str, Any] = {"status": transition.target.value, transition.timestamp_field: at, "updated_at": at}
    if transition.counts_as_first_action:
        updates[FIRST_ACTION_FIELD] = first_action or at
    if transition.starts_clock and deadline is None:
        category = load_category(session, category_code)
        updates["deadline"] = category.deadline(at, load_calendar(session))
    if transition.increments_rework:
        updates["rework_count"] = text_expr("rework_count + 1")
    if transition.satisfaction is not None:
        updates["satisfaction"] = transition.satisfaction.value
    if action == Action.decline:
        updates["decline_reason"] = transition.reason
    event_data: dict[str, Any] = {}
    if action in (Action.reassign, Action.dispatch) and (data.grid_code or data.department):
        event_data = _reassignment(session, case_id, data, updates, grid_code)
    target_district = updates.get("district_code", district)
    _move_case(session, case_id, district, updates)
    _update_case(session, case_id, updates)
    note = " — ".join(p for p in (transition.reason or "", data.note) if p)
    _event(session, case_id, actor.username, action.value, CaseStatus(status), transition.target, note, position,
           at, event_data or None, target_district, updates.get("street_code", street_code))


@dataclass(frozen=True)
class text_expr:  # noqa: N801 - reads as SQL in the updates mapping
    """A raw SQL expression for an update value (e.g. `rework_count + 1`)."""

    sql: str


def _move_case(session: Session, case_id: int, district: str, updates: dict[str, Any]) -> None:
    """A case that goes to a grid of another district moves there with its events and photos (the
    distribution column is never updated in place); `updates` then sets the rest, district_code aside."""
    target = updates.pop("district_code", district)
    if target != district:
        move_to_district(session, "service_case", "SELECT CAST(:id AS bigint), CAST(:district AS text)",
                         {"id": case_id, "district": target}, children=("case_event", "case_photo"))


def _update_case(session: Session, case_id: int, updates: dict[str, Any]) -> None:
    assignments, params = [], {"id": case_id}
    for column, value in updates.items():
        if isinstance(value, text_expr):
            assignments.append(f"{column} = {value.sql}")
        else:
            assignments.append(f"{column} = :{column}")
            params[column] = value
    session.execute(text(f"UPDATE service_case SET {', '.join(assignments)} WHERE id = :id"), params)


def _action_position(data: ActionInput) -> Position | None:
    if data.lon is None or data.lat is None:
        return None
    return position_of(CaseInput(source="patrol", category_code="", lon=data.lon, lat=data.lat, crs=data.crs))


def _reassignment(
    session: Session, case_id: int, data: ActionInput, updates: dict[str, Any], old_grid: str | None
) -> dict[str, Any]:
    """Point the case at another grid (its team and branch) or an owning department; say so in the event."""
    event: dict[str, Any] = {"from_grid": old_grid}
    if data.grid_code:
        who = _responsible_for_grid(session, _current_grid_id(session, data.grid_code))
        updates.update(grid_id=who.grid_id, grid_code=who.grid_code, community_code=who.community_code,
                       street_code=who.street_code, district_code=who.district_code, team_id=who.team_id,
                       branch_id=who.branch_id)
        event["to_grid"] = who.grid_code
    if data.department:
        updates["department"] = data.department
        event["to_department"] = data.department
    return event


def route_by_hand(session: Session, case_id: int, grid_code: str, actor: Actor, *, note: str = "") -> None:
    """Assign an unrouted case to a grid (the district's manual queue). The status does not change."""
    check_route_by_hand(actor)
    row = session.execute(text(
        "SELECT status, grid_code, district_code FROM service_case WHERE id = :id FOR UPDATE"
    ), {"id": case_id}).first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    if row[1] is not None:
        raise InvalidInput(f"case {case_id} is already routed to grid {row[1]}; use the reassign action")
    who = _responsible_for_grid(session, _current_grid_id(session, grid_code))
    at = _now(None)
    updates: dict[str, Any] = {
        "grid_id": who.grid_id, "grid_code": who.grid_code, "community_code": who.community_code,
        "street_code": who.street_code, "district_code": who.district_code, "team_id": who.team_id,
        "branch_id": who.branch_id, "updated_at": at,
    }
    _move_case(session, case_id, row[2], updates)
    _update_case(session, case_id, updates)
    status = CaseStatus(row[0])
    _event(session, case_id, actor.username, "route", status, status, note or f"routed by hand to {grid_code}",
           None, at, {"to_grid": grid_code}, who.district_code, who.street_code)


# -- supervision --------------------------------------------------------------------------------


def sweep_overdue(session: Session, *, now: datetime | None = None, escalation_grace: timedelta) -> dict[str, int]:
    """Flag open cases past their deadline for supervision (督办), and escalate to the community those
    still open `escalation_grace` after the deadline. Runs on a timer; each flag is set once, with an event."""
    at = _now(now)
    supervised = session.execute(text(
        "UPDATE service_case SET supervised_at = :at, updated_at = :at WHERE supervised_at IS NULL "
        "AND deadline < :at AND status = ANY(:statuses) RETURNING id, status, district_code, street_code, deadline"
    ), {"at": at, "statuses": list(CLOCK_STATUSES)}).all()
    for case_id, status, district, street, deadline in supervised:
        _event(session, case_id, "system", "supervise", CaseStatus(status), CaseStatus(status),
               f"overdue since {deadline.isoformat()}: flagged for supervision", None, at, None, district, street)
    escalated = session.execute(text(
        "UPDATE service_case SET escalated_at = :at, updated_at = :at WHERE escalated_at IS NULL "
        "AND supervised_at IS NOT NULL AND deadline < :cutoff AND status = ANY(:statuses) "
        "RETURNING id, status, district_code, street_code, community_code"
    ), {"at": at, "cutoff": at - escalation_grace, "statuses": list(CLOCK_STATUSES)}).all()
    for case_id, status, district, street, community in escalated:
        _event(session, case_id, "system", "escalate", CaseStatus(status), CaseStatus(status),
               f"still open {escalation_grace} after its deadline: escalated to community {community or '-'}",
               None, at, {"community_code": community}, district, street)
    return {"supervised": len(supervised), "escalated": len(escalated)}


# -- reading ------------------------------------------------------------------------------------


def _scope(session: Session, case_id: int) -> CaseScope:
    row = session.execute(
        text("SELECT grid_code, street_code, created_by FROM service_case WHERE id = :id"), {"id": case_id}).first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    return CaseScope(*row)


_CASE_COLUMNS = (
    "c.id, c.source, c.category_code, k.name_zh, k.name_en, c.description, c.address, c.reporter_name, "
    "c.reporter_contact, ST_X(c.position), ST_Y(c.position), c.given_crs, c.given_lon, c.given_lat, c.grid_code, "
    "c.community_code, c.street_code, c.district_code, t.name, b.name, c.department, c.first_contact, "
    "c.created_by, c.status, c.reported_at, c.filed_at, c.declined_at, c.dispatched_at, c.accepted_at, "
    "c.handled_at, c.closed_at, c.reworked_at, c.evaluated_at, c.first_action_at, c.deadline, c.supervised_at, "
    "c.escalated_at, c.decline_reason, c.rework_count, c.satisfaction, c.updated_at, "
    "(SELECT coalesce(array_agg(p.id ORDER BY p.id), '{}') FROM case_photo AS p WHERE p.case_id = c.id)"
)
_CASE_FROM = (
    "FROM service_case AS c JOIN case_category AS k ON k.code = c.category_code "
    "LEFT JOIN service_team AS t ON t.id = c.team_id LEFT JOIN party_org AS b ON b.id = c.branch_id"
)
_TIMESTAMPS = ("reported_at", "filed_at", "declined_at", "dispatched_at", "accepted_at", "handled_at", "closed_at",
               "reworked_at", "evaluated_at", "first_action_at")


def _case_dict(row: Any, now: datetime) -> dict[str, Any]:
    status = CaseStatus(row[23])
    deadline = row[34]
    stamps = dict(zip(_TIMESTAMPS, row[24:34], strict=True))
    return {
        "id": row[0], "source": row[1],
        "category": {"code": row[2], "name_zh": row[3], "name_en": row[4]},
        "description": row[5], "address": row[6],
        "reporter": {"name": row[7], "contact": row[8]},
        "position": {"lon": row[9], "lat": row[10]},
        "given_position": {"crs": row[11], "lon": row[12], "lat": row[13]},
        "grid_code": row[14], "community_code": row[15], "street_code": row[16], "district_code": row[17],
        "routed": row[14] is not None, "team": row[18], "branch": row[19], "department": row[20],
        "first_contact": row[21], "created_by": row[22],
        "status": status.value, "status_category": STATUS_CATEGORY[status].value,
        "allowed_actions": [a.value for a in allowed_actions(status)],
        "timestamps": {k: (v.isoformat() if v else None) for k, v in stamps.items()},
        "deadline": deadline.isoformat() if deadline else None,
        "overdue": bool(deadline and ((is_open(status) and deadline < now)
                                      or (stamps["closed_at"] and stamps["closed_at"] > deadline))),
        "supervised_at": row[35].isoformat() if row[35] else None,
        "escalated_at": row[36].isoformat() if row[36] else None,
        "decline_reason": row[37], "rework_count": row[38], "satisfaction": row[39],
        "updated_at": row[40].isoformat(), "photos": list(row[41]),
    }


def get_case(session: Session, case_id: int, actor: Actor, *, now: datetime | None = None) -> dict[str, Any]:
    row = session.execute(text(f"SELECT {_CASE_COLUMNS} {_CASE_FROM} WHERE c.id = :id"), {"id": case_id}).first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    check_read_case(actor, CaseScope(grid_code=row[14], street_code=row[16], created_by=row[22]), case_id)
    return _case_dict(row, _now(now))


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
    overdue_sql = ("(c.deadline IS NOT NULL AND ((c.status = ANY(:open_statuses) AND c.deadline < :now) "
                   "OR c.closed_at > c.deadline))")
    if filters.overdue is not None:
        clauses.append(overdue_sql if filters.overdue else f"NOT {overdue_sql}")
        params["open_statuses"] = list(OPEN_STATUSES)
    if filters.unrouted is not None:
        clauses.append("c.grid_code IS NULL" if filters.unrouted else "c.grid_code IS NOT NULL")
    if filters.case_ids:
        clauses.append("c.id = ANY(:case_ids)")
        params["case_ids"] = list(filters.case_ids)
    return (" AND ".join(clauses) or "TRUE"), params


def list_cases(
    session: Session, filters: CaseFilter, *, limit: int, offset: int, now: datetime | None = None
) -> tuple[list[dict[str, Any]], int]:
    """A page of cases (newest first) and the number that matched."""
    at = _now(now)
    where, params = _where(filters, at)
    matched = session.execute(text(f"SELECT count(*) FROM service_case AS c WHERE {where}"), params).scalar_one()
    rows = session.execute(text(
        f"SELECT {_CASE_COLUMNS} {_CASE_FROM} WHERE {where} ORDER BY c.reported_at DESC, c.id DESC "
        "LIMIT :limit OFFSET :offset"
    ), {**params, "limit": limit, "offset": offset}).all()
    return [_case_dict(r, at) for r in rows], matched


def case_events(session: Session, case_id: int, actor: Actor) -> list[dict[str, Any]]:
    check_read_case(actor, _scope(session, case_id), case_id)
    rows = session.execute(text(
        "SELECT id, at, actor, action, from_status, to_status, note, ST_X(position), ST_Y(position), data "
        "FROM case_event WHERE case_id = :id ORDER BY at, id"
    ), {"id": case_id}).all()
    return [
        {"id": r[0], "at": r[1].isoformat(), "actor": r[2], "action": r[3], "from_status": r[4], "to_status": r[5],
         "note": r[6], "position": {"lon": r[7], "lat": r[8]} if r[7] is not None else None, "data": r[9]}
        for r in rows
    ]


def _event(
    session: Session, case_id: int, actor: str, action: str, from_status: CaseStatus | None,
    to_status: CaseStatus | None, note: str, position: Position | None, at: datetime,
    data: dict[str, Any] | None, district: str, street: str | None,
) -> None:
    session.execute(text(
        "INSERT INTO case_event (case_id, at, actor, action, from_status, to_status, note, position, data, "
        "district_code, street_code) VALUES (:case_id, :at, :actor, :action, :from_status, :to_status, :note, "
        "CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL "
        "ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END, CAST(:data AS jsonb), :district, :street)"
    ), {
        "case_id": case_id, "at": at, "actor": actor, "action": action,
        "from_status": from_status.value if from_status else None,
        "to_status": to_status.value if to_status else None, "note": note,
        "lon": position.lon if position else None, "lat": position.lat if position else None,
        "data": json.dumps(data, ensure_ascii=False) if data else None, "district": district, "street": street,
    })
