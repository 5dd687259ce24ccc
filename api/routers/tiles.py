"""Mapbox vector tiles of the grid layer and the open cases, for the same roles as the layers (the
browser sends the `gridmap_key` cookie). An empty tile is 204 No Content. Beside them, the wall's measure
table (`gis.store.tile_classes`): the class and value of every wall measure per grid, so a wall drawing
tiles restyles them by code without fetching them again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import AppSettings, ReadSession
from api.routers.layers import Cache, Lang, LayerParams, MapReader, json_bytes
from gis.periods import DEFAULT_PERIOD, FORMS, parse_period
from gis.store import tile_classes, tiles

router = APIRouter(prefix="/tiles", tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"


@router.get("/grids/classes.json",
            summary="The wall's measure table: class and value of every wall measure per grid (?since= for changes)")
def grid_classes(
    request: Request, session: ReadSession, actor: MapReader, cache: Cache, settings: AppSettings,
    period: Annotated[str, Query(description=f"one of {', '.join(FORMS)}")] = DEFAULT_PERIOD,
    since: Annotated[str | None, Query(max_length=80, description="the stamp of the table held: only "
                                                                 "the grids changed since are sent")] = None,
    lang: Lang = None,
) -> Response:
    checked = parse_period(period)
    target = settings.households_per_worker_target
    table = tile_classes.class_table(session, cache, checked, households_per_worker_target=target)
    body = tile_classes.table_body(cache, table, checked, since=since, language=lang or settings.default_language,
                                   households_per_worker_target=target)
    return json_bytes(request, body)


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    summary="A vector tile: grids (coloured by ?measure=&period=) or cases (aggregated per grid below z14)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "no feature in this tile"}},
)
def tile(layer: str, z: int, x: int, y: int, session: ReadSession, actor: MapReader, cache: Cache,
         query: LayerParams, settings: AppSettings,
         values: Annotated[bool, Query(description="grids: false for shapes with code and name only (no "
                                                   "measure), coloured by the client (the wall's table)")] = True,
         ) -> Response:
    tiles.check_tile(layer, z, x, y)
    if layer == "grids" and not values:
        body = tiles.cached_shapes_tile(session, cache, z, x, y, query.as_of)
    elif layer == "grids":
        body = tiles.cached_grid_tile(session, cache, query, z, x, y,
                                      households_per_worker_target=settings.households_per_worker_target)
    else:
        body = tiles.cached_case_tile(session, cache, z, x, y)
    headers = {"Cache-Control": "private, no-cache"}
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MVT, headers=headers)
