"""The shell every page shares: the base template (Jinja2, autoescaped), the locally served files under
`/static`, Leaflet from `/vendor`, and signing in with an API key.

Signing in puts the key in the `gridmap_key` cookie (HttpOnly, SameSite=Strict, Secure over https),
which the API reads like a bearer key (`api/auth.py`). A page signs in through a form posting the key,
or a kiosk start-up URL `?key=...` that redirects to the same address without the key. The generic
`/signin` form (any valid key) serves pages that show more to a signed-in reader, like the district
map; the wall has its own form because it needs particular roles (`api/pages/wall.py`).

A page module is then small: its route, its options, `render_page(...)` with its template and its
`/static/<page>/` files, and its section of the message catalogues (`api/pages/i18n.py`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api.auth import KEY_COOKIE
from api.deps import DbSession
from api.pages.assets import VENDOR_PACKAGES
from api.pages.i18n import messages, other_language, pick_language
from gis.store.users import actor_for_key

STATIC_ROUTE = "/static"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
COOKIE_MAX_AGE = 30 * 24 * 3600  # a kiosk restarts rarely; the key itself can be deactivated at any time

router = APIRouter(tags=["pages"])


# -- templates and files ------------------------------------------------------------------------------


@cache
def templates() -> jinja2.Environment:
    """The pages' Jinja templates, autoescaped; an undefined name is an error, not an empty string."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                              undefined=jinja2.StrictUndefined)


@cache
def _file_hash(relative: str) -> str:
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]


def static_url(relative: str) -> str:
    """`/static/<relative>?v=<content hash>`, so a changed file is fetched anew."""
    return f"{STATIC_ROUTE}/{relative}?v={_file_hash(relative)}"


def leaflet() -> tuple[str, str]:
    """(stylesheet, script) of the locally served Leaflet."""
    package = VENDOR_PACKAGES["leaflet"]
    return package.url("leaflet.css"), package.url("leaflet.js")


def script_json(value: object) -> str:
    """JSON safe inside a <script> element (no `</script>` or `<!--` can close it)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def render_page(template: str | None, *, lang: str, title: str, styles: Collection[str] = (),
                scripts: Collection[str] = (), modules: Collection[str] = (), config: object = None,
                body_class: str = "", **context: object) -> str:
    """A page from `templates/<template>` (which extends `base.html`; None: `page.html`, an empty
    `#page-root` for pages whose scripts build their markup): the page's stylesheets, one JSON
    configuration block (`#page-config`), classic scripts (Leaflet) and then its ES modules."""
    return templates().get_template(template or "page.html").render(
        lang=lang, title=title, styles=list(styles), scripts=list(scripts), modules=list(modules),
        body_class=body_class,
        config=None if config is None else script_json(config), **context)


def mount_static(app: FastAPI) -> None:
    """Serve gridmap's own page files (`api/static`) under `/static`, revalidated on every load."""
    app.mount(STATIC_ROUTE, _StaticFiles(directory=STATIC_DIR), name="static")


class _StaticFiles(StaticFiles):
    """StaticFiles with `no-cache`: the browser revalidates (ETag), so a kiosk picks up a new script."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# -- signing in ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInForm:
    """What a page's sign-in form looks like and who may pass it."""

    action: str  # where the form posts
    lang: str
    heading: str
    title: str
    prompt: str
    other_url: str  # the same form in the other language
    roles: frozenset[str] | None = None  # None: any valid key
    needed: str = ""  # names the roles that may pass, for the refusal
    hidden: Mapping[str, str] = field(default_factory=dict)  # options carried through the form
    styles: tuple[str, ...] = ()
    body_class: str = "signin"


def key_problem(session: DbSession, key: str, form: SignInForm, *, expired: bool = False) -> tuple[str | None, int]:
    """(message, HTTP status) when `key` may not pass `form`, else (None, 200)."""
    text = messages(form.lang, "signin")
    if not key:
        return text["empty_key"], 401
    actor = actor_for_key(session, key)
    if actor is None:
        return text["expired" if expired else "bad_key"], 401
    if form.roles is not None and actor.role not in form.roles:
        role = messages(form.lang, "roles").get(actor.role, actor.role)
        return text["wrong_role"].format(role=role, needed=form.needed), 403
    return None, 200


def signin_page(form: SignInForm, *, message: str | None, status: int) -> Response:
    page = render_page("signin.html", lang=form.lang, title=form.title, styles=form.styles,
                       body_class=form.body_class, form=form, message=message,
                       text=messages(form.lang, "signin"), other=messages(form.lang, "language")["other"])
    return no_store(HTMLResponse(page, status_code=status))


def sign_in(request: Request, session: DbSession, key: str, form: SignInForm, redirect_to: str) -> Response:
    """Check the key; on success set the cookie and redirect, else the form again with the reason."""
    key = key.strip()
    problem, status = key_problem(session, key, form)
    if problem:
        return signin_page(form, message=problem, status=status)
    response = RedirectResponse(redirect_to, status_code=303)
    response.set_cookie(KEY_COOKIE, key, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return no_store(response)


def clear_cookie(response: Response) -> None:
    """Expire the key cookie (same path and flags as when it was set)."""
    response.delete_cookie(KEY_COOKIE, path="/", httponly=True, samesite="strict")


def signed_in(session: DbSession, request: Request) -> bool:
    """Whether the request carries a key cookie that is valid now."""
    key = request.cookies.get(KEY_COOKIE)
    return bool(key) and actor_for_key(session, key) is not None


# -- the generic sign-in: any valid key, back to a page of this site ---------------------------------


def _local_path(next_url: str | None) -> str:
    """`next` if it is a path on this site (never another host), else `/`."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return "/"


def _generic_form(lang: str | None, next_url: str | None) -> SignInForm:
    language = pick_language(lang)
    text = messages(language, "signin")
    back = _local_path(next_url)
    query = urlencode({"lang": other_language(language), "next": back})
    return SignInForm(action="/session", lang=language, heading=messages(language, "map")["title"],
                      title=text["title"], prompt=text["prompt"], other_url=f"/signin?{query}",
                      hidden={"lang": language, "next": back}, styles=(static_url("shell/shell.css"),))


NextQ = Annotated[str | None, Query(max_length=500, description="a path on this site to return to")]


@router.get("/signin", response_class=HTMLResponse, summary="Sign in with an API key (any role)")
def signin_form(lang: Annotated[str | None, Query()] = None, next: NextQ = None) -> Response:  # noqa: A002
    return signin_page(_generic_form(lang, next), message=None, status=200)


@router.post("/session", response_class=HTMLResponse, summary="Sign in with an API key and go back")
def signin_session(
    request: Request, session: DbSession, key: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str | None, Form()] = None, next: Annotated[str | None, Form(max_length=500)] = None,  # noqa: A002
) -> Response:
    form = _generic_form(lang, next)
    return sign_in(request, session, key, form, form.hidden["next"])


@router.get("/signout", summary="Sign out (clears the key cookie) and go back", status_code=303,
            response_class=RedirectResponse, responses={303: {"description": "back to the page"}})
def signout(next: NextQ = None) -> Response:  # noqa: A002
    response = RedirectResponse(_local_path(next), status_code=303)
    clear_cookie(response)
    return no_store(response)
