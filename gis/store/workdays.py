"""Work days and household visits in the database: scheduling, the occurrences a person may see,
recording a visit (its problems become cases), and the visit counts per grid and per person.

The rules are in gis/workdays.py (recurrence, cycle) and gis/permissions.py (who may schedule and visit);
every list adds the caller's area in SQL (gis/store/area.py). Visits go to the one `visit` table the wall's
visit-coverage measure reads (gis/sql/measures_units.sql: a building counts as visited when it has any
visit in the cycle), so a visit recorded here counts there at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import null, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.cases import CaseInput
from gis.errors import InvalidInput, NotFound
from gis.periods import Period, check_day
from gis.permissions import Actor, AreaLevel, area_of, check_record_visit, check_schedule_work_day
from gis.store.area import area_sql
from gis.store.cases import create_case
from gis.store.models import Visit, WorkDay, WorkDayAssignee
from gis.store.reference import load_calendar
from gis.store.vocabulary import current_day, current_sql
from gis.workdays import (
    AssigneeRole,
    Schedule,
    Scope,
    check_schedule,
    check_span,
    occurrences,
    parse_rule,
)
from gis.workflow import Source, parse_enum

PROBLEM_SOURCE = Source.work_day_visit
"""The source of a case raised on a visit (DOMAIN.md: 社区/楼栋工作日 visits; the enum had it already)."""
DEFAULT_PROBLEM_CATEGORY = "complaint"
"""A problem given as plain text (the phone's list) is filed as 投诉; the command centre re-sorts it when filing."""
MAX_BACKDATE = timedelta(days=30)
"""How long a visit queued on a phone may wait before it is sent: `visited_at` no older than this."""
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Assignee:
    person_id: int | None = None
    user_id: int | None = None
    role: str = AssigneeRole.cadre


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


@dataclass(frozen=True)
class Problem:
    description: str
    category: str | None = None


@dataclass(frozen=True)
class VisitInput:
    building_code: str | None = None
    building_id: int | None = None
    households_reached: int = 0
    note: str = ""
    work_day_id: int | None = None
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    visited_at: datetime | None = None
    idempotency_key: str | None = None


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


def _building(session: Session, code: str | None, building_id: int | None) -> dict[str, Any]:
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
        street_code=place["street_code"],
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
    building = _building(session, data.building_code, None)
    if building["community_code"] is None:
        raise InvalidInput(f"building {data.building_code!r} lies in no community", details={"field": "building_code"})
    community = _community(session, building["community_code"])
    return {"community_code": community["code"], "street_code": community["street_code"],
            "district_code": community["district_code"], "building_code": building["code"]}


def _assign(session: Session, work_day_id: int, district: str, assignees: tuple[Assignee, ...]) -> None:
    for number, who in enumerate(assignees):
        name = f"assignees[{number}]"
        parse_enum(AssigneeRole, who.role, f"{name}.role")
        if who.person_id is None and who.user_id is None:
            raise InvalidInput(f"{name} names nobody: give person_id or user_id", details={"field": name})
        for column, table, value in (("person_id", "person", who.person_id), ("user_id", "app_user", who.user_id)):
            if value is not None and session.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"),
                                                     {"id": value}).first() is None:
                raise InvalidInput(f"{name}.{column} {value} is unknown", details={"field": f"{name}.{column}"})
        session.execute(pg_insert(WorkDayAssignee.__table__).values(
            work_day_id=work_day_id, person_id=who.person_id, user_id=who.user_id, role=str(who.role),
            district_code=district).on_conflict_do_nothing())


# -- occurrences ----------------------------------------------------------------------------------


def _visible_sql(actor: Actor) -> tuple[str, dict[str, Any]]:
    """Work days the actor may see: in their area (a worker: community work days of their grids'
    communities and building work days at buildings of their grids), or assigned to them."""
    area = area_of(actor)
    if area.level is AreaLevel.grid:
        condition = ("((w.scope = 'community' AND w.community_code = ANY(:grid_communities)) "
                     "OR (w.scope = 'building' AND bg.grid_code = ANY(:area_codes)))")
        params: dict[str, Any] = {"grid_communities": sorted({c[:12] for c in area.codes}),
                                  "area_codes": sorted(area.codes)}
    else:
        condition, params = area_sql(area, grid="bg.grid_code", community="w.community_code", street="w.street_code")
    if condition == "TRUE":
        return condition, params
    mine = ("EXISTS (SELECT 1 FROM work_day_assignee AS a WHERE a.work_day_id = w.id "
            "AND a.district_code = w.district_code AND (a.person_id = :me_person OR a.user_id = :me_user))")
    return f"({condition} OR {mine})", {**params, "me_person": actor.person_id, "me_user": actor.user_id}


