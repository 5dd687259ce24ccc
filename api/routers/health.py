"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import DbSession

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Service and database health")
def healthz(session: DbSession) -> dict[str, object]:
    postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    grids = session.execute(text("SELECT count(*) FROM grid WHERE valid_to IS NULL")).scalar_one()
    return {"status": "ok", "postgis": postgis, "grids": grids}
