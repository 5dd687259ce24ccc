"""Party organisation strength, commitments, evaluations and the 双公开 report (issue 12, parts 5 and 6):
thin handlers over gis/store/party.py, commitments.py, evaluations.py and open_report.py. Who may read and
change what: gis/permissions.py (`check_read_party`, `check_edit_party`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response, UploadFile
from fastapi.responses import JSONResponse

from api.auth import CurrentActor
from api.deps import MAX_BIGINT, DbSession, GridCode
from api.pages.i18n import messages, pick_language
from api.party_schemas import (
    CommitmentCreate,
    CommitmentUpdate,
    EvaluationCreate,
    GradeCreate,
    MemberCreate,
    PairingCreate,
)
from gis.open_report import XLSX_MEDIA_TYPE, build_workbook
from gis.party import parse_evaluation
from gis.periods import check_day, district_today
from gis.permissions import check_read_party
from gis.store import commitments as commitment_store
from gis.store import evaluations as evaluation_store
from gis.store import open_report as report_store
from gis.store import party as store
from gis.tables import MAX_BYTES, read_table

router = APIRouter(prefix="/api", tags=["party and commitments"])

BranchId = Annotated[int, Path(ge=1, le=2**31 - 1, description="party organisation id")]
CommitmentId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="commitment id")]
DayQ = Annotated[date | None, Query(description="the day (default today, Asia/Shanghai)")]
PlaceQ = Annotated[str | None, Query(max_length=15, pattern=r"^\d{6,15}$",
                                     description="a street, community or grid code to narrow to")]
HalfQ = Annotated[str, Query(max_length=6, description="YYYYH1 or YYYYH2", examples=["2026H1"])]
GridQ = Annotated[str | None, Query(description="15-digit grid code")]
CommunityQ = Annotated[str | None, Query(description="12-digit community code")]


def _day(day: date | None) -> date:
    return check_day("day", day) if day is not None else district_today()


def _read(file: UploadFile) -> list[dict[str, str]]:
    return read_table(file.filename or "", file.file.read(MAX_BYTES + 1))


# -- party strength ---------------------------------------------------------------------------------


@router.post("/party/members", status_code=201, summary="Record a party member in a branch (the answer names nobody)")
def add_member(body: MemberCreate, session: DbSession, actor: CurrentActor) -> JSONResponse:
    data = store.MemberInput(body.person_name, body.phone, body.person_id, body.branch_id, body.building_code,
                             body.from_date, body.to_date)
    return JSONResponse(store.add_member(session, data, actor, district_today()), status_code=201)


@router.post("/party/members/import", summary="Import party members from CSV or Excel: every row or none")
def import_members(file: UploadFile, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return store.import_members(session, _read(file), actor, district_today())


@router.get("/party/branches", summary="Branches in the caller's area: members, seconded-branch flag, grade, pairings")
def branches(session: DbSession, actor: CurrentActor, place: PlaceQ = None, day: DayQ = None) -> dict[str, Any]:
    on = _day(day)
    return {"day": on.isoformat(), "items": store.list_branches(session, actor, on, place)}


@router.get("/party/grids/{code}", summary="Party members and central households of a grid, per building")
def grid_strength(code: GridCode, session: DbSession, actor: CurrentActor, day: DayQ = None) -> dict[str, Any]:
    return store.grid_strength(session, code, actor, _day(day))


@router.get("/party/branches/{branch_id}/grades", summary="A branch's grade history and its grade on a day")
def grades(branch_id: BranchId, session: DbSession, actor: CurrentActor, day: DayQ = None) -> dict[str, Any]:
    return store.grade_history(session, branch_id, actor, _day(day))


@router.post("/party/branches/{branch_id}/grades", status_code=201, summary="Grade a branch (先进/一般/后进) on a day")
def add_grade(branch_id: BranchId, body: GradeCreate, session: DbSession, actor: CurrentActor) -> JSONResponse:
    answer = store.add_grade(session, branch_id, body.grade, body.graded_on, body.note, actor, district_today())
    return JSONResponse(answer, status_code=201)


@router.post("/party/pairings", status_code=201, summary="Pair a weak (后进) branch with an advanced (先进) one")
def pair(body: PairingCreate, session: DbSession, actor: CurrentActor) -> JSONResponse:
    today = district_today()
    answer = store.pair(session, body.weak_branch_id, body.strong_branch_id, body.from_date or today, actor, today)
    return JSONResponse(answer, status_code=201)


# -- commitments ------------------------------------------------------------------------------------


@router.get("/commitments", summary="Commitments in the caller's area, by due date")
def list_commitments(session: DbSession, actor: CurrentActor, place: PlaceQ = None,
                     status: Annotated[str | None, Query(max_length=20)] = None) -> dict[str, Any]:
    return {"items": commitment_store.list_commitments(session, actor, place, status)}


@router.post("/commitments", status_code=201, summary="Make a commitment of a branch, team or member")
def create_commitment(body: CommitmentCreate, session: DbSession, actor: CurrentActor) -> JSONResponse:
    data = commitment_store.CommitmentInput(
        holder_kind=body.holder_kind, title=body.title, due_on=body.due_on, branch_id=body.branch_id,
        team_id=body.team_id, membership_id=body.membership_id, made_on=body.made_on, evidence=body.evidence,
        public=body.public)
    return JSONResponse(commitment_store.create(session, data, actor, district_today()), status_code=201)


@router.get("/commitments/{commitment_id}", summary="One commitment")
def get_commitment(commitment_id: CommitmentId, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return commitment_store.get(session, commitment_id, actor)


@router.patch("/commitments/{commitment_id}", summary="Change a commitment's status (promised → in progress → "
              "kept / not kept), evidence, title, due date or publicity")
def update_commitment(commitment_id: CommitmentId, body: CommitmentUpdate, session: DbSession,
                      actor: CurrentActor) -> dict[str, Any]:
    return commitment_store.update(session, commitment_id, actor, status=body.status, evidence=body.evidence,
                                   title=body.title, due_on=body.due_on, public=body.public)


@router.delete("/commitments/{commitment_id}", status_code=204, summary="Delete a commitment")
def delete_commitment(commitment_id: CommitmentId, session: DbSession, actor: CurrentActor) -> Response:
    commitment_store.delete(session, commitment_id, actor)
    return Response(status_code=204)


# -- evaluations ------------------------------------------------------------------------------------


@router.get("/evaluations", summary="Yearly evaluation scores (述职测评) in the caller's area")
def list_evaluations(session: DbSession, actor: CurrentActor, place: PlaceQ = None,
                     year: Annotated[int | None, Query(ge=1990, le=2999)] = None) -> dict[str, Any]:
    return {"items": evaluation_store.list_evaluations(session, actor, place, year)}


@router.post("/evaluations", status_code=201, summary="Enter one yearly evaluation score of a grid or branch")
def add_evaluation(body: EvaluationCreate, session: DbSession, actor: CurrentActor) -> JSONResponse:
    row = parse_evaluation(body.model_dump())
    (saved,) = evaluation_store.save(session, [row], actor, district_today(), "entered")
    return JSONResponse(saved, status_code=201)


@router.post("/evaluations/import", summary="Import evaluation scores from CSV or Excel: every row or none")
def import_evaluations(file: UploadFile, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return evaluation_store.import_file(session, _read(file), actor, district_today())


# -- the 双公开 report --------------------------------------------------------------------------------


def _report(session: DbSession, actor: CurrentActor, grid: str | None, community: str | None,
            half: str) -> dict[str, Any]:
    scope = report_store.report_scope(grid, community)
    check_read_party(actor, scope.code)
    return report_store.open_report(session, actor, scope, half)


@router.get("/open-report", summary="The half-yearly report to residents' representatives (双公开) of a grid or "
            "community")
def open_report(session: DbSession, actor: CurrentActor, half: HalfQ, grid: GridQ = None,
                community: CommunityQ = None) -> dict[str, Any]:
    return _report(session, actor, grid, community, half)


@router.get("/open-report.xlsx", summary="The 双公开 report as an Excel workbook (A4)",
            response_class=Response, responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
def open_report_xlsx(session: DbSession, actor: CurrentActor, half: HalfQ, grid: GridQ = None,
                     community: CommunityQ = None,
                     lang: Annotated[str | None, Query(description="zh-CN (default) or en")] = None) -> Response:
    report = _report(session, actor, grid, community, half)
    language = pick_language(lang)
    content = build_workbook(report, messages(language, "open_report"))
    name = f"{report['scope']['code']}_{report['half']}.xlsx"
    return Response(content, media_type=XLSX_MEDIA_TYPE, headers={
        "Content-Disposition": f"attachment; filename=\"open_report_{name}\"; "
                               f"filename*=UTF-8''{quote('双公开_' + name)}"})
