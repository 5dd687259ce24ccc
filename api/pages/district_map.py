"""The district map at `/`: every current grid coloured by street, and buildings where they are readable.

The page holds no data: it is the shell's base template, a map container and `api/static/district/`,
which loads the grids from `GET /api/grids` (public; all at once, or those in view for a district with
more than `GRIDS_PAGE`) and, from zoom `BUILDINGS_FROM_ZOOM` on, the
buildings in view from `GET /api/buildings?bbox=` (needs a key: a reader without the key cookie is
offered the shell's sign-in). So the page is the same few kilobytes for a district of a hundred
buildings or of a million, and it is built once per language and kept.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.pages import shell
from api.pages.i18n import messages, other_language, pick_language

router = APIRouter(tags=["pages"])

BUILDINGS_FROM_ZOOM = 15  # below this a building is a dot among thousands: not worth its bytes
BUILDINGS_PER_VIEW = 3000  # at most this many buildings are fetched for one view
GRIDS_PAGE = 5000  # grids of the first request: in any real district, all of them (the API's largest page)
GRIDS_PER_VIEW = 5000  # if there are more, the grids in view, fetched as the map moves


@router.get("/", response_class=HTMLResponse, summary="District map of grids and buildings")
def district_map(lang: Annotated[str | None, Query(description="zh-CN (default) or en")] = None) -> HTMLResponse:
    return HTMLResponse(district_html(pick_language(lang)), headers={"Cache-Control": "no-cache"})


@cache
def district_html(language: str) -> str:
    """The page in one language, built once (it depends on nothing in the database)."""
    text = messages(language, "map")
    leaflet_css, leaflet_js = shell.leaflet()
    config = {
        "lang": language,
        "strings": text,
        "buildings_from_zoom": BUILDINGS_FROM_ZOOM,
        "buildings_per_view": BUILDINGS_PER_VIEW,
        "grids_page": GRIDS_PAGE,
        "grids_per_view": GRIDS_PER_VIEW,
        "signin_url": "/signin?" + urlencode({"lang": language, "next": _self(language)}),
    }
    return shell.render_page(
        "district.html", lang=language, title=text["title"], body_class="district", config=config,
        styles=(leaflet_css, shell.static_url("district/district.css")), scripts=(leaflet_js,),
        modules=(shell.static_url("district/main.js"),), text=text,
        other=_self(other_language(language)), other_name=messages(language, "language")["other"],
    )


def _self(language: str) -> str:
    return "/?lang=en" if language == "en" else "/"
