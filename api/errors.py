"""Domain errors → HTTP responses, in one table. Domain code never mentions HTTP."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from gis.errors import Conflict, GridmapError, InvalidInput, NotFound, PayloadTooLarge
from gis.permissions import Forbidden, Unauthenticated

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[GridmapError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (PayloadTooLarge, 413),
    (Conflict, 409),
    (InvalidInput, 422),
    (GridmapError, 400),
]


def status_for(error: GridmapError) -> int:
    return next(status for cls, status in STATUS_BY_ERROR if isinstance(error, cls))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GridmapError)
    async def _domain_error(request: Request, error: GridmapError) -> JSONResponse:
        status = status_for(error)
        body = {"error": type(error).__name__, "detail": str(error)}
        details = getattr(error, "details", None)
        if details:
            body["details"] = details
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'path', 'body'))}: {e['msg']}"
            for e in error.errors()
        ]
        return JSONResponse(
            {"error": "InvalidInput", "detail": "; ".join(problems), "problems": problems}, status_code=422
        )