_WORK_DAYS_SQL = """
SELECT w.id, w.scope, w.community_code, w.building_code, w.title, w.place, w.start_time, w.end_time, w.on_date,
       w.rule, w.valid_from, w.valid_until, w.district_code, w.street_code, bg.grid_code
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
SELECT a.work_day_id, a.person_id, a.user_id, a.role, coalesce(p.name, u.display_name) AS name, u.username
FROM work_day_assignee AS a
LEFT JOIN person AS p ON p.id = a.person_id
LEFT JOIN app_user AS u ON u.id = a.user_id
WHERE a.work_day_id = ANY(:ids)
ORDER BY a.work_day_id, a.id
"""


def list_occurrences(session: Session, actor: Actor, first: date, last: date) -> list[dict[str, Any]]:
    """Each date a visible work day takes place from `first` to `last` (both included), by date and time."""
    check_span(first, last)
    visible, params = _visible_sql(actor)
    rows = session.execute(text(_WORK_DAYS_SQL.format(visible=visible)),
                           {**params, "first": first, "last": last}).mappings().all()
    if not rows:
        return []
    people: dict[int, list[dict[str, Any]]] = {}
    for a in session.execute(text(_ASSIGNEES_SQL), {"ids": [r["id"] for r in rows]}).mappings():
        people.setdefault(a["work_day_id"], []).append(
            {"person_id": a["person_id"], "user_id": a["user_id"], "role": a["role"], "name": a["name"],
             "username": a["username"]})
    calendar = load_calendar(session)
    items = []
    for row in rows:
        schedule = Schedule(valid_from=row["valid_from"], valid_until=row["valid_until"], on=row["on_date"],
                            rule=parse_rule(row["rule"]), start_time=row["start_time"], end_time=row["end_time"])
        assignees = people.get(row["id"], [])
        mine = any((a["person_id"] is not None and a["person_id"] == actor.person_id)
                   or (a["user_id"] is not None and a["user_id"] == actor.user_id) for a in assignees)
        for day in occurrences(schedule, first, last, calendar):
            items.append({
                "work_day_id": row["id"], "date": day.isoformat(), "title": row["title"], "place": row["place"],
                "start_time": _time(row["start_time"]), "end_time": _time(row["end_time"]), "scope": row["scope"],
                "community_code": row["community_code"], "building_code": row["building_code"],
                "grid_code": row["grid_code"], "street_code": row["street_code"],
                "recurring": row["rule"] is not None, "rule": row["rule"], "assignees": assignees,
                "assigned_to_me": mine,
            })
    items.sort(key=lambda i: (i["date"], i["start_time"] or "", i["work_day_id"]))
    return items


def work_day(session: Session, work_day_id: int, actor: Actor) -> dict[str, Any]:
    """One work day as scheduled (its rule, validity and assignees), if the actor may see it."""
    visible, params = _visible_sql(actor)
    sql = _WORK_DAYS_SQL.format(visible=f"{visible} AND w.id = :id")
    row = session.execute(text(sql), {**params, "id": work_day_id, "first": date.min, "last": date.max}
                          ).mappings().first()
    if row is None:
        raise NotFound(f"no work day {work_day_id}")
    assignees = [dict(a) for a in session.execute(text(_ASSIGNEES_SQL), {"ids": [work_day_id]}).mappings()]
    for a in assignees:
        a.pop("work_day_id")
    return {"id": row["id"], "scope": row["scope"], "title": row["title"], "place": row["place"],
            "community_code": row["community_code"], "building_code": row["building_code"],
            "grid_code": row["grid_code"], "street_code": row["street_code"],
            "start_time": _time(row["start_time"]), "end_time": _time(row["end_time"]),
            "date": row["on_date"].isoformat() if row["on_date"] else None, "rule": row["rule"],
            "valid_from": row["valid_from"].isoformat(),
            "valid_until": row["valid_until"].isoformat() if row["valid_until"] else None, "assignees": assignees}


