"""The shell every page shares: the base template (Jinja2, autoescaped), the locally served files under
`/static`, Leaflet from `/vendor`, and signing in.

A person signs in with a username and password; a wall screen may also trade its kiosk key for a session
(the form's key field, or the start-up URL `/wall?key=...` that redirects to the same address without the
key). Either way the browser gets a server-side session (`api/auth.py`): the `gridmap_session` cookie
holds only a random id, never the key. The generic `/signin` form (any account) serves pages that show
more to a signed-in reader, like the district map; the wall has its own form because it needs particular
roles (`api/pages/wall.py`).

A page module is then small: its route, its options, `render_page(...)` with its template and its
`/static/<page>/` files, and its section of the message catalogues (`api/pages/i18n.py`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api import audit
from api.auth import CSRF_COOKIE, SESSION_COOKIE, client_ip, foreign_origin
from api.deps import DbSession
from api.pages.assets import VENDOR_PACKAGES
from api.pages.i18n import messages, other_language, pick_language
from api.throttle import TooManyAttempts
from gis.permissions import Actor, Unauthenticated
from gis.store.sessions import SignedIn, end_session, open_session, session_user
from gis.store.users import actor_for_key, actor_for_user, check_password

STATIC_ROUTE = "/static"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

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
    roles: frozenset[str] | None = None  # None: any account
    needed: str = ""  # names the roles that may pass, for the refusal
    hidden: Mapping[str, str] = field(default_factory=dict)  # options carried through the form
    styles: tuple[str, ...] = ()
    body_class: str = "signin"
    kiosk_key: bool = False  # also offer an API key field (a wall screen signed in by its kiosk key)


def signin_page(form: SignInForm, *, message: str | None, status: int, username: str = "") -> Response:
    page = render_page("signin.html", lang=form.lang, title=form.title, styles=form.styles,
                       body_class=form.body_class, form=form, message=message, username=username,
                       text=messages(form.lang, "signin"), other=messages(form.lang, "language")["other"])
    return no_store(HTMLResponse(page, status_code=status))


def role_problem(actor: Actor, form: SignInForm) -> str | None:
    if form.roles is None or actor.role in form.roles:
        return None
    role = messages(form.lang, "roles").get(actor.role, actor.role)
    return messages(form.lang, "signin")["wrong_role"].format(role=role, needed=form.needed)


def _start_session(request: Request, session: Session, user_id: int, via: str, redirect_to: str) -> Response:
    token = open_session(session, user_id, via=via, now=datetime.now(UTC), client_ip=client_ip(request),
                         user_agent=request.headers.get("user-agent"))
    response = RedirectResponse(redirect_to, status_code=303)
    set_session_cookies(request, response, token, session_user(session, token, datetime.now(UTC)))
    return no_store(response)


def set_session_cookies(request: Request, response: Response, token: str, signed: SignedIn) -> None:
    """The session id (HttpOnly) and its CSRF token (readable by the page's scripts, sent back in a header)."""
    secure = request.url.scheme == "https"
    max_age = int((signed.expires_at - datetime.now(UTC)).total_seconds())
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=secure)
    response.set_cookie(CSRF_COOKIE, signed.csrf_token, max_age=max_age, path="/", httponly=False,
                        samesite="strict", secure=secure)


def sign_in(request: Request, session: Session, form: SignInForm, redirect_to: str, *, username: str = "",
            password: str = "", key: str = "") -> Response:
    """Check a password (or a kiosk's key); on success open a session, set its cookies and redirect, else
    show the form again with the reason. Failures count towards the address's throttle and the account's
    lock, and each attempt is written to the audit log."""
    text = messages(form.lang, "signin")
    throttle = request.app.state.sign_in_throttle
    try:
        throttle.check(client_ip(request))
    except TooManyAttempts as error:
        return signin_page(form, message=text["throttled"].format(seconds=error.retry_after), status=429,
                           username=username)
    if foreign_origin(request):
        return signin_page(form, message=text["foreign_origin"], status=403, username=username)
    key, username = key.strip(), username.strip()
    if key:
        actor = actor_for_key(session, key)
        if actor is None:
            throttle.failed(client_ip(request))
            audit.record(session, request, None, "sign_in_failed", status=401, detail={"via": "key"})
            return signin_page(form, message=text["bad_key"], status=401)
        problem = role_problem(actor, form)
        if problem:
            return signin_page(form, message=problem, status=403)
        audit.record(session, request, actor, "sign_in", status=303, detail={"via": "key"})
        return _start_session(request, session, actor.user_id, "key", redirect_to)
    if not username or not password:
        return signin_page(form, message=text["empty"], status=401, username=username)
    try:
        user_id = check_password(session, username, password, datetime.now(UTC))
    except Unauthenticated as error:
        throttle.failed(client_ip(request))
        audit.record(session, request, None, "sign_in_failed", status=401, detail={"username": username})
        locked = "locked_until" in error.details
        return signin_page(form, message=text["locked"] if locked else text["bad_password"], status=401,
                           username=username)
    actor = actor_for_user(session, user_id)
    problem = role_problem(actor, form) if actor else text["bad_password"]
    if problem:
        return signin_page(form, message=problem, status=403, username=username)
    audit.record(session, request, actor, "sign_in", status=303, detail={"via": "password"})
    return _start_session(request, session, user_id, "password", redirect_to)


def clear_cookies(response: Response) -> None:
    """Expire the session cookies (same path and flags as when they were set)."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")


def sign_out(request: Request, session: Session, redirect_to: str) -> Response:
    """End the server-side session (so a copied cookie stops working too) and clear the cookies."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(session, token)
    response = RedirectResponse(redirect_to, status_code=303)
    clear_cookies(response)
    return no_store(response)




# -- the generic sign-in: any account, back to a page of this site ------------------------------------


def local_path(next_url: str | None) -> str:
    """`next` if it is a path on this site (never another host), else `/`."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return "/"


def _generic_form(lang: str | None, next_url: str | None) -> SignInForm:
    language = pick_language(lang)
    text = messages(language, "signin")
    back = local_path(next_url)
    query = urlencode({"lang": other_language(language), "next": back})
    return SignInForm(action="/session", lang=language, heading=text["heading"],
                      title=text["title"], prompt=text["prompt"], other_url=f"/signin?{query}",
                      hidden={"lang": language, "next": back}, styles=(static_url("shell/shell.css"),))


NextQ = Annotated[str | None, Query(max_length=500, description="a path on this site to return to")]
UsernameF = Annotated[str, Form(max_length=80)]
PasswordF = Annotated[str, Form(max_length=200)]


@router.get("/signin", response_class=HTMLResponse, summary="Sign in with a username and password")
def signin_form(lang: Annotated[str | None, Query()] = None, next: NextQ = None) -> Response:  # noqa: A002
    return signin_page(_generic_form(lang, next), message=None, status=200)


@router.post("/session", response_class=HTMLResponse, summary="Sign in and go back to the page")
def signin_session(
    request: Request, session: DbSession, username: UsernameF = "", password: PasswordF = "",
    lang: Annotated[str | None, Form()] = None, next: Annotated[str | None, Form(max_length=500)] = None,  # noqa: A002
) -> Response:
    form = _generic_form(lang, next)
    return sign_in(request, session, form, form.hidden["next"], username=username, password=password)


@router.get("/signout", summary="Sign out (ends the session) and go back", status_code=303,
            response_class=RedirectResponse, responses={303: {"description": "back to the page"}})
def signout(request: Request, session: DbSession, next: NextQ = None) -> Response:  # noqa: A002
    return sign_out(request, session, local_path(next))
