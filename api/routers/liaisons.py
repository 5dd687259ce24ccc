"""Liaisons (联络员, 分片包干): assigning a cadre to grids or communities for dated spans, the assignments
and the grids without a liaison on a day (each in the caller's area). The rules are gis/liaisons.py and
gis/permissions.py `check_assign_liaison`; a grid's card (`/api/grids/{code}`) names its liaisons too."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import CurrentActor
from api.deps import MAX_BIGINT, DbSession
from gis.periods import check_day, district_today
from gis.store import liaisons as store

router = APIRouter(prefix="/api", tags=["liaisons"])


class LiaisonCreate(BaseModel):
    """An assignment: a cadre (person or account) over grids or communities, from one day to another."""

    model_config = ConfigDict(extra="forbid")

    person_id: int | None = Field(None, ge=1, le=2**31 - 1)
    user_id: int | None = Field(None, ge=1, le=2**31 - 1)
    scope: str = Field(description="grid or community")
    codes: list[str] = Field(description="15-digit grid codes or 12-digit community codes", max_length=500)
    from_date: date
    to_date: date | None = Field(None, description="the last day, included; none: open-ended")
    note: str = Field("", max_length=1000)


class LiaisonEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_date: date = Field(description="the assignment's last day, included")


OnDay = Annotated[date | None, Query(description="the day (default today, the district's)")]
LiaisonId = Annotated[int, Path(ge=1, le=MAX_BIGINT)]


def _day(on: date | None) -> date:
    return check_day("on", on) if on is not None else district_today()


@router.post("/liaisons", status_code=201, summary="Assign a liaison (联络员) to grids or communities")
def assign(body: LiaisonCreate, session: DbSession, actor: CurrentActor) -> JSONResponse:
    liaison_id = store.assign(session, store.LiaisonInput(
        scope=body.scope, codes=tuple(body.codes), from_date=body.from_date, to_date=body.to_date,
        person_id=body.person_id, user_id=body.user_id, note=body.note), actor)
    created = next(i for i in store.list_assignments(session, actor, body.from_date) if i["id"] == liaison_id)
    return JSONResponse(created, status_code=201)


@router.post("/liaisons/{liaison_id}/end", summary="End a liaison's assignment on a day (its last)")
def end(liaison_id: LiaisonId, body: LiaisonEnd, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    store.end_assignment(session, liaison_id, body.to_date, actor)
    return {"id": liaison_id, "to_date": body.to_date.isoformat()}


@router.get("/liaisons", summary="Liaison assignments active on a day, in the caller's area")
def assignments(session: DbSession, actor: CurrentActor, on: OnDay = None) -> dict[str, Any]:
    day = _day(on)
    return {"on": day.isoformat(), "items": store.list_assignments(session, actor, day)}


@router.get("/liaisons/gaps", summary="Grids without a liaison on a day, in the caller's area")
def gaps(session: DbSession, actor: CurrentActor, on: OnDay = None) -> dict[str, Any]:
    day = _day(on)
    return {"on": day.isoformat(), "grids": store.gaps(session, actor, day)}
