"""Repeats, duplicates and long-standing problems (issue 12.3): the similar cases offered beside a case,
merging a duplicate, linking a repeat, and the list of long-standing problems (老大难)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.audit import record_cases_shown
from api.auth import CurrentActor
from api.deps import MAX_BIGINT, CaseId, DbSession
from api.schemas import Text
from gis.store import cases as case_store
from gis.store import long_problems as problems
from gis.store import repeats as store

router = APIRouter(prefix="/api", tags=["repeats"])

ProblemId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="long-standing problem number")]
CaseIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_BIGINT)]], Field(max_length=200)]


class CaseMerge(BaseModel):
    """Merge this case, a duplicate, into the open case `into`; `message` is sent to its reporter."""

    model_config = ConfigDict(extra="forbid")

    into: int = Field(ge=1, le=MAX_BIGINT)
    message: Text = Field(max_length=2000, examples=["您反映的问题已在办理中（案件 17），将一并答复"])


class CaseRepeat(BaseModel):
    """Link this case as a repeat of the earlier case `of`."""

    model_config = ConfigDict(extra="forbid")

    of: int = Field(ge=1, le=MAX_BIGINT)
    note: Text = Field("", max_length=2000)


class LongProblemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text = Field(max_length=200)
    description: Text = Field("", max_length=4000)
    community_code: Text | None = None
    grid_code: Text | None = None
    owner_username: Text | None = Field(None, max_length=80)
    owner_department: Text | None = Field(None, max_length=100)
    review_on: date
    status: Text = "open"
    case_ids: CaseIds = []


class LongProblemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text | None = Field(None, max_length=200)
    description: Text | None = Field(None, max_length=4000)
    owner_username: Text | None = Field(None, max_length=80)
    owner_department: Text | None = Field(None, max_length=100)
    review_on: date | None = None
    status: Text | None = None
    add_case_ids: CaseIds = []
    remove_case_ids: CaseIds = []


@router.get("/cases/{case_id}/similar", summary="Earlier cases offered as duplicates (open) or repeats (closed)")
def similar(case_id: CaseId, request: Request, session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    found = store.similar_cases(session, case_id, actor)
    record_cases_shown(session, request, actor, [item["case"] for item in found])
    return found


@router.post("/cases/{case_id}/merge", summary="Merge a duplicate into an open case; its reporter is told")
def merge(case_id: CaseId, body: CaseMerge, request: Request, session: DbSession,
          actor: CurrentActor) -> dict[str, Any]:
    store.merge_case(session, case_id, body.into, body.message, actor)
    case = case_store.get_case(session, case_id, actor)
    record_cases_shown(session, request, actor, [case])
    return case


@router.post("/cases/{case_id}/repeat-of", summary="Link a case as a repeat of an earlier one")
def repeat_of(case_id: CaseId, body: CaseRepeat, request: Request, session: DbSession,
              actor: CurrentActor) -> dict[str, Any]:
    store.link_repeat(session, case_id, body.of, body.note, actor)
    case = case_store.get_case(session, case_id, actor)
    record_cases_shown(session, request, actor, [case])
    return case


@router.get("/long-problems", summary="Long-standing problems (老大难) in the caller's area, overdue reviews first")
def list_problems(session: DbSession, actor: CurrentActor, community: str | None = None,
                  status: str | None = None) -> dict[str, Any]:
    items = problems.list_long_problems(session, actor, community_code=community, status=status)
    return {"items": items, "numberReturned": len(items)}


@router.post("/long-problems", status_code=201, summary="Add a long-standing problem with its owner and review date")
def add_problem(body: LongProblemCreate, session: DbSession, actor: CurrentActor) -> JSONResponse:
    problem_id = problems.add_long_problem(session, problems.LongProblemInput(
        **body.model_dump(exclude={"case_ids"}), case_ids=tuple(body.case_ids)), actor)
    return JSONResponse(problems.get_long_problem(session, problem_id, actor), status_code=201,
                        headers={"Location": f"/api/long-problems/{problem_id}"})


@router.get("/long-problems/{problem_id}", summary="One long-standing problem")
def get_problem(problem_id: ProblemId, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return problems.get_long_problem(session, problem_id, actor)


@router.patch("/long-problems/{problem_id}", summary="Change a long-standing problem; link or unlink cases")
def update_problem(problem_id: ProblemId, body: LongProblemUpdate, session: DbSession,
                   actor: CurrentActor) -> dict[str, Any]:
    problems.update_long_problem(session, problem_id, problems.LongProblemPatch(
        **body.model_dump(exclude={"add_case_ids", "remove_case_ids"}), add_case_ids=tuple(body.add_case_ids),
        remove_case_ids=tuple(body.remove_case_ids)), actor)
    return problems.get_long_problem(session, problem_id, actor)
