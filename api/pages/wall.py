"""The command-centre wall map at `/wall`: every grid coloured by one measure, district figures, the worst
grids, overdue cases and coverage gaps, refreshing itself for hours on a big screen on a closed network.

The page is the shell's base template with the wall's panel and `api/static/wall/` (ES modules driving
Leaflet), which reads the layer API (`/api/layers/...`) with the session cookie. Signing in (the form
posting to `/wall/session` with a password or a kiosk key, or the kiosk start-up URL `/wall?key=...`) is
the shell's, limited to the roles that may read every grid's measures. Its words are the `wall` section of the message
catalogues; which measures it shows, in which order and with which short names, is gis/metrics.py's.

How the grids are drawn (`draw`): below `gis.settings.CITY_SCALE_GRIDS` current grids, as today, one GeoJSON layer of
polygons (at 2,000 grids about 1 MB gzipped; every polygon carries its figures for the tooltip and popup,
and the wall's browser tests read them); beyond that, vector tiles (`/tiles/grids/...`, drawn on canvas
by Leaflet.VectorGrid) coloured from the wall's measure table (`/tiles/grids/classes.json`,
`gis.store.tile_classes`): at 50,000 grids the GeoJSON is 29 MB (2.3 MB gzipped) and 50,000 SVG polygons,
while the tiles of one screen are a few hundred kilobytes and only what is in view is drawn. `?draw=tiles`
or `?draw=geojson` forces one way (tests, benchmarks, a slow screen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import cookie_session
from api.deps import DbSession
from api.pages import shell
from api.pages.assets import VENDOR_PACKAGES
from api.pages.i18n import messages, other_language, pick_language
from gis.permissions import READ_ALL
from gis.settings import CITY_SCALE_GRIDS
from gis.store.tiles import current_grids

router = APIRouter(tags=["pages"])

WALL_ROLES = READ_ALL  # admin, command_centre, planner: the roles that may read every grid's measures
PERIOD_PATTERN = re.compile(r"^[0-9A-Za-z:._-]{1,40}$")  # 30d, 2026-10, 2026-10-01..2026-10-31
MEASURE_KEY = r"^[a-z0-9_]+$"
DRAW_MODES = ("auto", "tiles", "geojson")


@dataclass(frozen=True)
class WallOptions:
    """What the address asks of the wall; everything else is fixed."""

    lang: str = "zh-CN"
    rotate: int = 60  # seconds between measures; 0 = no rotation
    poll: float = 2.0  # seconds between version polls
    period: str = "30d"
    measure: str | None = None
    draw: str = "auto"

    def query(self, **changes: object) -> str:
        """The wall's address with these options (defaults left out), e.g. `/wall?lang=en`."""
        values = {"lang": self.lang, "rotate": self.rotate, "poll": self.poll, "period": self.period,
                  "measure": self.measure, "draw": self.draw, **changes}
        params = {k: _plain(v) for k, v in values.items() if v != getattr(DEFAULTS, k)}
        return "/wall" + (f"?{urlencode(params)}" if params else "")

    def form_fields(self) -> dict[str, str]:
        """The options as the sign-in form carries them."""
        fields = {"lang": self.lang, "rotate": str(self.rotate), "poll": _plain(self.poll), "period": self.period}
        return fields | ({"measure": self.measure} if self.measure else {}) \
            | ({"draw": self.draw} if self.draw != "auto" else {})


DEFAULTS = WallOptions()


