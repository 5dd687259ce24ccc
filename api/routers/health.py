"""Liveness and readiness: 200 while the database answers, 503 with Retry-After while it is away."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import StoreDatabase
from api.errors import database_unavailable, retry_headers
from gis.store.database import Database

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Service and database health (503 with Retry-After while the database is away)",
            responses={503: {"description": "the database is unavailable"}})
def healthz(request: Request, database: StoreDatabase) -> JSONResponse:
    try:
        with database.engine.connect() as connection:
            postgis = connection.execute(text("SELECT postgis_lib_version()")).scalar_one()
            grids = connection.execute(text("SELECT count(*) FROM grid WHERE valid_to IS NULL")).scalar_one()
    except Exception as error:
        if not database_unavailable(error):
            raise
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        body: dict[str, Any] = {"error": "ServiceUnavailable", "detail": f"the database is unreachable: {reason}",
                                "status": "unavailable", "database": "unreachable"}
        return JSONResponse(body, status_code=503, headers=retry_headers())
    # warmth (api/warmer.py): "warming" until the wall's first answers are made at start-up, then "warm"
    # (or "small": a district that needs none); absent when the app runs without its lifespan
    return JSONResponse({"status": "ok", "database": "ok", "postgis": postgis, "grids": grids,
                         "replica": _replica(database), "warmth": getattr(request.app.state, "warmth", None)})


def _replica(database: Database) -> dict[str, Any]:
    """The read replica's state; a replica that is away degrades map reads but not the service."""
    try:
        lag = database.replica_lag()
    except Exception as error:
        if not database_unavailable(error):
            raise
        return {"status": "unreachable", "detail": str(getattr(error, "orig", error)).splitlines()[0]}
    return lag if lag is not None else {"status": "none"}
