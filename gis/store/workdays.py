"""Work days in the database: scheduling and the occurrences a person may see. Household visits, which
may belong to a work day, are gis/store/visits.py.

The rules are in gis/workdays.py (recurrence, cycle) and gis/permissions.py (who may schedule and visit);
every list adds the caller's area in SQL (gis/store/area.py). Visits go to the one `visit` table the wall's
visit-coverage measure reads (gis/sql/measures_units.sql: a building counts as visited when it has any
visit in the cycle), so a visit recorded here counts there at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import null, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.errors import InvalidInput, NotFound
from gis.periods import check_day
from gis.permissions import Actor, AreaLevel, area_of, check_schedule_work_day, sees_roster_names
from gis.rosters import on_duty
from gis.store.area import area_sql
from gis.store.models import WorkDay, WorkDayAssignee
from gis.store.reference import load_calendar
from gis.store.vocabulary import current_day
from gis.workdays import (
    AssigneeRole,
    Kind,
    Schedule,
    Scope,
    check_schedule,
    check_span,
    occurrences,
    parse_rule,
)
from gis.workflow import parse_enum

MAX_ROTATION_GROUP = 51
"""The last group of a rotation (a weekly reception over a year at most: 52 turns)."""


@dataclass(frozen=True)
class Assignee:
    person_id: int | None = None
    user_id: int | None = None
    role: str = AssigneeRole.cadre
    title: str | None = None  # 职务, shown on the roster with the name
    rotation_group: int | None = None  # None: at every session; 0 … n-1: a turn of the rotation (gis/rosters.py)


@dataclass(frozen=True)
class WorkDayInput:
    scope: str
    title: str
    community_code: str | None = None
    building_code: str | None = None
    place: str = ""
    start_time: time | None = None
    end_time: time | None = None
    on: date | None = None
    rule: dict[str, Any] | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    assignees: tuple[Assignee, ...] = ()
    kind: str = Kind.work_day


# -- places ---------------------------------------------------------------------------------------

_BUILDING_SQL = """
SELECT b.id, b.code, b.address, b.households, b.district_code, ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat,
       g.code AS grid_code, m.code AS community_code, coalesce(b.street_code, m.street_code) AS street_code
FROM building AS b
LEFT JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
LEFT JOIN LATERAL (
    SELECT c.code, c.street_code FROM community AS c
    WHERE c.id = g.community_id OR (g.id IS NULL AND ST_Covers(c.geom, b.geom))
    ORDER BY c.code LIMIT 1) AS m ON TRUE
