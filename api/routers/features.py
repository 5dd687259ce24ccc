"""OGC API – Features (Part 1: core, GeoJSON, HTML, OpenAPI 3.0) at `/ogc`, for QGIS, GDAL and OWSLib.

Landing page, `/ogc/conformance`, `/ogc/api` (OpenAPI 3.0), `/ogc/collections` and per collection its
description, its items (`bbox`, `datetime`, `limit`, `offset`, property filters) and one item. The rules
(what each collection shows, the parameters) are `gis.features`; the queries `gis.store.features`; the
bodies, links and pages `api.features_format`.

**Access.** The same rules as the rest of the API (`tests/api/test_access.py`): communities and grid
outlines are public, like `/api/grids`. Buildings carry addresses and household and resident counts,
which `/api/buildings` shows only to a signed-in caller, so the `buildings` collection does too: an API
key header (`Authorization: Bearer <key>` or `X-API-Key`; QGIS sends one through an "API Header"
authentication configuration, GDAL through `GDAL_HTTP_HEADERS`) or a session cookie. Serving buildings
publicly without addresses was the other choice; it was not taken because household and resident counts
per building are just as much the district's internal data, and a second, thinner building layer would
be one more rule to keep. A caller who is not signed in is not shown the collection in `/ogc/collections`
(a client lists only layers it can read) and is answered 401 on its paths. No collection shows a person:
team members, party secretaries and reporters are in none of them.

Errors are OGC exceptions (`{"code", "description"}`): 400 for a parameter that cannot be used (named),
401, 404 for an unknown collection or feature. These routes are described by their own OpenAPI 3.0
document, not by FastAPI's (`include_in_schema=False`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from api import features_format as fmt
from api.auth import optional_actor, required_actor
from api.deps import DbSession, StoreDatabase
from api.errors import status_for
from api.features_openapi import openapi_document
from gis.errors import GridmapError, InvalidInput
from gis.features import (
    COLLECTIONS,
    Collection,
    check_parameters,
    parse_bbox,
    parse_datetime,
    parse_filters,
    parse_limit,
    parse_offset,
)
from gis.permissions import Actor, Unauthenticated
from gis.store import features as store


def exception(error: GridmapError) -> JSONResponse:
    """An OGC exception: a parameter that cannot be used is 400 (not the API's 422); other errors keep
    the status of the one table (`api.errors`)."""
    status = 400 if isinstance(error, InvalidInput) else status_for(error)
    code = {400: "InvalidParameterValue", 401: "Unauthenticated", 403: "Forbidden", 404: "NotFound"}.get(
        status, type(error).__name__)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"code": code, "description": str(error)}, status_code=status, headers=headers)


class OgcRoute(APIRoute):
    """A route whose errors (its dependencies' too) are answered as OGC exceptions."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except GridmapError as error:
                return exception(error)
            except RequestValidationError as error:
                return exception(InvalidInput("; ".join(str(e.get("msg")) for e in error.errors())))

        return answer


router = APIRouter(prefix=fmt.ROOT, tags=["ogc"], include_in_schema=False, route_class=OgcRoute)


def _answer(request: Request, kind: str, body: dict[str, Any], media_type: str = fmt.JSON, *,
            heading: str | None = None, described: Collection | None = None) -> Response:
    if fmt.wanted_format(request) == "html":
        return fmt.html_answer(request, kind, body, heading=heading, described=described)
    return fmt.json_answer(body, media_type)


def _readable(request: Request, database: StoreDatabase, collection_id: str) -> Collection:
    """The collection, after the caller's credentials if it is not public (401 without them)."""
    collection = fmt.known(collection_id)
    if not collection.public:
        required_actor(optional_actor(request, database))
    return collection


def _reader(request: Request, database: StoreDatabase) -> Actor | None:
    """Who is calling, for the list of collections: a stale cookie or a bad key reads as nobody."""
    try:
        return optional_actor(request, database)
    except Unauthenticated:
        return None


@router.get("")
@router.get("/")
def landing_page(request: Request) -> Response:
    check_parameters(list(request.query_params.multi_items()), ("f", "lang"))
    return _answer(request, "landing", fmt.landing(request))


@router.get("/conformance")
def conformance(request: Request) -> Response:
    check_parameters(list(request.query_params.multi_items()), ("f", "lang"))
    return _answer(request, "conformance", fmt.conformance(request))


@router.get("/api")
def api_definition(request: Request) -> Response:
    check_parameters(list(request.query_params.multi_items()), ("f",))
    return fmt.json_answer(openapi_document(fmt.url(request)), fmt.OPENAPI)


@router.get("/collections")
def collections(request: Request, session: DbSession, database: StoreDatabase) -> Response:
    check_parameters(list(request.query_params.multi_items()), ("f", "lang"))
    signed_in = _reader(request, database) is not None
    bodies = [fmt.collection(request, c, store.extent(session, c)) for c in COLLECTIONS.values()
              if c.public or signed_in]
    return _answer(request, "collections", fmt.collections(request, bodies))


@router.get("/collections/{collection_id}")
def collection(collection_id: str, request: Request, session: DbSession, database: StoreDatabase) -> Response:
    described = _readable(request, database, collection_id)
    check_parameters(list(request.query_params.multi_items()), ("f", "lang"))
    body = fmt.collection(request, described, store.extent(session, described))
    return _answer(request, "collection", body, heading=described.title, described=described)


@router.get("/collections/{collection_id}/items")
def items(collection_id: str, request: Request, session: DbSession, database: StoreDatabase) -> Response:
    described = _readable(request, database, collection_id)
    query = request.query_params
    filters = parse_filters(described, [(k, v) for k, v in query.multi_items() if k != "lang"])
    limit, offset = parse_limit(query.get("limit")), parse_offset(query.get("offset"))
    page = store.items(session, described, bbox=parse_bbox(query.get("bbox")),
                       days=parse_datetime(query.get("datetime")), filters=filters, limit=limit, offset=offset)
    body = fmt.items(request, described, page, limit=limit, offset=offset)
    return _answer(request, "items", body, fmt.GEOJSON, heading=described.title, described=described)


@router.get("/collections/{collection_id}/items/{feature_id}")
def item(collection_id: str, feature_id: str, request: Request, session: DbSession,
         database: StoreDatabase) -> Response:
    described = _readable(request, database, collection_id)
    check_parameters(list(request.query_params.multi_items()), ("f", "lang"))
    body = fmt.feature(request, described, store.item(session, described, feature_id))
    return _answer(request, "feature", body, fmt.GEOJSON, heading=f"{described.title}: {feature_id}",
                   described=described)