def _plain(value: object) -> str:
    """A query-string value: 2.0 -> "2", 0.5 -> "0.5"."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _options(lang: str | None, rotate: int, poll: float, period: str, measure: str | None,
             draw: str | None = None) -> WallOptions:
    """Options from the query string or form; a malformed period falls back to 30 days, an unknown draw
    mode to auto."""
    good_measure = measure if measure and re.fullmatch(MEASURE_KEY, measure) else None
    return WallOptions(pick_language(lang), rotate, poll, period if PERIOD_PATTERN.match(period) else "30d",
                       good_measure, draw if draw in DRAW_MODES else "auto")


def _signin_form(options: WallOptions) -> shell.SignInForm:
    text = messages(options.lang, "wall")
    return shell.SignInForm(
        action="/wall/session", lang=options.lang, heading=text["title"], title=text["signin_title"],
        prompt=text["signin_prompt"], other_url=options.query(lang=other_language(options.lang)),
        roles=WALL_ROLES, needed=text["needed_roles"], hidden=options.form_fields(),
        styles=(shell.static_url("shell/shell.css"), shell.static_url("wall/wall.css")),
        body_class="signin wall-signin", kiosk_key=True,
    )


# -- routes -------------------------------------------------------------------------------------------

LangQ = Annotated[str | None, Query(description="zh-CN (default) or en")]
RotateQ = Annotated[int, Query(ge=0, le=3600, description="seconds per measure; 0 stops the rotation")]
PollQ = Annotated[float, Query(ge=0.2, le=60, description="seconds between version polls")]
PeriodQ = Annotated[str, Query(max_length=40, description="period of the measures, e.g. 30d")]
MeasureQ = Annotated[str | None, Query(max_length=40, pattern=MEASURE_KEY, description="first measure")]
DrawQ = Annotated[str | None, Query(max_length=10, description="auto (tiles from 2,000 grids), tiles or geojson")]


@router.get("/wall", response_class=HTMLResponse, summary="Command-centre wall map (signs in if needed)")
def wall(
    request: Request, session: DbSession, key: Annotated[str | None, Query(max_length=200)] = None,
    lang: LangQ = None, rotate: RotateQ = 60, poll: PollQ = 2.0, period: PeriodQ = "30d",
    measure: MeasureQ = None, draw: DrawQ = None,
) -> Response:
    options = _options(lang, rotate, poll, period, measure, draw)
    form = _signin_form(options)
    if key is not None:  # kiosk start-up URL: trade the key for a session, then drop it from the address
        return shell.sign_in(request, session, form, options.query(), key=key)
    signed = cookie_session(request, session)
    if signed is None:
        response = shell.signin_page(form, message=None, status=200)
        shell.clear_cookies(response)
        return response
    if signed.actor.role not in WALL_ROLES:
        return shell.signin_page(form, message=shell.role_problem(signed.actor, form), status=403)
    count, extent = current_grids(session)
    tiles = options.draw == "tiles" or (options.draw == "auto" and count >= CITY_SCALE_GRIDS)
    return shell.no_store(HTMLResponse(wall_html(options, tiles=tiles, home=extent)))


@router.post("/wall/session", response_class=HTMLResponse,
             summary="Sign the wall in (a person's password or the screen's kiosk key)")
def wall_session(
    request: Request, session: DbSession, username: shell.UsernameF = "", password: shell.PasswordF = "",
    key: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str | None, Form()] = None, rotate: Annotated[int, Form(ge=0, le=3600)] = 60,
    poll: Annotated[float, Form(ge=0.2, le=60)] = 2.0, period: Annotated[str, Form(max_length=40)] = "30d",
    measure: Annotated[str | None, Form(max_length=40)] = None,
    draw: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    options = _options(lang, rotate, poll, period, measure, draw)
    return shell.sign_in(request, session, _signin_form(options), options.query(), username=username,
                         password=password, key=key)


@router.get("/wall/signout", summary="Sign the wall out (ends the session)", status_code=303,
            response_class=RedirectResponse, responses={303: {"description": "to the sign-in page"}})
def wall_signout(request: Request, session: DbSession, lang: Annotated[str | None, Query()] = None) -> Response:
    return shell.sign_out(request, session, WallOptions(pick_language(lang)).query())


# -- the page -----------------------------------------------------------------------------------------


def wall_html(options: WallOptions, *, tiles: bool = False,
              home: tuple[float, float, float, float] | None = None) -> str:
    """The wall page: Leaflet (served locally; with Leaflet.VectorGrid when it draws `tiles`, starting at
    the grids' extent `home`), the panel, the configuration and the wall's modules."""
    text = messages(options.lang, "wall")
    leaflet_css, leaflet_js = shell.leaflet()
    scripts = (leaflet_js, VENDOR_PACKAGES["leaflet.vectorgrid"].url("Leaflet.VectorGrid.bundled.min.js")) \
        if tiles else (leaflet_js,)
    config = {
        "lang": options.lang,
        "rotate_ms": options.rotate * 1000,
        "poll_ms": round(options.poll * 1000),
        "period": options.period,
        "measure": options.measure,
        "signin_url": options.query(),
        "tiles": tiles,
        "home": list(home) if home else None,
        "strings": text,
    }
    return shell.render_page(
        "wall.html", lang=options.lang, title=text["title"], body_class="wall", config=config,
        styles=(leaflet_css, shell.static_url("wall/wall.css")), scripts=scripts,
        modules=(shell.static_url("wall/main.js"),), text=text,
        other=options.query(lang=other_language(options.lang)), signout=f"/wall/signout?lang={options.lang}",
    )
