"""Domain errors → HTTP responses, in one table. Domain code never mentions HTTP."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa
from starlette.exceptions import HTTPException

from api.throttle import TooManyAttempts
from gis.errors import Conflict, GridmapError, InvalidInput, NotFound, PayloadTooLarge
from gis.permissions import Forbidden, Unauthenticated

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[GridmapError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (PayloadTooLarge, 413),
    (TooManyAttempts, 429),
    (Conflict, 409),
    (InvalidInput, 422),
    (GridmapError, 400),
]


RETRY_AFTER_SECONDS = 5
"""What a client is told to wait while the database is away (the pool reconnects by itself)."""

DATABASE_AWAY = "the database is unavailable for the moment; nothing was changed, retry in a few seconds"


def status_for(error: GridmapError) -> int:
    return next(status for cls, status in STATUS_BY_ERROR if isinstance(error, cls))


def database_unavailable(error: BaseException) -> bool:
    """A lost or refused connection (or a pool with none free): a passing condition, answered 503."""
    if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.TimeoutError):
        return True
    return isinstance(error, sa.DBAPIError) and error.connection_invalidated


def retry_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GridmapError)
    async def _domain_error(request: Request, error: GridmapError) -> JSONResponse:
        status = status_for(error)
        body = {"error": type(error).__name__, "detail": str(error)}
        details = getattr(error, "details", None)
        if details:
            body["details"] = details
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(error, TooManyAttempts):
            headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
        """Errors the framework raises itself (unparseable body, unknown path, wrong method): same shape."""
        name = HTTPStatus(error.status_code).phrase.replace(" ", "").replace("-", "")
        return JSONResponse({"error": name, "detail": str(error.detail)}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(sa.DBAPIError)
    @app.exception_handler(sa.TimeoutError)
    async def _database_error(request: Request, error: Exception) -> JSONResponse:
        if database_unavailable(error):
            log.warning("database unavailable during %s %s: %s", request.method, request.url.path,
                        str(error).splitlines()[0] if str(error) else type(error).__name__)
            return JSONResponse({"error": "ServiceUnavailable", "detail": DATABASE_AWAY}, status_code=503,
                                headers=retry_headers())
        if isinstance(error, sa.DataError):  # a value the database refused that no check caught: still input
            detail = str(getattr(error, "orig", error)).splitlines()[0]
            return JSONResponse({"error": "InvalidInput", "detail": f"the database refused a value: {detail}"},
                                status_code=422)
        raise error

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'path', 'body'))}: {e['msg']}"
            for e in error.errors()
        ]
        return JSONResponse(
            {"error": "InvalidInput", "detail": "; ".join(problems), "problems": problems}, status_code=422
        )
