"""The grid worker's page `/m`: a phone in the street on a weak network, and an installable web app.

`/m` is the shell's base template with the worker's markup (`templates/worker.html`) and
`api/static/m/` (ES modules): my grid(s) with their buildings and my open cases on a Leaflet map, the task
list by deadline, a case's details with the actions the API says I may take now (`my_actions`), reporting
a case, "my reports" and household visits. A reader who is not signed in is sent to the shell's sign-in
(`/signin?next=/m`).

It works with no network: `/m/sw.js` (a service worker, scope `/m`, which needs `Service-Worker-Allowed`
because the page's path has no trailing slash) keeps the page and its files; the page keeps the grid's
data it read (the Cache API) and queues every write in IndexedDB with an idempotency key, sent once when the
network returns (`api/static/m/outbox.js`). `/m/manifest.webmanifest` makes it installable.

On a weak link the first screen (my grid, its buildings and my task list) must not wait for one request to
answer before the next is asked: the page as served to a signed-in reader carries who they are (role and
area, as `GET /api/session` says it, without the CSRF token) and preloads (`<link rel="preload" as="fetch">`)
the task list and each of their grids with its buildings, so these download with Leaflet and the modules.
That per-user part sits between `<!--user-->` and `<!--/user-->`; the rest of the page is the same for
everyone and built once per language. The page is sent `no-store` (no shared or browser cache keeps a
person's page), and the service worker strips the per-user part before it keeps the page, so the page it
shows offline or on a warm open carries no one's area (the page then takes it from its data cache, which
signing out empties).

The page keeps no copy of the domain's rules: the workflow's labels, transitions, the statuses whose clock
runs (the worker's tasks) and each role's actions come from `gis.workflow` and `gis.permissions` through
the page's configuration; the actions a case offers come from the API.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import cookie_session
from api.deps import DbSession
from api.pages import shell
from api.pages.i18n import messages, other_language, pick_language
from api.routers.accounts import who
from gis.cases import MAX_PHOTO_BYTES
from gis.permissions import ACTIONS_BY_ROLE, FOCUS_KEEPERS, Actor, AreaLevel
from gis.workflow import (
    ACTION_LABELS,
    CLOCK_STATUSES,
    EXPECTED_DATE_REQUIRED,
    REASON_REQUIRED,
    STATUS_LABELS,
    TRANSITIONS,
    Action,
    Source,
)

router = APIRouter(tags=["pages"])

SCOPE = "/m"
SW_PATH = "/m/sw.js"
MANIFEST_PATH = "/m/manifest.webmanifest"
PHOTO_MAX_PX = 1600  # a photo's longer side after shrinking on the phone
PHOTO_QUALITY = 0.8  # JPEG quality of the shrunk photo (≈ 200–400 KB at 1600 px)
TASK_LIMIT = 1000  # open tasks read at once (a worker has a few dozen)
BUILDING_LIMIT = 5000  # buildings of one grid read at once
GRID_URL = "/api/grids/{code}"
BUILDINGS_URL = f"/api/grids/{{code}}/buildings?limit={BUILDING_LIMIT}"
FOCUS_URL = "/api/focus/households?gaps=true"  # focus households overdue or unpaired, at the list's top
USER_SLOT = "<!--user--><!--/user-->"  # where the per-user part goes in the shared page
SOON_HOURS = 24  # a case due within this many hours is amber on the map and in the list
STATIC_FILES = ("m/main.js", "m/api.js", "m/outbox.js", "m/mapview.js", "m/views.js", "m/photo.js",
                "m/worker.css", "shell/basemap.js", "m/focus.js")
# Not on the first screen, so not in its bytes on a weak link: photos (main.js imports photo.js when a photo is
# taken, or once the first screen is shown), the outbox (imported once the first reads are asked; a first open
# has nothing queued) and the basemap (mapview.js imports it once the map is made).
LATER_MODULES = ("m/photo.js", "m/outbox.js", "shell/basemap.js")
LangQ = Annotated[str | None, Query(description="zh-CN (default) or en")]


def _self(language: str) -> str:
    return "/m?lang=en" if language == "en" else "/m"


@router.get("/m", response_class=HTMLResponse, summary="The grid worker's page (phone; signs in if needed)")
def worker_page(request: Request, session: DbSession, lang: LangQ = None) -> Response:
    language = pick_language(lang)
    signed = cookie_session(request, session)
    if signed is None:
        query = urlencode({"lang": language, "next": _self(language)})
        return shell.no_store(RedirectResponse(f"/signin?{query}", status_code=303))
    page = worker_html(language).replace(USER_SLOT, user_part(signed.actor), 1)
    return shell.no_store(HTMLResponse(page))


def user_part(actor: Actor) -> str:
    """Who reads the page (`GET /api/session`'s answer without the CSRF token: the page may be kept and
    outlive the session) and a preload of each read the first screen waits for, between the slot's marks."""
    user = {key: value for key, value in who(actor, None).items() if key != "csrf_token"}
    links = "".join(f'<link rel="preload" as="fetch" crossorigin href="{escape(url)}">\n'
                    for url in first_reads(user["area"], user["role"]))
    return (f'<!--user--><script id="page-user" type="application/json">{shell.script_json(user)}</script>\n'
            f"{links}<!--/user-->")