WHERE {where}
ORDER BY b.id LIMIT 2
"""


def building_of(session: Session, code: str | None, building_id: int | None) -> dict[str, Any]:
    if (code is None) == (building_id is None):
        raise InvalidInput("building_code or building_id is required (one of them)", details={"field": "building_code"})
    where, params = ("b.code = :code", {"code": code}) if code is not None else ("b.id = :id", {"id": building_id})
    rows = session.execute(text(_BUILDING_SQL.format(where=where)), params).mappings().all()
    if not rows:
        raise NotFound(f"unknown building {code or building_id!r}", details={"field": "building_code"})
    if len(rows) > 1:
        raise InvalidInput(f"building code {code!r} is used in more than one district: give building_id",
                           details={"field": "building_code"})
    return dict(rows[0])


def _community(session: Session, code: str) -> dict[str, Any]:
    row = session.execute(text("SELECT code, street_code, district_code FROM community WHERE code = :c"),
                          {"c": code}).mappings().first()
    if row is None:
        raise InvalidInput(f"community_code {code!r} is not a known community", details={"field": "community_code"})
    return dict(row)


# -- scheduling -----------------------------------------------------------------------------------


def schedule_work_day(session: Session, data: WorkDayInput, actor: Actor, *, now: datetime | None = None) -> int:
    """Store a work day with its assignees; returns its id. Managers in their area only."""
    scope = parse_enum(Scope, data.scope, "scope")
    kind = parse_enum(Kind, data.kind, "kind")
    place = _place(session, scope, data)
    check_schedule_work_day(actor, place["community_code"], place["street_code"])
    rule = parse_rule(data.rule)
    for name, day in (("date", data.on), ("valid_from", data.valid_from), ("valid_until", data.valid_until)):
        if day is not None:
            check_day(name, day)
    valid_from = data.valid_from or data.on or current_day(now)
    schedule = check_schedule(Schedule(valid_from=valid_from, valid_until=data.valid_until, on=data.on, rule=rule,
                                       start_time=data.start_time, end_time=data.end_time))
    if not data.title.strip():
        raise InvalidInput("title must not be empty", details={"field": "title"})
    work_day_id = session.execute(pg_insert(WorkDay.__table__).values(
        scope=scope.value, community_code=place["community_code"], building_code=place.get("building_code"),
        title=data.title.strip(), place=data.place, start_time=data.start_time, end_time=data.end_time,
        on_date=schedule.on, rule=rule.as_json() if rule else null(), valid_from=schedule.valid_from,
        valid_until=schedule.valid_until, created_by=actor.username, district_code=place["district_code"],
        street_code=place["street_code"], kind=kind.value,
    ).returning(WorkDay.__table__.c.id)).scalar_one()
    _assign(session, work_day_id, place["district_code"], data.assignees)
    return work_day_id


def _place(session: Session, scope: Scope, data: WorkDayInput) -> dict[str, Any]:
    if scope is Scope.community:
        if not data.community_code or data.building_code:
            raise InvalidInput("a community work day names community_code (and no building_code)",
                               details={"field": "community_code"})
        community = _community(session, data.community_code)
        return {"community_code": community["code"], "street_code": community["street_code"],
                "district_code": community["district_code"]}
    if not data.building_code:
        raise InvalidInput("a building work day names building_code", details={"field": "building_code"})
    building = building_of(session, data.building_code, None)
    if building["community_code"] is None:
        raise InvalidInput(f"building {data.building_code!r} lies in no community", details={"field": "building_code"})
    community = _community(session, building["community_code"])
    return {"community_code": community["code"], "street_code": community["street_code"],
            "district_code": community["district_code"], "building_code": building["code"]}


def _assign(session: Session, work_day_id: int, district: str, assignees: tuple[Assignee, ...]) -> None:
    for number, who in enumerate(assignees):
        name = f"assignees[{number}]"
        parse_enum(AssigneeRole, who.role, f"{name}.role")
        if who.rotation_group is not None and not 0 <= who.rotation_group <= MAX_ROTATION_GROUP:
            raise InvalidInput(f"{name}.rotation_group {who.rotation_group} must be 0 … {MAX_ROTATION_GROUP} "
                               "(or absent: at every session)", details={"field": f"{name}.rotation_group"})
        if who.person_id is None and who.user_id is None:
            raise InvalidInput(f"{name} names nobody: give person_id or user_id", details={"field": name})
        for column, table, value in (("person_id", "person", who.person_id), ("user_id", "app_user", who.user_id)):
            if value is not None and session.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"),
                                                     {"id": value}).first() is None:
                raise InvalidInput(f"{name}.{column} {value} is unknown", details={"field": f"{name}.{column}"})
        session.execute(pg_insert(WorkDayAssignee.__table__).values(
            work_day_id=work_day_id, person_id=who.person_id, user_id=who.user_id, role=str(who.role),
            district_code=district, title=(who.title or "").strip() or None, rotation_group=who.rotation_group,
        ).on_conflict_do_nothing())


# -- occurrences ----------------------------------------------------------------------------------


def visible_sql(actor: Actor, *, assigned: bool = True) -> tuple[str, dict[str, Any]]:
    """Work days (alias `w`, with `bg.grid_code`) the actor may see: in their area (a worker: community work
    days of their grids' communities and building work days at buildings of their grids), or (`assigned`)
    assigned to them."""
    area = area_of(actor)
    if area.level is AreaLevel.grid:
        condition = ("((w.scope = 'community' AND w.community_code = ANY(:grid_communities)) "
                     "OR (w.scope = 'building' AND bg.grid_code = ANY(:area_codes)))")
        params: dict[str, Any] = {"grid_communities": sorted({c[:12] for c in area.codes}),
                                  "area_codes": sorted(area.codes)}
    else:
        condition, params = area_sql(area, grid="bg.grid_code", community="w.community_code", street="w.street_code")
    if condition == "TRUE" or not assigned:
        return condition, params
    mine = ("EXISTS (SELECT 1 FROM work_day_assignee AS a WHERE a.work_day_id = w.id "
            "AND a.district_code = w.district_code AND (a.person_id = :me_person OR a.user_id = :me_user))")
    return f"({condition} OR {mine})", {**params, "me_person": actor.person_id, "me_user": actor.user_id}


_WORK_DAYS_SQL = """
SELECT w.id, w.scope, w.community_code, w.building_code, w.title, w.place, w.start_time, w.end_time, w.on_date,
       w.rule, w.valid_from, w.valid_until, w.district_code, w.street_code, bg.grid_code, w.kind
FROM work_day AS w
LEFT JOIN LATERAL (
    SELECT g.code AS grid_code
    FROM building AS b JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
    WHERE w.scope = 'building' AND b.code = w.building_code ORDER BY b.district_code = w.district_code DESC LIMIT 1
) AS bg ON TRUE
WHERE w.valid_from <= :last AND (w.valid_until IS NULL OR w.valid_until >= :first)
  AND (w.on_date IS NULL OR w.on_date BETWEEN :first AND :last)
  AND {visible}
ORDER BY w.id
"""

_ASSIGNEES_SQL = """
SELECT a.work_day_id, a.id AS assignee_id, a.person_id, a.user_id, a.role, a.title, a.rotation_group,
       coalesce(p.name, u.display_name) AS name, u.username
FROM work_day_assignee AS a
LEFT JOIN person AS p ON p.id = a.person_id
LEFT JOIN app_user AS u ON u.id = a.user_id
WHERE a.work_day_id = ANY(:ids)
ORDER BY a.work_day_id, a.id
"""


def list_occurrences(session: Session, actor: Actor, first: date, last: date) -> list[dict[str, Any]]:
    """Each date a visible work day takes place from `first` to `last` (both included), by date and time."""
    check_span(first, last)
    visible, params = visible_sql(actor)
    rows = session.execute(text(_WORK_DAYS_SQL.format(visible=visible)),
                           {**params, "first": first, "last": last}).mappings().all()
    if not rows:
        return []
    people: dict[int, list[dict[str, Any]]] = {}
    for a in session.execute(text(_ASSIGNEES_SQL), {"ids": [r["id"] for r in rows]}).mappings():
        people.setdefault(a["work_day_id"], []).append({k: v for k, v in a.items() if k != "work_day_id"})
    calendar = load_calendar(session)
    items = []
    for row in rows:
        schedule = Schedule(valid_from=row["valid_from"], valid_until=row["valid_until"], on=row["on_date"],
                            rule=parse_rule(row["rule"]), start_time=row["start_time"], end_time=row["end_time"])
        everyone = people.get(row["id"], [])
        before = len(occurrences(schedule, schedule.valid_from, first - timedelta(days=1), calendar))
        for index, day in enumerate(occurrences(schedule, first, last, calendar), start=before):
            assignees = list(on_duty(everyone, index))
            mine = _assigned(assignees, actor)
            assignees = _named(assignees, actor, row, mine)
            items.append({
                "work_day_id": row["id"], "date": day.isoformat(), "title": row["title"], "place": row["place"],
                "start_time": _time(row["start_time"]), "end_time": _time(row["end_time"]), "scope": row["scope"],
                "community_code": row["community_code"], "building_code": row["building_code"],
                "grid_code": row["grid_code"], "street_code": row["street_code"],
                "recurring": row["rule"] is not None, "rule": row["rule"], "assignees": assignees,
                "assigned_to_me": mine, "kind": row["kind"],
            })
    items.sort(key=lambda i: (i["date"], i["start_time"] or "", i["work_day_id"]))
    return items


def work_day(session: Session, work_day_id: int, actor: Actor) -> dict[str, Any]:
    """One work day as scheduled (its rule, validity and assignees), if the actor may see it."""
    visible, params = visible_sql(actor)
    sql = _WORK_DAYS_SQL.format(visible=f"{visible} AND w.id = :id")
    row = session.execute(text(sql), {**params, "id": work_day_id, "first": date.min, "last": date.max}
                          ).mappings().first()
    if row is None:
        raise NotFound(f"no work day {work_day_id}")
    assignees = [dict(a) for a in session.execute(text(_ASSIGNEES_SQL), {"ids": [work_day_id]}).mappings()]
    for a in assignees:
        a.pop("work_day_id")
    assignees = _named(assignees, actor, row, _assigned(assignees, actor))
    return {"id": row["id"], "scope": row["scope"], "kind": row["kind"], "title": row["title"], "place": row["place"],
            "community_code": row["community_code"], "building_code": row["building_code"],
            "grid_code": row["grid_code"], "street_code": row["street_code"],
            "start_time": _time(row["start_time"]), "end_time": _time(row["end_time"]),
            "date": row["on_date"].isoformat() if row["on_date"] else None, "rule": row["rule"],
            "valid_from": row["valid_from"].isoformat(),
            "valid_until": row["valid_until"].isoformat() if row["valid_until"] else None, "assignees": assignees}


PERSONAL = ("name", "username", "title")


def _assigned(assignees: list[dict[str, Any]], actor: Actor) -> bool:
    return any((a["person_id"] is not None and a["person_id"] == actor.person_id)
               or (a["user_id"] is not None and a["user_id"] == actor.user_id) for a in assignees)


def _named(assignees: list[dict[str, Any]], actor: Actor, row: Any, mine: bool) -> list[dict[str, Any]]:
    """The assignees with their names and titles if the actor sees the place's team
    (`sees_roster_names`) or is one of them, else with those fields empty (their roles and ids stay)."""
    if mine or sees_roster_names(actor, row["community_code"], row["grid_code"]):
        return assignees
    return [{**a, **dict.fromkeys(PERSONAL)} for a in assignees]


def _time(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


# -- the next session, for the public grid card -----------------------------------------------------

NEXT_SESSION_DAYS = 366
"""How far ahead the next session is looked for."""

_NEXT_SQL = """
SELECT w.id, w.scope, w.title, w.place, w.start_time, w.end_time, w.on_date, w.rule, w.valid_from, w.valid_until
FROM work_day AS w
WHERE w.valid_from <= :last AND (w.valid_until IS NULL OR w.valid_until >= :day)
  AND (w.on_date IS NULL OR w.on_date BETWEEN :day AND :last)
  AND (w.community_code = :community AND (w.scope = 'community' OR CAST(:grid AS text) IS NULL)
       OR w.scope = 'building' AND w.building_code IN (
           SELECT b.code FROM building AS b
           JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
           WHERE g.code = :grid))
ORDER BY w.id
"""


def next_session(session: Session, code: str, day: date) -> dict[str, Any] | None:
    """The first session on or after `day` of a grid (`code` of 15 digits: its community's work days and
    those at its buildings) or a community (12 digits: all of its own), as the public may see it: date,
    times, place, title and scope; None when nothing is scheduled within NEXT_SESSION_DAYS."""
    if len(code) not in (12, 15) or not code.isdigit():
        raise InvalidInput(f"{code!r} is neither a grid code (15 digits) nor a community code (12)",
                           details={"field": "code"})
    last = day + timedelta(days=NEXT_SESSION_DAYS - 1)
    grid = code if len(code) == 15 else None
    rows = session.execute(text(_NEXT_SQL), {"day": day, "last": last, "community": code[:12], "grid": grid}
                           ).mappings().all()
    calendar = load_calendar(session) if rows else None
    found = []
    for row in rows:
        schedule = Schedule(valid_from=row["valid_from"], valid_until=row["valid_until"], on=row["on_date"],
                            rule=parse_rule(row["rule"]), start_time=row["start_time"], end_time=row["end_time"])
        dates = occurrences(schedule, day, last, calendar)
        if dates:
            found.append((dates[0], row["start_time"] or time.min, row["id"], row))
    if not found:
        return None
    first, _, _, row = min(found, key=lambda f: f[:3])
    return {"date": first.isoformat(), "start_time": _time(row["start_time"]), "end_time": _time(row["end_time"]),
            "place": row["place"], "title": row["title"], "scope": row["scope"]}