def _time(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


# -- visits ---------------------------------------------------------------------------------------


def record_visit(session: Session, data: VisitInput, actor: Actor, *,
                 now: datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Store a household visit and file each problem it raised as a case (source work_day_visit, at the
    building's position, routed by the shared rule); returns (the visit, created). A retry with the same
    idempotency key returns the first visit and its cases, and changes nothing."""
    moment = now or datetime.now(UTC)
    key = f"{actor.username}:{data.idempotency_key}" if data.idempotency_key else None
    if key and (existing := _visit_with_key(session, key)) is not None:
        return visit(session, existing), False
    building = _building(session, data.building_code, data.building_id)
    check_record_visit(actor, building["code"], building["grid_code"], building["community_code"],
                       building["street_code"])
    visited_at = _visited_at(data.visited_at, moment)
    _check_households(data.households_reached, building)
    if data.work_day_id is not None:
        _check_work_day(session, data.work_day_id, building)
    table = Visit.__table__
    visit_id = session.execute(pg_insert(table).values(
        building_id=building["id"], person_id=actor.person_id, user_id=actor.user_id, visited_at=visited_at,
        note=data.note, district_code=building["district_code"], street_code=building["street_code"],
        households_reached=data.households_reached, problems_raised=len(data.problems),
        work_day_id=data.work_day_id, idempotency_key=key,
    ).on_conflict_do_nothing(index_elements=["idempotency_key", "district_code"]).returning(table.c.id)
    ).scalar_one_or_none()
    if visit_id is None:  # a concurrent retry won the race
        return visit(session, _visit_with_key(session, key)), False
    for number, problem in enumerate(data.problems, start=1):
        create_case(session, CaseInput(
            source=PROBLEM_SOURCE.value, category_code=problem.category or DEFAULT_PROBLEM_CATEGORY,
            lon=building["lon"], lat=building["lat"], description=problem.description, address=building["address"],
            idempotency_key=_problem_key(visit_id, number),
            reported_at=visited_at,
            extras={"visit_id": str(visit_id), "building_code": building["code"]},
        ), actor, now=moment)
    return visit(session, visit_id), True


def _visited_at(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise InvalidInput(f"visited_at {value.isoformat()} has no timezone", details={"field": "visited_at"})
    if value > now + CLOCK_SKEW or value < now - MAX_BACKDATE:
        raise InvalidInput(f"visited_at {value.isoformat()} must lie within the last {MAX_BACKDATE.days} days "
                           "and not in the future", details={"field": "visited_at"})
    return value


def _check_households(reached: int, building: dict[str, Any]) -> None:
    if reached < 0 or reached > building["households"]:
        raise InvalidInput(f"households_reached {reached} must be between 0 and building {building['code']}'s "
                           f"{building['households']} households", details={"field": "households_reached"})


def _check_work_day(session: Session, work_day_id: int, building: dict[str, Any]) -> None:
    row = session.execute(text("SELECT scope, community_code, building_code FROM work_day WHERE id = :id"),
                          {"id": work_day_id}).mappings().first()
    if row is None:
        raise InvalidInput(f"work_day_id {work_day_id} is unknown", details={"field": "work_day_id"})
    if (row["building_code"] or building["code"]) != building["code"] or \
            row["community_code"] != building["community_code"]:
        raise InvalidInput(f"work day {work_day_id} is at {row['building_code'] or row['community_code']}, not at "
                           f"building {building['code']}", details={"field": "work_day_id"})


def _visit_with_key(session: Session, key: str | None) -> int | None:
    return session.execute(text("SELECT id FROM visit WHERE idempotency_key = :k ORDER BY id LIMIT 1"),
                           {"k": key}).scalar_one_or_none()


_VISIT_SQL = """
SELECT v.id, v.visited_at, v.households_reached, v.problems_raised, v.note, v.work_day_id, v.person_id,
       v.user_id, u.username AS visited_by, b.id AS building_id, b.code AS building_code, b.address,
       b.households, g.code AS grid_code
FROM visit AS v
JOIN building AS b ON b.id = v.building_id AND b.district_code = v.district_code
LEFT JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
LEFT JOIN app_user AS u ON u.id = v.user_id
WHERE v.id = :id
"""


def _problem_key(visit_id: int, number: int) -> str:
    """The idempotency key of the case a visit's nth problem became (create_case puts the username first)."""
    return f"visit:{visit_id}:{number}"


def visit(session: Session, visit_id: int) -> dict[str, Any]:
    """A visit as the API answers it, with the cases its problems became (found by their idempotency keys,
    the same on a retry)."""
    row = session.execute(text(_VISIT_SQL), {"id": visit_id}).mappings().one()
    keys = [f"{row['visited_by']}:{_problem_key(visit_id, n)}" for n in range(1, row["problems_raised"] + 1)]
    cases = session.execute(text("SELECT id, grid_code, category_code, status FROM service_case "
                                 "WHERE idempotency_key = ANY(:keys) ORDER BY id"), {"keys": keys}).mappings().all()
    return {
        "id": row["id"], "visited_at": row["visited_at"].isoformat(),
        "building": {"id": row["building_id"], "code": row["building_code"], "address": row["address"],
                     "households": row["households"], "grid_code": row["grid_code"]},
        "households_reached": row["households_reached"], "problems_raised": row["problems_raised"],
        "note": row["note"], "work_day_id": row["work_day_id"], "person_id": row["person_id"],
        "user_id": row["user_id"], "visited_by": row["visited_by"],
        "cases": [{"id": c["id"], "grid_code": c["grid_code"], "category": c["category_code"],
                   "status": str(c["status"])} for c in cases],
    }


# -- counts per grid and per person -----------------------------------------------------------------

_GRID_SUMMARY_SQL = """
WITH reached AS (
    SELECT v.building_id, v.district_code, count(*) AS visits, sum(v.households_reached) AS reached
    FROM visit AS v WHERE v.visited_at >= :start AND v.visited_at < :end
    GROUP BY v.building_id, v.district_code
)
SELECT g.code AS grid_code, g.name, m.code AS community_code, g.street_code,
       count(b.id) AS buildings, coalesce(sum(b.households), 0) AS households,
       count(r.building_id) AS buildings_visited,
       coalesce(sum(least(coalesce(r.reached, 0), b.households)), 0) AS households_visited,
       coalesce(sum(r.visits), 0) AS visits
FROM grid AS g
JOIN community AS m ON m.id = g.community_id
LEFT JOIN building AS b ON b.grid_id = g.id AND b.district_code = g.district_code
LEFT JOIN reached AS r ON r.building_id = b.id AND r.district_code = b.district_code
WHERE {current} AND {area}
GROUP BY g.code, g.name, m.code, g.street_code
ORDER BY g.code
"""

_PERSON_SUMMARY_SQL = """
WITH per_building AS (
    SELECT v.person_id, v.user_id, v.building_id, count(*) AS visits,
           least(coalesce(sum(v.households_reached), 0), max(b.households)) AS reached
    FROM visit AS v
    JOIN building AS b ON b.id = v.building_id AND b.district_code = v.district_code
    LEFT JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
    LEFT JOIN community AS m ON m.id = g.community_id
    WHERE v.visited_at >= :start AND v.visited_at < :end AND {area}
    GROUP BY v.person_id, v.user_id, v.building_id
)
SELECT s.person_id, s.user_id, coalesce(p.name, u.display_name) AS name, u.username,
       sum(s.visits) AS visits, count(*) AS buildings_visited, sum(s.reached) AS households_visited
FROM per_building AS s
LEFT JOIN person AS p ON p.id = s.person_id
LEFT JOIN app_user AS u ON u.id = s.user_id
GROUP BY s.person_id, s.user_id, p.name, u.display_name, u.username
ORDER BY households_visited DESC, name
"""


def visit_summary(session: Session, actor: Actor, period: Period) -> dict[str, Any]:
    """Per grid (current grids in the caller's area): buildings and households, those visited in the
    period, visits; per person: visits, buildings and households visited there (each building's reach
    capped at its households, gis/workdays.py)."""
    area = area_of(actor)
    start, end = period.bounds()
    params = {"start": start, "end": end, "on": current_day()}
    grid_area, grid_params = area_sql(area, grid="g.code", community="m.code", street="g.street_code")
    grids = session.execute(text(_GRID_SUMMARY_SQL.format(current=current_sql("g"), area=grid_area)),
                            {**params, **grid_params}).mappings().all()
    person_area, person_params = area_sql(area, grid="g.code", community="m.code", street="b.street_code")
    people = session.execute(text(_PERSON_SUMMARY_SQL.format(area=person_area)),
                             {**params, **person_params}).mappings().all()
    return {
        "period": period.as_json(),
        "grids": [{**dict(g), **{k: int(g[k]) for k in ("buildings", "households", "buildings_visited",
                                                          "households_visited", "visits")},
                   "coverage": round(int(g["households_visited"]) / int(g["households"]), 4)
                   if g["households"] else None} for g in grids],
        "people": [{**dict(p), **{k: int(p[k]) for k in ("visits", "buildings_visited", "households_visited")}}
                   for p in people],
    }
