"""Who is calling, and may they write.

- **Machines** send an API key in a header (`Authorization: Bearer <key>` or `X-API-Key`). A key in the
  URL is refused (URLs end up in logs and browser history); the only exception is the kiosk's one-time
  start-up address (`/wall?key=`), which trades the key for a session at once (api/pages/shell.py).
- **People** (and kiosks after that start-up) hold a session: the `gridmap_session` cookie carries a random
  id (HttpOnly, SameSite=Strict, Secure over https), the server keeps the session (gis/store/sessions.py),
  so signing out, disabling the user or a new password ends it.
- A write made with the session cookie must come from one of gridmap's own pages: its `Origin` (or, when
  a browser sends none, `Referer`) is this site, and it sends back the session's CSRF token in the
  `X-CSRF-Token` header (pages read it from the `gridmap_csrf` cookie, which scripts may read).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.deps import StoreDatabase
from gis.permissions import Actor, Forbidden, Unauthenticated
from gis.store.sessions import SignedIn, session_user
from gis.store.users import actor_for_key

SESSION_COOKIE = "gridmap_session"
CSRF_COOKIE = "gridmap_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def header_key(request: Request) -> str | None:
    """An API key sent in a header, the only place a key is accepted on an API call."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


def refuse_key_in_url(request: Request) -> None:
    if "api_key" in request.query_params or "key" in request.query_params:
        raise Unauthenticated("API keys are not accepted in the URL (it ends up in logs and browser history): "
                              "send 'Authorization: Bearer <key>' or 'X-API-Key'")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def same_origin(request: Request) -> bool:
    """Whether the request says it comes from a page of this site (`Origin`, else `Referer`)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    parts = urlsplit(claimed)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.headers.get("host", request.url.netloc))


def foreign_origin(request: Request) -> bool:
    """Whether the request names an origin (or referrer) that is not this site; naming none is not foreign."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    return bool(claimed) and not same_origin(request)


def check_cookie_write(request: Request, signed: SignedIn) -> None:
    """A write on the strength of the session cookie: this site's page, with the session's CSRF token."""
    if not same_origin(request):
        raise Forbidden("a write with the session cookie must come from gridmap's own pages (Origin "
                        f"{request.headers.get('origin') or request.headers.get('referer') or 'missing'} refused)")
    if request.headers.get(CSRF_HEADER) != signed.csrf_token:
        raise Forbidden("the CSRF token is missing or wrong: send the gridmap_csrf cookie's value in X-CSRF-Token")


def cookie_session(request: Request, session: Session) -> SignedIn | None:
    """The valid session the request's cookie names, if any (pages look it up in their request session)."""
    token = request.cookies.get(SESSION_COOKIE)
    return session_user(session, token, datetime.now(UTC)) if token else None


def signed_in(request: Request, database: StoreDatabase) -> SignedIn | None:
    """`cookie_session` in a short session of its own (the API's check, before the endpoint's session)."""
    if not request.cookies.get(SESSION_COOKIE):
        return None
    with database.session() as session:
        return cookie_session(request, session)


def optional_actor(request: Request, database: StoreDatabase) -> Actor | None:
    """Who the key or the session belongs to, looked up in a short session of its own: the connection goes
    back to the pool before the endpoint waits for its thread (holding it across that wait can stall the
    server). Remembered on the request for the audit log."""
    refuse_key_in_url(request)
    key = header_key(request)
    if key is not None:
        with database.session() as session:
            actor = actor_for_key(session, key)
        if actor is None:
            raise Unauthenticated("the API key is not valid (unknown or deactivated)")
        request.state.actor = actor
        return actor
    signed = signed_in(request, database)
    if signed is None:
        if request.cookies.get(SESSION_COOKIE):
            raise Unauthenticated("the session has ended (signed out, expired or disabled): sign in again")
        return None
    if request.method not in SAFE_METHODS:
        check_cookie_write(request, signed)
    request.state.actor = signed.actor
    return signed.actor


def required_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise Unauthenticated("sign in first: a person signs in at /signin, a machine sends "
                              "'Authorization: Bearer <key>' or 'X-API-Key'")
    return actor


CurrentActor = Annotated[Actor, Depends(required_actor)]
MaybeActor = Annotated[Actor | None, Depends(optional_actor)]
