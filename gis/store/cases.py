"""Cases in the database: intake with routing, workflow actions, photos, manual routing.

Every change writes a `case_event` row (who, when, where, from, to, note), so the ledger can be rebuilt
from events alone. Illegal moves raise before anything is written. Rows are written from the models
(`gis.store.models`, SQLAlchemy Core) and read by column name. Reading cases lives in
`gis.store.case_reads`, the sweeper's flags in `gis.store.supervision`; both are re-exported here, so
`gis.store.cases` stays the one name callers import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.cases import CaseInput, Photo, Position, check_photo, check_photos, checked_source, position_of
from gis.categories import HandlingRule
from gis.errors import Conflict, InvalidInput, NotFound
from gis.permissions import (
    Actor,
    CaseScope,
    check_action,
    check_add_photo,
    check_create_case,
    check_read_case,
    check_route_by_hand,
)
from gis.store.case_log import point_sql, record_event
from gis.store.case_reads import CaseFilter, case_events, case_scope, get_case, list_cases
from gis.store.distribution import district_of_point, move_to_district
from gis.store.models import CasePhoto, ServiceCase
from gis.store.reference import load_calendar, load_category
from gis.store.rosters import check_session_tag
from gis.store.routing import ROUTE_POINT_SQL
from gis.store.supervision import sweep_overdue
from gis.store.vocabulary import current_day, current_sql
from gis.workflow import FIRST_ACTION_FIELD, Action, CaseStatus, check_transition, parse_enum

__all__ = ["ActionInput", "CaseFilter", "Responsible", "add_photo", "apply_action", "case_events", "create_case",
           "get_case", "list_cases", "photo", "responsible_for", "route_by_hand", "sweep_overdue"]



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
    on = current_day()
    hit = session.execute(text(ROUTE_POINT_SQL), {"lon": lon, "lat": lat, "on": on}).mappings().first()
    if hit is None:
        around = session.execute(text(
            "SELECT code AS community_code, street_code, district_code FROM community "
            "WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY code LIMIT 1"
        ), {"lon": lon, "lat": lat}).mappings().first()
        if around is None:
            return Responsible(None, None, None, None, district_of_point(session, lon, lat), None, None)
        return Responsible(grid_id=None, grid_code=None, team_id=None, branch_id=None, **around)
    return _responsible_for_grid(session, hit["id"], on)


# The grid version, and the team and branch current on the day (gis/store/vocabulary.py).
_RESPONSIBLE_SQL = f"""
SELECT g.id AS grid_id, g.code AS grid_code, c.code AS community_code, g.street_code, g.district_code,
       t.id AS team_id, b.id AS branch_id
FROM grid AS g JOIN community AS c ON c.id = g.community_id
LEFT JOIN service_team AS t ON t.grid_code = g.code AND {current_sql("t")}
LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code AND {current_sql("b")}
WHERE g.id = :id
ORDER BY t.valid_from DESC, b.valid_from DESC LIMIT 1
"""


def _answered_by(who: Responsible, at: datetime) -> dict[str, Any]:
    """A case's columns that say who answers for it, set to `who`."""
    return {"grid_id": who.grid_id, "grid_code": who.grid_code, "community_code": who.community_code,
            "street_code": who.street_code, "district_code": who.district_code, "team_id": who.team_id,
            "branch_id": who.branch_id, "updated_at": at}


def _responsible_for_grid(session: Session, grid_id: int, on: date) -> Responsible:
    row = session.execute(text(_RESPONSIBLE_SQL), {"id": grid_id, "on": on}).mappings().one()
    return Responsible(**row)