def first_reads(area: dict, role: str | None = None) -> list[str]:
    """The API reads the first screen waits for, at the addresses the page asks for them (its configuration's
    `task_url`, `grid_url`, `buildings_url` and `focus_url`): the task list, a grid worker's grids with their
    buildings, and for those who keep focus households (FOCUS_KEEPERS) the ones overdue or unpaired."""
    codes = area["codes"] if area["level"] == AreaLevel.grid.value else []
    return [task_url(), *(url.format(code=quote(code, safe="")) for code in codes
                         for url in (GRID_URL, BUILDINGS_URL)), *([FOCUS_URL] if role in FOCUS_KEEPERS else [])]


def task_url() -> str:
    """My tasks: open cases whose clock runs (the server limits the list to my area)."""
    return "/api/cases?" + urlencode([("status", s) for s in sorted(s.value for s in CLOCK_STATUSES)]
                                     + [("limit", TASK_LIMIT)])


@router.get(SW_PATH, summary="The worker page's service worker (scope /m)", response_class=Response,
            responses={200: {"content": {"text/javascript": {"schema": {"type": "string"}}}}})
def service_worker() -> Response:
    return Response(service_worker_js(), media_type="text/javascript; charset=utf-8",
                    headers={"Service-Worker-Allowed": SCOPE, "Cache-Control": "no-cache"})


@router.get(MANIFEST_PATH, summary="The worker page's web app manifest", response_class=Response,
            responses={200: {"content": {"application/manifest+json": {"schema": {"type": "object"}}}}})
def manifest(lang: LangQ = None) -> Response:
    text = messages(pick_language(lang), "worker")
    body = {
        "name": text["app_name"], "short_name": text["app_short_name"], "lang": pick_language(lang),
        "start_url": _self(pick_language(lang)), "scope": SCOPE, "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0f5e9c",
        "icons": [{"src": shell.static_url("m/icon.svg"), "sizes": "any", "type": "image/svg+xml",
                   "purpose": "any"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


def shell_files() -> list[str]:
    """What the service worker keeps so the page opens with no network: both languages' page, its files
    (at their hashed addresses) and Leaflet."""
    leaflet_css, leaflet_js = shell.leaflet()
    return ["/m", "/m?lang=en", leaflet_css, leaflet_js, shell.static_url("m/icon.svg"),
            *(shell.static_url(name) for name in STATIC_FILES), *module_imports()]


def module_imports() -> list[str]:
    """The modules main.js imports, at the plain addresses its `import` statements resolve to."""
    return [f"{shell.STATIC_ROUTE}/{name}" for name in STATIC_FILES if name.endswith(".js") and name != "m/main.js"]


def first_screen_modules() -> list[str]:
    """The modules the first screen needs, which the page preloads (so a weak link pays one round trip for
    them all, not one per level of imports); `LATER_MODULES` are imported when first used, after it."""
    later = {f"{shell.STATIC_ROUTE}/{name}" for name in LATER_MODULES}
    return [url for url in module_imports() if url not in later]


@cache
def service_worker_js() -> str:
    """`api/static/m/sw.js` with the list of files to keep; a new file version changes the worker's bytes,
    so the browser installs it anew."""
    files = shell_files()
    source = (shell.STATIC_DIR / "m" / "sw.js").read_text(encoding="utf-8")
    return f"const SHELL_FILES = {json.dumps(files)};\n" + source


@cache
def worker_html(language: str) -> str:
    """The page in one language, built once (it depends on nothing in the database); `USER_SLOT` is where
    the reader's part goes."""
    text = messages(language, "worker")
    leaflet_css, leaflet_js = shell.leaflet()
    config = {
        "lang": language,
        "strings": text,
        "status_labels": {status.value: labels[language] for status, labels in STATUS_LABELS.items()},
        "action_labels": {action.value: labels[language] for action, labels in ACTION_LABELS.items()},
        "transitions": _transitions(),
        "role_actions": {role: sorted(a.value for a in actions) for role, actions in ACTIONS_BY_ROLE.items()},
        "reason_required": sorted(a.value for a in REASON_REQUIRED),
        "date_required": sorted(a.value for a in EXPECTED_DATE_REQUIRED),  # explain: by when (gis/repeats.py)
        "repeat_strings": messages(language, "repeats"),
        "task_statuses": sorted(s.value for s in CLOCK_STATUSES),
        "task_url": task_url(),
        "grid_url": GRID_URL,
        "buildings_url": BUILDINGS_URL,
        "focus_url": FOCUS_URL,
        "focus_roles": sorted(FOCUS_KEEPERS),
        "focus_strings": messages(language, "focus"),
        "report_source": Source.patrol.value,
        "soon_hours": SOON_HOURS,
        "photo_max_px": PHOTO_MAX_PX,
        "photo_quality": PHOTO_QUALITY,
        "photo_max_bytes": MAX_PHOTO_BYTES,
        "sw_url": SW_PATH,
        "scope": SCOPE,
        "signin_url": "/signin?" + urlencode({"lang": language, "next": _self(language)}),
        "signout_url": "/signout?" + urlencode({"next": _self(language)}),
    }
    return shell.render_page(
        "worker.html", lang=language, title=text["title"], body_class="worker", config=config,
        styles=(leaflet_css, shell.static_url("m/worker.css")), scripts=(leaflet_js,),
        modules=(shell.static_url("m/main.js"),), text=text, manifest=f"{MANIFEST_PATH}?lang={language}",
        preload=first_screen_modules(),
        other=_self(other_language(language)), other_name=messages(language, "language")["other"],
    )


def _transitions() -> dict[str, dict[str, str]]:
    """{status: {action: next status}}, so a step queued offline shows where it will take the case."""
    table: dict[str, dict[str, str]] = {}
    for (status, action), target in TRANSITIONS.items():
        table.setdefault(status.value, {})[Action(action).value] = target.value
    return table
