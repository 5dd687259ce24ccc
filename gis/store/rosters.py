"""Rosters, attendance and session tags in the database. The rules are gis/rosters.py (sessions, rotation,
what a reader sees) and gis/permissions.py (`sees_roster_names`, `check_record_attendance`).

* `roster` — every session of a period, published (公示): open to the public, names only to those who see
  the place's team members.
* `record_attendance` — who came to one session, per assignee, by a manager of the place.
* `check_session_tag` — a case raised at a session carries its work day and date (service_case
  work_day_id, session_date; migration 0010); the case intake checks the tag here.
* `session_for_visit` — the session a visit recorded with a work day belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.errors import InvalidInput, NotFound
from gis.periods import check_day
from gis.permissions import Actor, check_record_attendance, sees_roster_names
from gis.rosters import on_duty, session_index, session_of, shown
from gis.store.models import WorkDayAttendance
from gis.store.reference import load_calendar
from gis.store.vocabulary import current_day
from gis.workcalendar import WorkCalendar
from gis.workdays import Kind, Schedule, check_span, occurrences, parse_rule
from gis.workflow import Source

SOURCE_OF_KIND = {Kind.work_day.value: Source.work_day_visit.value, Kind.reception.value: Source.reception_day.value}
"""The source of a case raised at a session of each kind."""


@dataclass(frozen=True)
class AttendanceMark:
    assignee_id: int
    attended: bool


_WORK_DAY_SQL = """
SELECT w.id, w.kind, w.scope, w.community_code, w.building_code, w.title, w.place, w.start_time, w.end_time,
       w.on_date, w.rule, w.valid_from, w.valid_until, w.district_code, w.street_code, bg.grid_code
FROM work_day AS w
LEFT JOIN LATERAL (
    SELECT g.code AS grid_code
    FROM building AS b JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
    WHERE w.scope = 'building' AND b.code = w.building_code ORDER BY b.district_code = w.district_code DESC LIMIT 1
) AS bg ON TRUE
WHERE {where}
ORDER BY w.id
"""

_PEOPLE_SQL = """
SELECT a.work_day_id, a.id AS assignee_id, a.person_id, a.user_id, a.role, a.title, a.rotation_group,
       coalesce(p.name, u.display_name) AS name
FROM work_day_assignee AS a
LEFT JOIN person AS p ON p.id = a.person_id
LEFT JOIN app_user AS u ON u.id = a.user_id
WHERE a.work_day_id = ANY(:ids)
ORDER BY a.work_day_id, a.id
"""

_ATTENDANCE_SQL = """
SELECT work_day_id, session_date, assignee_id, attended FROM work_day_attendance
WHERE work_day_id = ANY(:ids) AND session_date BETWEEN :first AND :last
"""


def schedule_of(row: Any) -> Schedule:
    return Schedule(valid_from=row["valid_from"], valid_until=row["valid_until"], on=row["on_date"],
                    rule=parse_rule(row["rule"]), start_time=row["start_time"], end_time=row["end_time"])


def work_days(session: Session, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Work-day rows matching `where` (alias `w`), each with its assignees under "people"."""
    rows = [dict(r) for r in session.execute(text(_WORK_DAY_SQL.format(where=where)), params).mappings()]
    people: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for a in session.execute(text(_PEOPLE_SQL), {"ids": [r["id"] for r in rows]}).mappings():
            people.setdefault(a["work_day_id"], []).append(dict(a))
    for row in rows:
        row["people"] = people.get(row["id"], [])
    return rows


def sessions(rows: Sequence[dict[str, Any]], first: date, last: date,
             calendar: WorkCalendar) -> list[tuple[dict[str, Any], date, list[dict[str, Any]]]]:
    """Each (work day, date, people on duty) from `first` to `last`, the rotation applied."""
    out = []
    for row in rows:
        schedule = schedule_of(row)
        before = len(occurrences(schedule, schedule.valid_from, first - timedelta(days=1), calendar))
        for index, day in enumerate(occurrences(schedule, first, last, calendar), start=before):
            out.append((row, day, [dict(p) for p in on_duty(row["people"], index)]))
    out.sort(key=lambda s: (s[1], s[0]["start_time"] or time.min, s[0]["id"]))
    return out


def attendance_marks(session: Session, ids: list[int], first: date, last: date) -> dict[tuple[int, date, int], bool]:
    rows = session.execute(text(_ATTENDANCE_SQL), {"ids": ids, "first": first, "last": last}).mappings()
    return {(r["work_day_id"], r["session_date"], r["assignee_id"]): r["attended"] for r in rows}


# -- the roster -----------------------------------------------------------------------------------------


def roster(session: Session, actor: Actor | None, first: date, last: date,
           community: str | None = None) -> list[dict[str, Any]]:
    """Every session from `first` to `last` (of one community if given), as `actor` (None: the public) may
    see it: gis/rosters.py `shown`."""
    check_span(first, last)
    where, params = "w.valid_from <= :last AND (w.valid_until IS NULL OR w.valid_until >= :first)", {}
    if community is not None:
        where += " AND w.community_code = :community"
        params["community"] = community
    rows = work_days(session, where, {**params, "first": first, "last": last})
    if not rows:
        return []
    marks = attendance_marks(session, [r["id"] for r in rows], first, last)
    items = []
    for row, day, people in sessions(rows, first, last, load_calendar(session)):
        for p in people:
            p["attended"] = marks.get((row["id"], day, p["assignee_id"]))
        items.append(shown(_public(row, day), people,
                           sees_roster_names(actor, row["community_code"], row["grid_code"])))
    return items


