"""Work days (社区工作日 / 楼栋工作日) and household visits: scheduling, the occurrences a person may see,
recording a visit (its problems become cases), and the visit counts per grid and per person."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api.audit import record_personal_read
from api.auth import CurrentActor, MaybeActor
from api.deps import DbSession
from api.schemas import AttendanceRecord, ProblemCreate, VisitCreate, WorkDayCreate
from gis import workday_report_files as files
from gis.periods import LATEST_DAY, check_day, district_today, parse_period
from gis.store import rosters, visits
from gis.store import workdays as store
from gis.store.workday_report import workday_report
from gis.workdays import cycle_of

router = APIRouter(prefix="/api", tags=["work days"])

DEFAULT_DAYS = 31
"""Without `to`, occurrences from `from` over this many days."""


def _work_day_input(body: WorkDayCreate) -> store.WorkDayInput:
    return store.WorkDayInput(
        scope=body.scope, title=body.title, community_code=body.community_code, building_code=body.building_code,
        place=body.place, start_time=body.start_time, end_time=body.end_time, on=body.date, rule=body.rule,
        valid_from=body.valid_from, valid_until=body.valid_until, kind=body.kind,
        assignees=tuple(store.Assignee(a.person_id, a.user_id, a.role, a.title, a.rotation_group)
                        for a in body.assignees),
    )


def _visit_input(body: VisitCreate, idempotency_key: str | None) -> visits.VisitInput:
    problems = tuple(visits.Problem(p.description, p.category) if isinstance(p, ProblemCreate) else visits.Problem(p)
                     for p in body.problems)
    return visits.VisitInput(
        building_code=body.building_code, building_id=body.building_id, households_reached=body.households_reached,
        note=body.note, work_day_id=body.work_day_id, problems=problems, visited_at=body.visited_at,
        idempotency_key=idempotency_key or body.idempotency_key,
    )


@router.post("/workdays", status_code=201, summary="Schedule a work day at a community or building, with its people")
def schedule(body: WorkDayCreate, session: DbSession, actor: CurrentActor) -> JSONResponse:
    work_day_id = store.schedule_work_day(session, _work_day_input(body), actor)
    return JSONResponse(store.work_day(session, work_day_id, actor), status_code=201)


@router.get("/workdays", summary="The work days the caller may see, one item per date, from `from` to `to`")
def occurrences(
    session: DbSession, actor: CurrentActor,
    first: Annotated[date | None, Query(alias="from", description="first day (default today)")] = None,
    last: Annotated[date | None, Query(alias="to", description="last day, included (default from + 30 days)")] = None,
) -> dict[str, Any]:
    first = check_day("from", first or district_today())
    last = check_day("to", last or min(first + timedelta(days=DEFAULT_DAYS - 1), LATEST_DAY))
    items = store.list_occurrences(session, actor, first, last)
    return {"from": first.isoformat(), "to": last.isoformat(), "items": items}


ROSTER_DAYS = 7
"""Without `to`, the roster from `from` over this many days (the wall's coming week)."""

CommunityQ = Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="one community (12 digits)")]


@router.get("/workdays/roster", summary="The published roster: every session from `from` to `to`; names and "
                                         "titles only for those who see the place's team")
def roster(
    session: DbSession, actor: MaybeActor, community: CommunityQ = None,
    first: Annotated[date | None, Query(alias="from", description="first day (default today)")] = None,
    last: Annotated[date | None, Query(alias="to", description="last day, included (default from + 6 days)")] = None,
) -> dict[str, Any]:
    first = check_day("from", first or district_today())
    last = check_day("to", last or min(first + timedelta(days=ROSTER_DAYS - 1), LATEST_DAY))
    return {"from": first.isoformat(), "to": last.isoformat(),
            "items": rosters.roster(session, actor, first, last, community)}


@router.put("/workdays/{work_day_id}/sessions/{day}/attendance",
            summary="Record who came to one session (managers of the place)")
def record_attendance(work_day_id: Annotated[int, Path(ge=1, le=2**63 - 1)], day: date, body: AttendanceRecord,
                      session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    marks = [rosters.AttendanceMark(m.assignee_id, m.attended) for m in body.attendance]
    return rosters.record_attendance(session, work_day_id, day, marks, actor)


@router.get("/workdays/report", summary="The work-day report for a period: sessions, attendance, households, "
                                         "problems and satisfaction, each cadre's attendance (caller's area)")
def report(
    request: Request, session: DbSession, actor: CurrentActor,
    first: Annotated[date, Query(alias="from", description="first day")],
    last: Annotated[date, Query(alias="to", description="last day, included")],
    community: CommunityQ = None,
    kind: Annotated[str | None, Query(max_length=20, description="work_day or reception")] = None,
) -> dict[str, Any]:
    return _named_read(session, request, actor, workday_report(
        session, actor, check_day("from", first), check_day("to", last), community=community, kind=kind))


def _named_read(session: DbSession, request: Request, actor: CurrentActor, answer: dict[str, Any]) -> dict[str, Any]:
    """Cadres named in the report (those who never came: team members' names) are a personal read, audited
    as the focus households' and the cases' are."""
    record_personal_read(session, request, actor, "cadre", [c["key"] for c in answer["cadres"].get("never", [])])
    return answer


@router.get("/workdays/report.csv", summary="The work-day report as CSV (UTF-8 with BOM; zh-CN or en)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def report_csv(
    request: Request, session: DbSession, actor: CurrentActor,
    first: Annotated[date, Query(alias="from", description="first day")],
    last: Annotated[date, Query(alias="to", description="last day, included")],
    community: CommunityQ = None,
    kind: Annotated[str | None, Query(max_length=20, description="work_day or reception")] = None,
    lang: Annotated[str | None, Query(max_length=20, description="zh-CN (default) or en")] = None,
) -> Response:
    answer = _named_read(session, request, actor, workday_report(
        session, actor, check_day("from", first), check_day("to", last), community=community, kind=kind))
    name = f"workday-report-{answer['from']}-{answer['counted_to']}.csv"
    return Response(files.report_csv(answer, lang), media_type=files.CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


IdempotencyKey = Annotated[str | None, Header(max_length=100, description="a retry with the same key applies once")]


@router.post("/visits", status_code=201, summary="Record a household visit; each problem raised becomes a case")
def record_visit(body: VisitCreate, session: DbSession, actor: CurrentActor,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    visit, created = visits.record_visit(session, _visit_input(body, idempotency_key), actor)
    return JSONResponse(visit, status_code=201 if created else 200)


@router.get("/visits/summary", summary="Households visited in the cycle per grid and per person (caller's area)")
def summary(
    session: DbSession, actor: CurrentActor,
    period: Annotated[str | None, Query(description="YYYY-MM, YYYY-MM-DD..YYYY-MM-DD, 30d …; default this month")]
    = None,
) -> dict[str, Any]:
    spec = period or cycle_of(district_today())[0].strftime("%Y-%m")
    return visits.visit_summary(session, actor, parse_period(spec))
