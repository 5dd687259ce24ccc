"""Map layers for the wall and the command centre: grids coloured by a measure, legend, summary, overdue
cases, coverage gaps and the data version. Readable by admin, command_centre and planner."""

from __future__ import annotations

import gzip
import threading
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response

from api.auth import CurrentActor
from api.deps import AppSettings, ReadSession
from gis.periods import DEFAULT_PERIOD, FORMS, parse_period
from gis.permissions import Actor, check_read_layers
from gis.store import layers

router = APIRouter(prefix="/api/layers", tags=["layers"])

GEOJSON = "application/geo+json"
GZIP_FROM_BYTES = 2048


async def map_reader(actor: CurrentActor) -> Actor:
    """The caller, if their role may read the map layers (and tiles)."""
    check_read_layers(actor)
    return actor


def app_layer_cache(app: FastAPI) -> layers.LayerCache:
    """One cache per application (so per database), made on first use (a request or the warmer)."""
    with _CACHE_LOCK:
        cache = getattr(app.state, "layer_cache", None)
        if cache is None:
            cache = app.state.layer_cache = layers.LayerCache(sessions=app.state.database.read_session)
    return cache


_CACHE_LOCK = threading.Lock()


async def layer_cache(request: Request) -> layers.LayerCache:
    return app_layer_cache(request.app)


async def layer_query(
    measure: Annotated[str, Query(description="a key of GET /api/layers/measures")] = "open_cases",
    period: Annotated[str, Query(description=f"one of {', '.join(FORMS)}")] = DEFAULT_PERIOD,
    classify: Annotated[str, Query(description="fixed (the measure's thresholds) or quantile")] = "fixed",
    classes: Annotated[int, Query(description="number of quantile classes, 2 to 7")] = 5,
    as_of: Annotated[date | None, Query(description="draw the grids valid on this day (default today); a past "
                                                    "day also counts the cases as they stood at its end")] = None,
) -> layers.LayerQuery:
    return layers.layer_query(measure, parse_period(period), classify, classes, as_of)


MapReader = Annotated[Actor, Depends(map_reader)]
Cache = Annotated[layers.LayerCache, Depends(layer_cache)]
LayerParams = Annotated[layers.LayerQuery, Depends(layer_query)]
Lang = Annotated[str | None, Query(description="zh-CN (default) or en")]


def _lang(lang: str | None, settings: AppSettings) -> str:
    return lang or settings.default_language


def json_bytes(
    request: Request, body: bytes | layers.LayerBody, media_type: str = "application/json"
) -> Response:
    """Prebuilt JSON, gzipped when the client accepts it and it is worth it."""
    headers = {"Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}
    raw = body.raw if isinstance(body, layers.LayerBody) else body
    if len(raw) >= GZIP_FROM_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        raw = body.gzipped if isinstance(body, layers.LayerBody) else gzip.compress(raw, layers.GZIP_LEVEL)
    return Response(raw, media_type=media_type, headers=headers)


@router.get("/measures", summary="Measures the map can be coloured by")
def measures(actor: MapReader, settings: AppSettings, lang: Lang = None) -> list[dict[str, Any]]:
    return layers.measure_list(_lang(lang, settings))


@router.get("/grids", summary="Current grids coloured by a measure (GeoJSON with legend and version)",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def grids(
    request: Request, session: ReadSession, actor: MapReader, cache: Cache, query: LayerParams,
    settings: AppSettings, lang: Lang = None,
    geometry: Annotated[bool, Query(description="false: properties only (geometry null)")] = True,
) -> Response:
    body = layers.grid_layer(session, cache, query, language=_lang(lang, settings), geometry=geometry,
                             households_per_worker_target=settings.households_per_worker_target)
    return json_bytes(request, body, GEOJSON)


@router.get("/legend", summary="The legend of the grid layer for the same parameters")
def legend(session: ReadSession, actor: MapReader, cache: Cache, query: LayerParams, settings: AppSettings,
           lang: Lang = None) -> dict[str, Any]:
    language = _lang(lang, settings)
    values = layers.grid_values(session, cache, query, layers.data_version(session),
                                households_per_worker_target=settings.households_per_worker_target)
    return {"measure": layers.measure_json(query.spec, language),
            "period": query.period.as_json(language), "classify": query.classify,
            "legend": values.legend(language), "version": values.version.token}


@router.get("/summary", summary="District figures and the ten worst grids on a measure")
def summary(session: ReadSession, actor: MapReader, cache: Cache, query: LayerParams, settings: AppSettings,
            lang: Lang = None) -> dict[str, Any]:
    return layers.summary(session, cache, query, language=_lang(lang, settings),
                          households_per_worker_target=settings.households_per_worker_target)


@router.get("/overdue", summary="Open cases past their deadline, as GeoJSON points",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def overdue(request: Request, session: ReadSession, actor: MapReader, cache: Cache, settings: AppSettings,
            lang: Lang = None) -> Response:
    return json_bytes(request, layers.overdue(session, cache, language=_lang(lang, settings)), GEOJSON)


@router.get("/coverage", summary="Coverage gaps: uncovered land, overlaps, buildings and cases outside grids",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def coverage(request: Request, session: ReadSession, actor: MapReader, cache: Cache) -> Response:
    return json_bytes(request, layers.coverage(session, cache), GEOJSON)


@router.get("/version", summary="An opaque string that changes whenever a case, grid or team changes")
def version(request: Request, session: ReadSession, actor: MapReader, response: Response) -> dict[str, Any]:
    """With a read replica, also how far behind it is (`replica_lag_seconds`), which the wall shows."""
    response.headers["Cache-Control"] = "no-store"
    answer: dict[str, Any] = {"version": layers.data_version(session).token,
                              "generated_at": datetime.now(UTC).isoformat()}
    lag = request.app.state.database.replica_lag()
    if lag is not None:
        answer["replica_lag_seconds"] = lag["lag_seconds"]
    return answer