def _current_grid_id(session: Session, grid_code: str, on: date) -> int:
    grid_id = session.execute(
        text(f"SELECT id FROM grid AS g WHERE code = :code AND {current_sql('g')}"), {"code": grid_code, "on": on}
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
    check_session_tag(session, data.work_day_id, data.session_date, source.value, now)
    key = f"{actor.username}:{data.idempotency_key}" if data.idempotency_key else None
    if key:
        existing = _case_with_key(session, key)
        if existing is not None:
            return existing, False
    reported_at = data.reported_at or _now(now)
    who = responsible_for(session, position.lon, position.lat)
    row = {
        "source": source.value, "category_code": category.code, "description": data.description,
        "address": data.address, "reporter_name": data.reporter_name, "reporter_contact": data.reporter_contact,
        "position": point_sql(position.lon, position.lat), "given_crs": position.given_crs,
        "given_lon": position.given_lon, "given_lat": position.given_lat, **who.__dict__,
        "department": _first_department(category.handling_rule, category.group_zh),
        "first_contact": actor.username, "created_by": actor.username, "idempotency_key": key,
        "status": CaseStatus.reported.value, "reported_at": reported_at, "rework_count": 0, "updated_at": reported_at,
        "extras": dict(data.extras), "work_day_id": data.work_day_id, "session_date": data.session_date,
    }
    table = ServiceCase.__table__
    case_id = session.execute(
        pg_insert(table).values(row).on_conflict_do_nothing(index_elements=["idempotency_key", "district_code"])
        .returning(table.c.id)
    ).scalar_one_or_none()
    if case_id is None:  # a concurrent retry won the race
        return _case_with_key(session, key), False
    note = f"routed to grid {who.grid_code}" if who.grid_code else "outside every grid: waiting in the unrouted queue"
    record_event(session, case_id, actor.username, "create", None, CaseStatus.reported, note, position, reported_at,
           {"source": source.value, "category": category.code, "grid_code": who.grid_code,
            "given": {"crs": position.given_crs, "lon": position.given_lon, "lat": position.given_lat}},
           who.district_code, who.street_code)
    for photo in data.photos:
        _store_photo(session, case_id, photo, who.district_code)
    return case_id, True


def _case_with_key(session: Session, key: str | None) -> Any:
    return session.execute(text("SELECT id FROM service_case WHERE idempotency_key = :key"),
                           {"key": key}).scalar_one_or_none()


def _first_department(rule: HandlingRule, group: str) -> str | None:
    """Components go to their owner first; everything else to the locality (the grid's team)."""
    return f"{group}权属单位" if rule == HandlingRule.owner_first else None


def add_photo(session: Session, case_id: int, photo: Photo, actor: Actor, *,
              idempotency_key: str | None = None) -> tuple[int, bool]:
    """Attach a photo; returns (photo id, created). A retry with the same idempotency key returns the photo
    the first request stored (kept in the event's data; the case's row lock orders concurrent retries)."""
    scope = case_scope(session, case_id)
    check_add_photo(actor, scope, case_id)
    check_photo(photo)
    district = session.execute(
        text("SELECT district_code FROM service_case WHERE id = :id FOR UPDATE"), {"id": case_id}).scalar_one()
    if idempotency_key:
        earlier = session.execute(text(
            "SELECT (data->>'photo_id')::bigint FROM case_event WHERE case_id = :id AND actor = :actor "
            "AND action = 'photo' AND data->>'idempotency_key' = :key LIMIT 1"),
            {"id": case_id, "actor": actor.username, "key": idempotency_key}).scalar_one_or_none()
        if earlier is not None:
            return earlier, False
    photo_id = _store_photo(session, case_id, photo, district)
    data: dict[str, Any] = {"photo_id": photo_id}
    if idempotency_key:
        data["idempotency_key"] = idempotency_key
    record_event(session, case_id, actor.username, "photo", None, None, f"photo {photo_id} added", None, _now(None),
           data, district, scope.street_code)
    return photo_id, True


def _store_photo(session: Session, case_id: int, photo: Photo, district: str) -> int:
    table = CasePhoto.__table__
    return session.execute(insert(table).values(
        case_id=case_id, content_type=photo.content_type, size=len(photo.data), data=photo.data,
        district_code=district,
    ).returning(table.c.id)).scalar_one()


def photo(session: Session, case_id: int, photo_id: int, actor: Actor) -> Photo:
    check_read_case(actor, case_scope(session, case_id), case_id)
    row = session.execute(text(
        "SELECT content_type, data FROM case_photo WHERE id = :pid AND case_id = :cid"
    ), {"pid": photo_id, "cid": case_id}).mappings().first()
    if row is None:
        raise NotFound(f"case {case_id} has no photo {photo_id}")
    return Photo(row["content_type"], bytes(row["data"]))


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
    idempotency_key: str | None = None  # a retried request with the same key applies once
    expected_by: date | None = None  # explain: the date the resident was told to expect


def apply_action(
    session: Session, case_id: int, data: ActionInput, actor: Actor, *, now: datetime | None = None
) -> None:
    """Take one workflow action; IllegalTransition (409) names the current status and allowed actions.

    With an idempotency key (a phone's queued action sent again because the answer was lost) an action
    this actor already took on this case with the same key is not taken twice: nothing happens. The key
    is kept in the event's data; the case's row lock orders concurrent retries."""
    action = parse_enum(Action, data.action, "action")
    row = session.execute(text(
        "SELECT status, grid_code, street_code, community_code, created_by, category_code, deadline, "
        "district_code, first_action_at FROM service_case WHERE id = :id FOR UPDATE"
    ), {"id": case_id}).mappings().first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    if _already_done(session, case_id, actor, data.idempotency_key, action.value):
        return
    status, grid_code, street_code, created_by = row["status"], row["grid_code"], row["street_code"], row["created_by"]
    category_code, deadline, district = row["category_code"], row["deadline"], row["district_code"]
    first_action = row["first_action_at"]
    check_action(actor, CaseScope(grid_code, street_code, created_by, row["community_code"]), action, case_id)
    transition = check_transition(CaseStatus(status), action, reason=data.reason, satisfaction=data.satisfaction,
                                  expected_by=data.expected_by, today=current_day(now))
    if action is Action.merge:
        raise InvalidInput(f"merge case {case_id} through POST /api/cases/{case_id}/merge, naming the case it "
                           "duplicates", details={"action": action.value})
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
    if transition.outcome is not None:  # handle solves, explain explains (gis.workflow.OUTCOME_OF_ACTION)
        updates.update(outcome=transition.outcome.value, expected_by=transition.expected_by,
                       explanation=transition.reason if transition.expected_by else None)
    event_data: dict[str, Any] = {}
    if action in (Action.reassign, Action.dispatch) and (data.grid_code or data.department):
        event_data = _reassignment(session, case_id, data, updates, grid_code)
    if data.idempotency_key:
        event_data["idempotency_key"] = data.idempotency_key
    target_district = updates.get("district_code", district)
    _move_case(session, case_id, district, updates)
    _update_case(session, case_id, updates)
    note = " — ".join(p for p in (transition.reason or "", data.note) if p)
    record_event(session, case_id, actor.username, action.value, CaseStatus(status), transition.target, note, position,
           at, event_data or None, target_district, updates.get("street_code", street_code))


def _already_done(session: Session, case_id: int, actor: Actor, key: str | None, action: str) -> bool:
    """Whether `actor` already did `action` to the case under this idempotency key; the same key used for
    another step is a Conflict (a phone's bug, not a retry)."""
    if not key:
        return False
    done = session.execute(text(
        "SELECT action FROM case_event WHERE case_id = :id AND actor = :actor AND data->>'idempotency_key' = :key "
        "LIMIT 1"), {"id": case_id, "actor": actor.username, "key": key}).scalar_one_or_none()
    if done is not None and done != action:
        raise Conflict(f"idempotency key {key!r} was already used for {done!r} on case {case_id}, not {action!r}",
                       details={"idempotency_key": key, "used_for": done})
    return done is not None


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
        on = current_day()
        who = _responsible_for_grid(session, _current_grid_id(session, data.grid_code, on), on)
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
    ), {"id": case_id}).mappings().first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    if row["grid_code"] is not None:
        raise InvalidInput(f"case {case_id} is already routed to grid {row['grid_code']}; use the reassign action")
    on = current_day()
    who = _responsible_for_grid(session, _current_grid_id(session, grid_code, on), on)
    at = _now(None)
    updates = _answered_by(who, at)
    _move_case(session, case_id, row["district_code"], updates)
    _update_case(session, case_id, updates)
    status = CaseStatus(row["status"])
    record_event(session, case_id, actor.username, "route", status, status, note or f"routed by hand to {grid_code}",
           None, at, {"to_grid": grid_code}, who.district_code, who.street_code)


def rehome(session: Session, case_id: int, who: Responsible, actor: str, note: str, data: dict[str, Any],
           at: datetime) -> None:
    """Point an open case at the grid, team and branch now answering for its position (a redraw plan took
    effect), with an event saying from where to where; its status and clock do not change."""
    row = session.execute(text("SELECT status, grid_code, district_code FROM service_case WHERE id = :id "
                               "FOR UPDATE"), {"id": case_id}).mappings().one()
    updates = _answered_by(who, at)
    _move_case(session, case_id, row["district_code"], updates)
    _update_case(session, case_id, updates)
    status = CaseStatus(row["status"])
    record_event(session, case_id, actor, "rehome", status, status, note,
                 None, at, {**data, "from_grid": row["grid_code"], "to_grid": who.grid_code}, who.district_code,
                 who.street_code)
