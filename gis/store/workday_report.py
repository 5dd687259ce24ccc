"""The work-day report for a period, from the stored rows: the sessions of the work days the caller may
see (gis/store/rosters.py), their attendance, the visits and cases tagged to them (migration 0010). The
figures and their definitions are gis/workday_report.py; open and solved are the store's vocabulary
(gis/store/vocabulary.py), never a copy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.permissions import Actor, check_read_workday_report, sees_roster_names
from gis.store.measures import SATISFIED_RATINGS
from gis.store.reference import load_calendar
from gis.store.rosters import attendance_marks, sessions, work_days
from gis.store.vocabulary import CLOSED_STATUSES, OPEN_STATUSES, current_day
from gis.store.workdays import visible_sql
from gis.workday_report import CadreDuty, Counts, report
from gis.workdays import AssigneeRole, Kind, check_span
from gis.workflow import parse_enum

try:  # the outcome half of "solved" (issue 12.4); before it, every closed case was solved
    from gis.store.vocabulary import SOLVED_OUTCOME_SQL
except ImportError:  # pragma: no cover
    SOLVED_OUTCOME_SQL = "TRUE"

_VISITS_SQL = """
SELECT coalesce(sum(s.reached), 0) AS households
FROM (
    SELECT least(coalesce(sum(v.households_reached), 0), max(b.households)) AS reached
    FROM visit AS v
    JOIN building AS b ON b.id = v.building_id AND b.district_code = v.district_code
    WHERE v.work_day_id = ANY(:ids) AND v.session_date BETWEEN :first AND :last
    GROUP BY v.work_day_id, v.session_date, v.building_id
) AS s
"""

_CASES_SQL = f"""
SELECT count(*) AS raised,
       count(*) FILTER (WHERE c.status = ANY(:closed) AND {SOLVED_OUTCOME_SQL}) AS solved,
       count(*) FILTER (WHERE c.status = ANY(:open)) AS open,
       count(*) FILTER (WHERE c.satisfaction IS NOT NULL) AS evaluated,
       count(*) FILTER (WHERE c.satisfaction = ANY(:satisfied)) AS satisfied
FROM service_case AS c
WHERE c.work_day_id = ANY(:ids) AND c.session_date BETWEEN :first AND :last
"""


def workday_report(session: Session, actor: Actor, first: date, last: date, *, community: str | None = None,
                   kind: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The report over the sessions from `first` to `last` (up to today) of the work days in the caller's
    area (of one community, of one kind, if given)."""
    check_read_workday_report(actor)
    check_span(first, last)
    visible, params = visible_sql(actor, assigned=False)
    where = f"w.valid_from <= :last AND (w.valid_until IS NULL OR w.valid_until >= :first) AND {visible}"
    if community is not None:
        where += " AND w.community_code = :community"
        params["community"] = community
    if kind is not None:
        where += " AND w.kind = :kind"
        params["kind"] = parse_enum(Kind, kind, "kind").value
    end = min(last, current_day(now))
    rows = work_days(session, where, {**params, "first": first, "last": last}) if end >= first else []
    ids = [r["id"] for r in rows]
    held = sessions(rows, first, end, load_calendar(session)) if rows else []
    marks = attendance_marks(session, ids, first, end) if rows else {}
    counts = _counts(session, rows, first, end, held, marks)
    names = bool(rows) and all(sees_roster_names(actor, r["community_code"], r["grid_code"]) for r in rows)
    answer = report(counts, _duties(held, marks), show_names=names)
    return {"from": first.isoformat(), "to": last.isoformat(), "counted_to": end.isoformat(),
            "community": community, "kind": kind, **answer}


def _counts(session: Session, rows: list[dict[str, Any]], first: date, end: date, held: list,
            marks: dict) -> Counts:
    ids = [r["id"] for r in rows]
    roles = {p["assignee_id"]: p["role"] for row in rows for p in row["people"]}
    present = [key for key, came in marks.items() if came]
    params = {"ids": ids, "first": first, "last": end}
    households = session.execute(text(_VISITS_SQL), params).scalar_one() if ids else 0
    cases = session.execute(text(_CASES_SQL), {**params, "closed": list(CLOSED_STATUSES), "open": list(OPEN_STATUSES),
                                               "satisfied": SATISFIED_RATINGS}).mappings().one() if ids else {
        "raised": 0, "solved": 0, "open": 0, "evaluated": 0, "satisfied": 0}
    return Counts(
        sessions_scheduled=len(held),
        sessions_held=len({(w, d) for w, d, _ in present}),
        attendances=len(present),
        cadre_attendances=sum(1 for _, _, a in present if roles.get(a) == AssigneeRole.cadre.value),
        households_visited=int(households),
        problems_raised=cases["raised"], problems_solved=cases["solved"], problems_open=cases["open"],
        evaluated=cases["evaluated"], satisfied=cases["satisfied"],
    )


def _duties(held: list, marks: dict) -> list[CadreDuty]:
    """Each cadre on duty at each session whose attendance was recorded."""
    recorded = {(w, d) for w, d, _ in marks}
    duties = []
    for row, day, people in held:
        if (row["id"], day) not in recorded:
            continue
        for p in people:
            if p["role"] != AssigneeRole.cadre.value:
                continue
            key = f"person:{p['person_id']}" if p["person_id"] is not None else f"user:{p['user_id']}"
            duties.append(CadreDuty(key, p["name"], p["title"], marks.get((row["id"], day, p["assignee_id"])) is True))
    return duties
