"""Mapbox vector tiles of the grid layer and the open cases, for the same roles as the layers (the
browser sends the `gridmap_key` cookie). An empty tile is 204 No Content."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import AppSettings, ReadSession
from api.routers.layers import Cache, LayerParams, MapReader
from gis.store import tiles

router = APIRouter(prefix="/tiles", tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    summary="A vector tile: grids (coloured by ?measure=&period=) or cases (aggregated per grid below z14)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "no feature in this tile"}},
)
def tile(layer: str, z: int, x: int, y: int, session: ReadSession, actor: MapReader, cache: Cache,
         query: LayerParams, settings: AppSettings) -> Response:
    tiles.check_tile(layer, z, x, y)
    if layer == "grids":
        body = tiles.cached_grid_tile(session, cache, query, z, x, y,
                                      households_per_worker_target=settings.households_per_worker_target)
    else:
        body = tiles.cached_case_tile(session, cache, z, x, y)
    headers = {"Cache-Control": "private, no-cache"}
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MVT, headers=headers)
