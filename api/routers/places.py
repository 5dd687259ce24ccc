"""Grids and buildings as GeoJSON.

Public, like a community notice board: the current grids' outlines, codes and names (`/api/grids`).
Behind a key, for every role: a grid's card (its notice board: branch and secretary, the team's leader and
grid workers with their phones, household counts) and buildings (addresses, households, residents: no
personal data). The private residents who serve in a team are on the card only for those who may see them
(`gis.permissions.sees_team_members`), each such read recorded in the audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.audit import record_personal_read
from api.auth import CurrentActor
from api.deps import BBoxParam, DbSession, GridCode, Limit, Offset
from gis.errors import InvalidInput
from gis.periods import check_day
from gis.permissions import sees_team_members
from gis.store import liaisons, places

router = APIRouter(prefix="/api", tags=["places"])


def _collection(request: Request, page: places.Page, limit: int, offset: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
        "features": page.features,
        "links": [],
    }
    if offset + limit < page.matched:
        body["links"].append(
            {"rel": "next", "href": str(request.url.include_query_params(offset=offset + limit, limit=limit))}
        )
    return body


@router.get("/grids", summary="Grids current today (or on ?as_of=) as a GeoJSON FeatureCollection (public)")
def list_grids(request: Request, session: DbSession, bbox: BBoxParam, limit: Limit = 500, offset: Offset = 0,
               as_of: Annotated[date | None, Query(description="the grids valid on this day")] = None):
    if as_of is not None:
        check_day("as_of", as_of)
    page = places.list_grids(session, bbox=bbox, limit=limit, offset=offset, on=as_of)
    return _collection(request, page, limit, offset)


@router.get("/grids/{code}", summary="One grid with its party branch, service team and counts (key needed)")
def get_grid(code: GridCode, request: Request, session: DbSession, actor: CurrentActor,
             on: Annotated[date | None, Query()] = None):
    card = places.grid_detail(session, code, on=on, private_members=sees_team_members(actor, code))
    card["properties"].update(liaisons.grid_liaison(session, code, on))  # its liaisons (联络员), or the gap flag
    team = card["properties"]["team"] or {"members": []}
    record_personal_read(session, request, actor, "team_member",
                         [m["person_id"] for m in team["members"] if "person_id" in m])
    return card


@router.get("/grids/{code}/buildings", summary="Buildings of one grid (key needed)")
def grid_buildings(
    request: Request, code: GridCode, session: DbSession, actor: CurrentActor,
    limit: Limit = 1000, offset: Offset = 0,
):
    page = places.list_buildings(session, grid_code=code, limit=limit, offset=offset)
    return _collection(request, page, limit, offset)


@router.get("/buildings", summary="Buildings in a bbox, or outside every grid (key needed)")
def list_buildings(
    request: Request, session: DbSession, actor: CurrentActor, bbox: BBoxParam,
    outside: Annotated[bool, Query(description="only buildings outside every grid")] = False,
    limit: Limit = 1000, offset: Offset = 0,
):
    if bbox is None and not outside:
        raise InvalidInput("bbox is required (minLon,minLat,maxLon,maxLat), or outside=true")
    page = places.list_buildings(session, bbox=bbox, outside=outside, limit=limit, offset=offset)
    return _collection(request, page, limit, offset)
