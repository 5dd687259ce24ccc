"""Mapbox vector tiles of the grid layer and the open cases, for the same roles as the layers (the
browser sends the `gridmap_key` cookie). An empty tile is 204 No Content."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import AppSettings, DbSession
from api.routers.layers import Cache, LayerParams, MapReader
from gis.store import layers, tiles

router = APIRouter(prefix="/tiles", tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    summary="A vector tile: grids (coloured by ?measure=&period=) or cases (aggregated per grid below z14)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "no feature in this tile"}},
)
def tile(layer: str, z: int, x: int, y: int, session: DbSession, actor: MapReader, cache: Cache,
         query: LayerParams, settings: AppSettings) -> Response:
    tiles.check_tile(layer, z, x, y)
    version = layers.data_version(session)
    if layer == "grids":
        values = layers.grid_values(session, cache, query, version,
                                    households_per_worker_target=settings.households_per_worker_target)
        key = ("grids", version.token, *query.key, values.generated_at, z, x, y)
        body = cache.tiles.get(key, lambda: tiles.grid_tile(session, z, x, y, values))
    else:
        key = ("cases", version.token, z, x, y)
        body = cache.tiles.get(key, lambda: tiles.case_tile(session, z, x, y), layers.VALUES_MAX_AGE_SECONDS)
    headers = {"Cache-Control": "private, no-cache"}
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MVT, headers=headers)
