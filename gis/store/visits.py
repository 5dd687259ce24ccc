"""Household visits in the database: recording a visit (its problems become cases, once per idempotency
key) and the visit counts per grid and per person. Visits go to the one `visit` table the wall's
visit-coverage measure reads (gis/sql/measures_units.sql), so a visit recorded here counts there at once.
Work days, which visits may belong to, are gis/store/workdays.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.cases import CaseInput
from gis.errors import InvalidInput
from gis.periods import Period
from gis.permissions import Actor, area_of, check_record_visit
from gis.store.area import area_sql
from gis.store.cases import create_case
from gis.store.models import Visit
from gis.store.rosters import session_for_visit
from gis.store.vocabulary import current_day, current_sql
from gis.store.workdays import building_of
from gis.workflow import Source

PROBLEM_SOURCE = Source.work_day_visit
"""The source of a case raised on a visit (DOMAIN.md: 社区/楼栋工作日 visits; the enum had it already); a
visit at a reception's session raises cases of source reception_day (gis/store/rosters.py SOURCE_OF_KIND).
A visit with a work day belongs to its session (`session_for_visit`), and so do the cases it raises."""
DEFAULT_PROBLEM_CATEGORY = "complaint"
"""A problem given as plain text (the phone's list) is filed as 投诉; the command centre re-sorts it when filing."""
MAX_BACKDATE = timedelta(days=30)
"""How long a visit queued on a phone may wait before it is sent: `visited_at` no older than this."""
CLOCK_SKEW = timedelta(minutes=5)


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




def record_visit(session: Session, data: VisitInput, actor: Actor, *,
                 now: datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Store a household visit and file each problem it raised as a case (source work_day_visit, at the
    building's position, routed by the shared rule); returns (the visit, created). A retry with the same
    idempotency key returns the first visit and its cases, and changes nothing."""
    moment = now or datetime.now(UTC)
    key = f"{actor.username}:{data.idempotency_key}" if data.idempotency_key else None
    if key and (existing := _visit_with_key(session, key)) is not None:
        return visit(session, existing), False
    building = building_of(session, data.building_code, data.building_id)
    check_record_visit(actor, building["code"], building["grid_code"], building["community_code"],
                       building["street_code"])
    visited_at = _visited_at(data.visited_at, moment)
    _check_households(data.households_reached, building)
    session_date, source = None, PROBLEM_SOURCE.value
    if data.work_day_id is not None:
        _check_work_day(session, data.work_day_id, building)
        session_date, source = session_for_visit(session, data.work_day_id, current_day(visited_at))
    table = Visit.__table__
    visit_id = session.execute(pg_insert(table).values(
        building_id=building["id"], person_id=actor.person_id, user_id=actor.user_id, visited_at=visited_at,
        note=data.note, district_code=building["district_code"], street_code=building["street_code"],
        households_reached=data.households_reached, problems_raised=len(data.problems),
        work_day_id=data.work_day_id, session_date=session_date, idempotency_key=key,
    ).on_conflict_do_nothing(index_elements=["idempotency_key", "district_code"]).returning(table.c.id)
    ).scalar_one_or_none()
    if visit_id is None:  # a concurrent retry won the race
        return visit(session, _visit_with_key(session, key)), False
    for number, problem in enumerate(data.problems, start=1):
        create_case(session, CaseInput(
            source=source, category_code=problem.category or DEFAULT_PROBLEM_CATEGORY,
            lon=building["lon"], lat=building["lat"], description=problem.description, address=building["address"],
            idempotency_key=_problem_key(visit_id, number),
            reported_at=visited_at,
            extras={"visit_id": str(visit_id), "building_code": building["code"]},
            work_day_id=data.work_day_id, session_date=session_date,
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
