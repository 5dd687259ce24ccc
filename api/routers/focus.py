"""Focus households (关爱对象): the register per building, pairing with helpers (结对帮扶), visits, the list by
name (overdue first) for those who keep it and the counts per grid for the area's other readers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.audit import record_personal_read
from api.auth import CurrentActor
from api.deps import DbSession
from api.schemas import Text
from gis.store import focus as store
from gis.store import focus_reads as reads

router = APIRouter(prefix="/api/focus", tags=["focus households"])

HouseholdId = Annotated[int, Path(ge=1, le=2**63 - 1, description="focus household number")]


class FocusHelper(BaseModel):
    """A party member or volunteer: a person id (of the team records) or a name."""

    model_config = ConfigDict(extra="forbid")

    person_id: int | None = Field(None, ge=1, le=2**31 - 1)
    name: Text | None = Field(None, max_length=100)


class FocusHouseholdCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    building_code: Text | None = Field(None, max_length=40, examples=["B-WEST"])
    building_id: int | None = Field(None, ge=1, le=2**63 - 1)
    household: Text = Field(max_length=40, description="door label", examples=["2-3-1"])
    person_name: Text = Field(max_length=100)
    phone: Text | None = Field(None, max_length=40)
    category: Text = Field(examples=["lonely_elderly"])
    cycle_days: int | None = Field(None, description="its own visit cycle; default its category's")
    helper: FocusHelper | None = None
    paired_from: date | None = None
    valid_from: date | None = None
    note: Text = Field("", max_length=4000)


class FocusHouseholdUpdate(BaseModel):
    """The fields to change; `cycle_days` null goes back to the category's cycle."""

    model_config = ConfigDict(extra="forbid")

    household: Text | None = Field(None, max_length=40)
    person_name: Text | None = Field(None, max_length=100)
    phone: Text | None = Field(None, max_length=40)
    category: Text | None = None
    cycle_days: int | None = None
    note: Text | None = Field(None, max_length=4000)


class FocusPairing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    helper: FocusHelper
    on: date | None = Field(None, description="first day of the pairing (default today)")


class FocusEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: date | None = Field(None, description="the day it ends (default today)")
    reason: Text = Field("", max_length=4000)


class FocusVisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visited_at: datetime | None = Field(None, description="when (a visit queued offline); default now")
    note: Text = Field("", max_length=4000)
    idempotency_key: Text | None = Field(None, max_length=100)


def _helper(body: FocusHelper | None) -> store.Helper | None:
    return None if body is None else store.Helper(body.person_id, body.name)


def _shown(session: DbSession, request: Request, actor: CurrentActor, household_id: int) -> dict[str, Any]:
    household = reads.read_household(session, household_id, actor)
    record_personal_read(session, request, actor, "focus_household", [household_id])
    return household


@router.post("/households", status_code=201, summary="Put a household of a building on the focus register")
def create(body: FocusHouseholdCreate, request: Request, session: DbSession, actor: CurrentActor) -> JSONResponse:
    household_id = store.create_household(session, store.HouseholdInput(
        household=body.household, person_name=body.person_name, category=body.category,
        building_code=body.building_code, building_id=body.building_id, phone=body.phone,
        cycle_days=body.cycle_days, helper=_helper(body.helper), paired_from=body.paired_from,
        valid_from=body.valid_from, note=body.note), actor)
    return JSONResponse(_shown(session, request, actor, household_id), status_code=201,
                        headers={"Location": f"/api/focus/households/{household_id}"})


@router.get("/households", summary="Focus households by name in the caller's area: overdue first, then unpaired")
def households(
    request: Request, session: DbSession, actor: CurrentActor,
    grid: Annotated[str | None, Query(max_length=15, description="one grid's code")] = None,
    building: Annotated[str | None, Query(max_length=40, description="one building's code")] = None,
    gaps: Annotated[bool, Query(description="only the overdue and unpaired")] = False,
    include_ended: Annotated[bool, Query(description="also those no longer on the register")] = False,
) -> dict[str, Any]:
    items = reads.list_households(session, actor, grid=grid, building=building, gaps_only=gaps,
                                  include_ended=include_ended)
    record_personal_read(session, request, actor, "focus_household", [i["id"] for i in items])
    return {"items": items}


@router.get("/households/{household_id}", summary="One focus household (its keepers only)")
def household(household_id: HouseholdId, request: Request, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return _shown(session, request, actor, household_id)


@router.patch("/households/{household_id}", summary="Change a focus household's door, person, category, cycle, note")
def update(household_id: HouseholdId, body: FocusHouseholdUpdate, request: Request, session: DbSession,
           actor: CurrentActor) -> dict[str, Any]:
    store.update_household(session, household_id, body.model_dump(exclude_unset=True), actor)
    return _shown(session, request, actor, household_id)


@router.post("/households/{household_id}/end", summary="Take a household off the focus register")
def end(household_id: HouseholdId, body: FocusEnd, request: Request, session: DbSession,
        actor: CurrentActor) -> dict[str, Any]:
    store.end_household(session, household_id, actor, on=body.on, reason=body.reason)
    return _shown(session, request, actor, household_id)


@router.post("/households/{household_id}/pair", summary="Pair a helper (结对帮扶) with a focus household")
def pair(household_id: HouseholdId, body: FocusPairing, request: Request, session: DbSession,
         actor: CurrentActor) -> dict[str, Any]:
    store.pair(session, household_id, _helper(body.helper), actor, on=body.on)  # type: ignore[arg-type]
    return _shown(session, request, actor, household_id)


@router.post("/households/{household_id}/unpair", summary="End a focus household's pairing")
def unpair(household_id: HouseholdId, body: FocusEnd, request: Request, session: DbSession,
           actor: CurrentActor) -> dict[str, Any]:
    store.unpair(session, household_id, actor, on=body.on)
    return _shown(session, request, actor, household_id)


@router.post("/households/{household_id}/visits", status_code=201, summary="Record a visit to a focus household")
def visit(household_id: HouseholdId, body: FocusVisitCreate, request: Request, session: DbSession,
          actor: CurrentActor,
          idempotency_key: Annotated[str | None, Header(max_length=100)] = None) -> JSONResponse:
    visit_id, created = store.record_focus_visit(
        session, household_id, actor, visited_at=body.visited_at, note=body.note,
        idempotency_key=idempotency_key or body.idempotency_key)
    return JSONResponse({"visit_id": visit_id, "household": _shown(session, request, actor, household_id)},
                        status_code=201 if created else 200)


@router.get("/summary", summary="Focus households per grid of the caller's area: counts only, no names")
def summary(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return reads.summary(session, actor)
