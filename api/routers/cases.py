"""The native JSON API for cases: intake, reading, workflow actions, manual routing, photos."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from api.audit import record_cases_shown
from api.auth import CurrentActor
from api.deps import CaseId, DbSession, Limit, Offset, PhotoId
from api.schemas import CaseAction, CaseCreate, CaseRoute
from gis.cases import MAX_PHOTO_BYTES, CaseInput, Photo
from gis.errors import InvalidInput, PayloadTooLarge
from gis.store import cases as store
from gis.store.reference import all_categories
from gis.store.repeats import similar_cases

router = APIRouter(prefix="/api", tags=["cases"])


def to_input(body: CaseCreate, idempotency_key: str | None) -> CaseInput:
    return CaseInput(
        source=body.source, category_code=body.category, lon=body.lon, lat=body.lat, crs=body.crs,
        description=body.description, address=body.address, reporter_name=body.reporter_name,
        reporter_contact=body.reporter_contact, idempotency_key=idempotency_key or body.idempotency_key,
        photos=tuple(p.to_photo(i) for i, p in enumerate(body.photos, start=1)),
        work_day_id=body.work_day_id, session_date=body.session_date,
    )


@router.post("/cases", status_code=201, summary="Report a case; it is routed to its grid by position")
def create_case(
    body: CaseCreate, request: Request, session: DbSession, actor: CurrentActor,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> JSONResponse:
    case_id, created = store.create_case(session, to_input(body, idempotency_key), actor)
    case = store.get_case(session, case_id, actor)
    similar = similar_cases(session, case_id, actor)  # earlier reports offered as duplicates or repeats
    record_cases_shown(session, request, actor, [case, *(item["case"] for item in similar)])
    return JSONResponse({**case, "similar": similar}, status_code=201 if created else 200,
                        headers={"Location": f"/api/cases/{case_id}"})


@router.get("/cases", summary="Cases, newest first, filtered (and limited to what the caller may see)")
def list_cases(
    request: Request, session: DbSession, actor: CurrentActor,
    grid: str | None = None, community: str | None = None, street: str | None = None,
    status: Annotated[list[str] | None, Query()] = None, category: str | None = None,
    reported_from: datetime | None = None, reported_to: datetime | None = None,
    overdue: bool | None = None, unrouted: bool | None = None,
    mine: Annotated[bool, Query(description="only the cases I reported")] = False,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    filters = store.CaseFilter(
        grid_code=grid, community_code=community, street_code=street, statuses=tuple(status or ()),
        category_code=category, reported_from=reported_from, reported_to=reported_to, overdue=overdue,
        unrouted=unrouted, created_by=actor.username if mine else None,
    )
    items, matched = store.list_cases(session, filters, actor, limit=limit, offset=offset)
    record_cases_shown(session, request, actor, items)
    return {"items": items, "numberMatched": matched, "numberReturned": len(items), "offset": offset}


@router.get("/cases/{case_id}", summary="One case")
def get_case(case_id: CaseId, request: Request, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return _shown(request, session, actor, store.get_case(session, case_id, actor))


def _shown(request: Request, session: DbSession, actor: CurrentActor, case: dict[str, Any]) -> dict[str, Any]:
    """The case as answered, its unmasked personal data recorded in the audit log."""
    record_cases_shown(session, request, actor, [case])
    return case


@router.get("/cases/{case_id}/events", summary="The case's ledger: every change, who, when, where")
def case_events(case_id: CaseId, session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    return store.case_events(session, case_id, actor)


IdempotencyKey = Annotated[str | None, Header(max_length=100, description="a retry with the same key applies once")]


@router.post("/cases/{case_id}/actions", summary="Take a workflow step (409 names the allowed ones)")
def act(case_id: CaseId, body: CaseAction, request: Request, session: DbSession, actor: CurrentActor,
        idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    store.apply_action(session, case_id, store.ActionInput(**body.model_dump(), idempotency_key=idempotency_key),
                       actor)
    return _shown(request, session, actor, store.get_case(session, case_id, actor))


@router.post("/cases/{case_id}/route", summary="Route an unrouted case to a grid by hand")
def route(case_id: CaseId, body: CaseRoute, request: Request, session: DbSession,
          actor: CurrentActor) -> dict[str, Any]:
    store.route_by_hand(session, case_id, body.grid_code, actor, note=body.note)
    return _shown(request, session, actor, store.get_case(session, case_id, actor))


@router.post("/cases/{case_id}/photos", status_code=201, summary="Attach a photo (JPEG, PNG or WebP, ≤ 5 MiB)")
async def add_photo(case_id: CaseId, file: UploadFile, session: DbSession, actor: CurrentActor,
                    idempotency_key: IdempotencyKey = None) -> JSONResponse:
    data = await file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(f"photo is larger than the {MAX_PHOTO_BYTES // 1048576} MiB limit")
    if not file.content_type:
        raise InvalidInput("photo has no content type")
    photo_id, created = store.add_photo(session, case_id, Photo(file.content_type, data), actor,
                                        idempotency_key=idempotency_key)
    return JSONResponse({"id": photo_id, "url": f"/api/cases/{case_id}/photos/{photo_id}"},
                        status_code=201 if created else 200)


@router.get("/cases/{case_id}/photos/{photo_id}", summary="A case photo")
def get_photo(case_id: CaseId, photo_id: PhotoId, session: DbSession, actor: CurrentActor) -> Response:
    photo = store.photo(session, case_id, photo_id, actor)
    return Response(photo.data, media_type=photo.content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/categories", summary="Case categories with their time limits and handling rules")
def categories(session: DbSession, lang: str = "zh-CN") -> list[dict[str, Any]]:
    return [
        {**c.as_row(), "name": c.name(lang), "limit": c.limit.describe(lang)}
        for c in all_categories(session)
    ]
