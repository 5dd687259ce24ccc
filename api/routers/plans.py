"""Redraw plans over HTTP: make (from the current grids, a file, or a rollback), edit (the editor's
autosave), check, accept warnings, see the balance and the impact, approve, apply, discard, export.
Planners and admins make and change plans; an admin or a planner other than the author approves."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import shapely
from fastapi import APIRouter, Form, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy import text

from api.auth import CurrentActor
from api.deps import AppSettings, DbSession
from api.schemas import PlanApply, PlanCreate, PlanGridsBody, WarningAccept
from gis.errors import InvalidInput, PayloadTooLarge
from gis.permissions import Actor, Forbidden
from gis.plans.files import read_plan_file
from gis.plans.model import PlanGrid
from gis.store import plan_review as review
from gis.store import plans as store
from gis.store.vocabulary import current_day, current_sql

router = APIRouter(prefix="/api/plans", tags=["plans"])
MAX_PLAN_FILE = 50 * 1024 * 1024
PLAN_READERS = frozenset({"admin", "planner", "command_centre"})


def _check_read(actor: Actor) -> None:
    if actor.role not in PLAN_READERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not read redraw plans")


def _grids_from_geojson(body: PlanGridsBody) -> list[PlanGrid]:
    grids = []
    for number, feature in enumerate(body.features, start=1):
        properties = feature.get("properties") or {}
        code = str(properties.get("code") or "").strip()
        if not code:
            raise InvalidInput(f"feature {number} has no code")
        try:
            geometry = shapely.geometry.shape(feature["geometry"]) if feature.get("geometry") else None
        except (KeyError, TypeError, ValueError, shapely.errors.GEOSException) as error:
            raise InvalidInput(f"feature {number} ({code}): bad geometry: {error}") from None
        team, branch = properties.get("team_id"), properties.get("branch_id")
        if team is not None and not isinstance(team, int) or branch is not None and not isinstance(branch, int):
            raise InvalidInput(f"feature {number} ({code}): team_id and branch_id are whole numbers or null")
        sources = tuple(str(s) for s in properties.get("sources") or (code,))
        grids.append(PlanGrid(code, str(properties.get("name") or code), geometry, branch, team, sources))
    return grids


@router.get("", summary="Redraw plans, newest first")
def list_plans(session: DbSession, actor: CurrentActor,
               area: Annotated[str | None, Query(max_length=12)] = None) -> list[dict[str, Any]]:
    _check_read(actor)
    return store.list_plans(session, area)


@router.post("", status_code=201, summary="A draft plan for a community or street, from its current grids")
def create_plan(body: PlanCreate, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    plan_id = store.create_plan(session, body.area, body.name, actor)
    return store.plan_summary(session, plan_id)


@router.post("/import", status_code=201, summary="A draft plan from a GeoPackage, GeoJSON or zipped Shapefile")
async def import_plan(session: DbSession, actor: CurrentActor, file: UploadFile,
                      area: Annotated[str, Form(max_length=12)], name: Annotated[str, Form(max_length=200)],
                      crs: Annotated[str | None, Form(max_length=40)] = None) -> dict[str, Any]:
    store.check_may_plan(actor)
    content = await file.read(MAX_PLAN_FILE + 1)
    if len(content) > MAX_PLAN_FILE:
        raise PayloadTooLarge(f"a plan file may be at most {MAX_PLAN_FILE // 2**20} MiB")
    suffix = Path(file.filename or "plan.gpkg").suffix.lower()
    if suffix not in (".gpkg", ".geojson", ".json", ".zip"):
        raise InvalidInput(f"plan file type {suffix!r} unknown; send .gpkg, .geojson or a zipped Shapefile (.zip)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"plan{suffix}"
        path.write_bytes(content)
        grids = read_plan_file(path, declared_crs=crs, team_named=_named(session, "service_team", area),
                               branch_named=_named(session, "party_org", area))
    plan_id = store.create_plan(session, area, name, actor, grids=grids)
    return store.plan_summary(session, plan_id)


def _named(session: DbSession, table: str, area: str):  # noqa: ANN202
    column = "grid_code" if table == "service_team" else "place_code"

    def lookup(name: str) -> int | None:
        return session.execute(text(
            f"SELECT id FROM {table} AS t WHERE t.name = :name AND left(t.{column}, :n) = :area "
            f"AND {current_sql('t')} ORDER BY t.id LIMIT 1"),
            {"name": name, "n": len(area), "area": area, "on": current_day()}).scalar_one_or_none()
    return lookup


@router.get("/{plan_id}", summary="A plan with its grids (GeoJSON)")
def get_plan(plan_id: int, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    _check_read(actor)
    return store.plan_summary(session, plan_id)


@router.put("/{plan_id}/grids", summary="Replace the plan's grids (the editor's autosave); it becomes a draft")
def put_grids(plan_id: int, body: PlanGridsBody, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    store.replace_grids(session, plan_id, _grids_from_geojson(body), actor)
    return store.plan_summary(session, plan_id)


@router.get("/{plan_id}/checks", summary="What is wrong with the plan, each problem with its geometry")
def get_checks(plan_id: int, session: DbSession, actor: CurrentActor, settings: AppSettings) -> dict[str, Any]:
    _check_read(actor)
    problems = review.check(session, plan_id, settings.grid_households_range)
    return {"plan": plan_id, "errors": sum(p.severity.value == "error" for p in problems),
            "warnings": sum(p.severity.value == "warning" for p in problems),
            "problems": [p.as_dict() for p in problems]}


@router.post("/{plan_id}/check", summary="Check the plan: with no errors left it becomes checked")
def run_check(plan_id: int, session: DbSession, actor: CurrentActor, settings: AppSettings) -> dict[str, Any]:
    problems = review.check(session, plan_id, settings.grid_households_range)
    status = store.mark_checked(session, plan_id, problems, actor)
    return {"plan": plan_id, "status": status, "problems": [p.as_dict() for p in problems]}


@router.post("/{plan_id}/warnings", summary="Accept a warning with a reason")
def accept(plan_id: int, body: WarningAccept, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    store.accept_warning(session, plan_id, body.key, body.reason, actor)
    return store.plan_summary(session, plan_id)


@router.get("/{plan_id}/balance", summary="Governance load per grid of the plan")
def get_balance(plan_id: int, session: DbSession, actor: CurrentActor, settings: AppSettings) -> list[dict]:
    _check_read(actor)
    return review.plan_balance(session, plan_id, settings.households_per_worker_target)


@router.get("/{plan_id}/impact", summary="What the plan changes hands: grids before and after, buildings, cases")
def get_impact(plan_id: int, session: DbSession, actor: CurrentActor, settings: AppSettings) -> dict[str, Any]:
    _check_read(actor)
    return review.impact(session, plan_id, settings.households_per_worker_target)


@router.post("/{plan_id}/approve", summary="Approve a checked plan (not its author; nothing may block)")
def approve(plan_id: int, session: DbSession, actor: CurrentActor, settings: AppSettings) -> dict[str, Any]:
    problems = review.check(session, plan_id, settings.grid_households_range)
    store.approve(session, plan_id, problems, actor)
    return store.plan_summary(session, plan_id)


@router.post("/{plan_id}/apply", summary="Apply an approved plan on its effective date (today or later)")
def apply(plan_id: int, body: PlanApply, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    result = store.apply(session, plan_id, body.effective_date, actor)
    return {**store.plan_summary(session, plan_id), "applied": result}


@router.post("/{plan_id}/discard", summary="Discard a plan that has not been applied")
def discard(plan_id: int, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    store.discard(session, plan_id, actor)
    return store.plan_summary(session, plan_id)


@router.post("/{plan_id}/rollback", status_code=201,
             summary="A new draft restoring the grids the area had before this plan took effect")
def rollback(plan_id: int, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return store.plan_summary(session, store.rollback_plan(session, plan_id, actor))


EXPORT_MEDIA = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json"}
_EXPORT_RESPONSES = {200: {"content": {media: {} for media in EXPORT_MEDIA.values()}}}


@router.get("/{plan_id}/export.{fmt}", summary="The plan's grids as GeoPackage or GeoJSON, with balance figures",
            responses=_EXPORT_RESPONSES)
def export(plan_id: int, fmt: str, session: DbSession, actor: CurrentActor, settings: AppSettings) -> Response:
    _check_read(actor)
    grids = store.plan_grids(session, plan_id)
    loads = review.plan_balance(session, plan_id, settings.households_per_worker_target)
    return _export_file(grids, loads, fmt, f"plan-{plan_id}")


@router.get("/current/{area}/export.{fmt}", responses=_EXPORT_RESPONSES,
            summary="A community's or street's current grids as GeoPackage or GeoJSON, with balance figures")
def export_current(area: str, fmt: str, session: DbSession, actor: CurrentActor, settings: AppSettings) -> Response:
    _check_read(actor)
    grids = review.current_grids(session, area)
    loads = review.area_balance(session, area, grids, settings.households_per_worker_target)
    return _export_file(grids, loads, fmt, f"grids-{area}")


def _export_file(grids: list[PlanGrid], balance: list[dict[str, Any]], fmt: str, name: str) -> Response:
    """The grids with codes, names, team and branch and their balance figures: the file a planner edits in
    QGIS and sends back (`POST /api/plans/import`)."""
    if fmt not in EXPORT_MEDIA:
        raise InvalidInput(f"format {fmt!r} unknown; allowed: {', '.join(EXPORT_MEDIA)}")
    loads = {x["code"]: x for x in balance}
    rows = [{"code": g.code, "name": g.name, "team_id": g.team_id, "branch_id": g.branch_id,
             **{k: loads.get(g.code, {}).get(k) for k in ("buildings", "households", "residents", "open_cases",
                                                         "workers", "households_per_worker")}} for g in grids]
    frame = gpd.GeoDataFrame(rows, geometry=[g.geometry for g in grids], crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.{fmt}"
        frame.to_file(path, layer="grids", driver="GPKG" if fmt == "gpkg" else "GeoJSON", engine="pyogrio")
        content = path.read_bytes()
    return Response(content, media_type=EXPORT_MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})