def _public(row: dict[str, Any], day: date) -> dict[str, Any]:
    return {"work_day_id": row["id"], "date": day.isoformat(), "kind": row["kind"], "scope": row["scope"],
            "title": row["title"], "place": row["place"], "start_time": _time(row["start_time"]),
            "end_time": _time(row["end_time"]), "community_code": row["community_code"],
            "building_code": row["building_code"], "grid_code": row["grid_code"]}


# -- attendance -----------------------------------------------------------------------------------------


def _one(session: Session, work_day_id: int) -> dict[str, Any]:
    rows = work_days(session, "w.id = :id", {"id": work_day_id})
    if not rows:
        raise NotFound(f"no work day {work_day_id}")
    return rows[0]


def _check_session(row: dict[str, Any], day: date, calendar: WorkCalendar, field: str = "date") -> int:
    """The index of `day` among the work day's sessions; InvalidInput naming `field` when it is none of them."""
    index = session_index(schedule_of(row), day, calendar)
    if index is None:
        raise InvalidInput(f"{field} {day} is not a session of work day {row['id']}", details={"field": field})
    return index


def record_attendance(session: Session, work_day_id: int, day: date, marks: Sequence[AttendanceMark],
                      actor: Actor, *, now: datetime | None = None) -> dict[str, Any]:
    """Record who came to the session `day` of a work day (each mark replaces an earlier one); returns the
    session with its people. Managers of the place; a session today or before; assignees on duty then."""
    row = _one(session, work_day_id)
    check_record_attendance(actor, row["community_code"], row["street_code"])
    check_day("date", day)
    if day > current_day(now):
        raise InvalidInput(f"date {day} is in the future: attendance is recorded on the day or after",
                           details={"field": "date"})
    calendar = load_calendar(session)
    people = on_duty(row["people"], _check_session(row, day, calendar))
    allowed = {p["assignee_id"] for p in people}
    seen: set[int] = set()
    for number, mark in enumerate(marks):
        if mark.assignee_id not in allowed:
            raise InvalidInput(f"attendance[{number}].assignee_id {mark.assignee_id} is not on duty at work day "
                               f"{work_day_id} on {day}; on duty: {sorted(allowed)}",
                               details={"field": f"attendance[{number}].assignee_id"})
        if mark.assignee_id in seen:
            raise InvalidInput(f"attendance[{number}].assignee_id {mark.assignee_id} is given twice",
                               details={"field": f"attendance[{number}].assignee_id"})
        seen.add(mark.assignee_id)
    table = WorkDayAttendance.__table__
    for mark in marks:
        insert = pg_insert(table).values(work_day_id=work_day_id, session_date=day, assignee_id=mark.assignee_id,
                                         attended=mark.attended, recorded_by=actor.username,
                                         district_code=row["district_code"])
        session.execute(insert.on_conflict_do_update(
            index_elements=["work_day_id", "session_date", "assignee_id", "district_code"],
            set_={"attended": insert.excluded.attended, "recorded_by": insert.excluded.recorded_by,
                  "recorded_at": text("now()")}))
    (item,) = [i for i in roster(session, actor, day, day, row["community_code"]) if i["work_day_id"] == work_day_id]
    return item


# -- session tags of cases and visits ---------------------------------------------------------------------


def check_session_tag(session: Session, work_day_id: int | None, session_date: date | None, source: str,
                      now: datetime | None = None) -> None:
    """A case tagged to a session: both the work day and the date, a date that is one of its sessions and
    not in the future, and the source of that kind of session (SOURCE_OF_KIND)."""
    if work_day_id is None and session_date is None:
        return
    if work_day_id is None or session_date is None:
        raise InvalidInput("a case raised at a session gives both work_day_id and session_date",
                           details={"field": "work_day_id" if work_day_id is None else "session_date"})
    rows = work_days(session, "w.id = :id", {"id": work_day_id})
    if not rows:
        raise InvalidInput(f"work_day_id {work_day_id} is unknown", details={"field": "work_day_id"})
    check_day("session_date", session_date)
    if session_date > current_day(now):
        raise InvalidInput(f"session_date {session_date} is in the future", details={"field": "session_date"})
    _check_session(rows[0], session_date, load_calendar(session), "session_date")
    expected = SOURCE_OF_KIND[rows[0]["kind"]]
    if source != expected:
        raise InvalidInput(f"a case raised at a {rows[0]['kind']} session has source {expected}, not {source}",
                           details={"field": "source", "allowed": [expected]})


def session_for_visit(session: Session, work_day_id: int, day: date) -> tuple[date, str]:
    """The session a visit on local day `day` belongs to (gis/rosters.py `session_of`), and the source of
    the cases raised on it."""
    row = _one(session, work_day_id)
    found = session_of(schedule_of(row), day, load_calendar(session))
    if found is None:
        raise InvalidInput(f"work day {work_day_id} has no session on {day} or in the days before",
                           details={"field": "work_day_id"})
    return found, SOURCE_OF_KIND[row["kind"]]


def _time(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None
