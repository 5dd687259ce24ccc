"""The planner's page `/plan`: redraw a community's grids in the browser (issue 10, parts 2, 4 and 5).

`/plan` is the shell's base template with the editor's markup (`templates/plan.html`) and `api/static/plan/`
(ES modules): choose a community or open a plan, see its grids over the basemap and edit them with
Leaflet-Geoman (served under /vendor): draw, move vertices, snap to neighbouring edges and the community's
outline, split along a drawn line, merge two grids, undo and redo; a grid's code, name, team and branch in
the side panel. Every change is saved (a debounced `PUT /api/plans/{id}/grids`), and after each save the
checks, the balance (grids coloured by the deviation of households per worker) and the impact (buildings
and open cases that change hands) are read again from the plans API, which holds every rule.

Besides the page, three helpers the editor needs and the plans API does not answer:
  GET  /plan/areas            the communities a plan may redraw
  GET  /plan/areas/{code}     one community's outline, current teams and branches (the side panel's lists)
  POST /plan/split, /merge    the cutting tools on GEOS (`gis/plans/edit.py`): the pieces of a split share
                              exactly the drawn edge, holes and several crossings included; nothing stored.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

import shapely
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict

from api.auth import CurrentActor, cookie_session
from api.deps import AppSettings, DbSession
from api.pages import shell
from api.pages.assets import VENDOR_PACKAGES
from api.pages.i18n import messages, other_language, pick_language
from gis.errors import InvalidInput
from gis.permissions import Actor, Forbidden
from gis.plans.checks import WARNINGS
from gis.plans.edit import merge_grids, split_grid
from gis.store import plan_choices
from gis.store.plans import APPROVERS, PLANNERS

router = APIRouter(tags=["pages"])

AUTOSAVE_MS = 800  # a pause in editing this long saves the draft
HISTORY = 50  # undo steps kept
DEVIATION_STEPS = (0.1, 0.25, 0.5)  # |households per worker − target| / target: the colour classes' bounds
READERS = frozenset({"admin", "planner", "command_centre"})
LangQ = Annotated[str | None, Query(description="zh-CN (default) or en")]


def _self(language: str) -> str:
    return "/plan?lang=en" if language == "en" else "/plan"


@router.get("/plan", response_class=HTMLResponse, summary="The planner's editor of redraw plans (signs in if needed)")
def plan_page(request: Request, session: DbSession, settings: AppSettings, lang: LangQ = None) -> Response:
    language = pick_language(lang)
    if cookie_session(request, session) is None:
        query = urlencode({"lang": language, "next": _self(language)})
        return shell.no_store(RedirectResponse(f"/signin?{query}", status_code=303))
    return HTMLResponse(plan_html(language, settings.households_per_worker_target, settings.grid_households_range),
                        headers={"Cache-Control": "no-cache"})


@cache
def plan_html(language: str, target: int, households_range: tuple[int, int]) -> str:
    """The page in one language, built once per setting (it depends on nothing in the database)."""
    text = messages(language, "plan")
    leaflet_css, leaflet_js = shell.leaflet()
    geoman = VENDOR_PACKAGES["leaflet-geoman-free"]
    config = {
        "lang": language,
        "strings": text,
        "households_per_worker_target": target,
        "households_range": list(households_range),
        "deviation_steps": list(DEVIATION_STEPS),
        "autosave_ms": AUTOSAVE_MS,
        "history": HISTORY,
        "planners": sorted(PLANNERS),
        "approvers": sorted(APPROVERS),
        "warnings": sorted(kind.value for kind in WARNINGS),
        "signout_url": "/signout?" + urlencode({"next": _self(language)}),
    }
    return shell.render_page(
        "plan.html", lang=language, title=text["title"], body_class="plan", config=config,
        styles=(leaflet_css, geoman.url("leaflet-geoman.css"), shell.static_url("plan/plan.css")),
        scripts=(leaflet_js, geoman.url("leaflet-geoman.min.js")),
        modules=(shell.static_url("plan/main.js"),), text=text,
        other=_self(other_language(language)), other_name=messages(language, "language")["other"],
    )


def _check_read(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not read redraw plans")


@router.get("/plan/areas", summary="The communities a redraw plan may be made for (the planner's list)")
def areas(session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    _check_read(actor)
    return plan_choices.communities(session)


@router.get("/plan/areas/{code}", summary="A community's outline, current teams and branches (the planner's lists)")
def area(code: Annotated[str, Path(pattern=r"^\d{12}$")], session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    _check_read(actor)
    return plan_choices.area(session, code)


class SplitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grid: dict[str, Any]  # a GeoJSON Polygon or MultiPolygon
    line: dict[str, Any]  # a GeoJSON LineString


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first: dict[str, Any]
    second: dict[str, Any]


def _shape(value: dict[str, Any], what: str) -> shapely.Geometry:
    try:
        return shapely.geometry.shape(value)
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as error:
        raise InvalidInput(f"{what}: not a GeoJSON geometry ({error})") from None


def _planner(actor: Actor) -> None:
    if actor.role not in PLANNERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not make or change redraw plans")


@router.post("/plan/split", summary="The pieces of a grid cut along a line (GeoJSON; nothing is stored)")
def split(body: SplitBody, actor: CurrentActor) -> dict[str, Any]:
    _planner(actor)
    pieces = split_grid(_shape(body.grid, "grid"), _shape(body.line, "line"))
    return {"pieces": [shapely.geometry.mapping(piece) for piece in pieces]}


@router.post("/plan/merge", summary="Two neighbouring grids as one polygon (GeoJSON; nothing is stored)")
def merge(body: MergeBody, actor: CurrentActor) -> dict[str, Any]:
    _planner(actor)
    return {"geometry": shapely.geometry.mapping(merge_grids(_shape(body.first, "first"),
                                                             _shape(body.second, "second")))}
