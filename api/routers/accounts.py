"""Signing in from scripts and pages (`/api/session`), an admin's account tasks (password reset,
disabling) and the audit log (admins only). The HTML sign-in forms are the page shell's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api import audit
from api.auth import SESSION_COOKIE, CurrentActor, client_ip, cookie_session, foreign_origin
from api.deps import DbSession, Limit, Offset
from api.pages import shell
from api.schemas import PasswordReset, SignIn
from gis.permissions import Actor, Forbidden, Unauthenticated, area_of, check_admin
from gis.store import audit as audit_store
from gis.store import users
from gis.store.sessions import end_session, open_session, session_user

router = APIRouter(prefix="/api", tags=["accounts"])


def who(actor: Actor, csrf_token: str | None) -> dict[str, Any]:
    area = area_of(actor)
    return {"username": actor.username, "role": actor.role, "area": {"level": area.level.value,
                                                                       "codes": sorted(area.codes)},
            "csrf_token": csrf_token}


@router.post("/session", summary="Sign in with a username and password; sets the session cookies")
def sign_in(body: SignIn, request: Request, session: DbSession) -> JSONResponse:
    if foreign_origin(request):
        raise Forbidden("sign-in requests must come from gridmap's own pages")
    throttle = request.app.state.sign_in_throttle
    throttle.check(client_ip(request))
    now = datetime.now(UTC)
    try:
        user_id = users.check_password(session, body.username, body.password, now)
    except Unauthenticated:
        throttle.failed(client_ip(request))
        audit.record(session, request, None, "sign_in_failed", status=401, detail={"username": body.username})
        session.commit()  # the failure count and lock stand although the answer is an error
        raise
    token = open_session(session, user_id, via="password", now=now, client_ip=client_ip(request),
                         user_agent=request.headers.get("user-agent"))
    signed = session_user(session, token, now)
    audit.record(session, request, signed.actor, "sign_in", status=200, detail={"via": "password"})
    response = JSONResponse(who(signed.actor, signed.csrf_token))
    shell.set_session_cookies(request, response, token, signed)
    return shell.no_store(response)


@router.get("/session", summary="Who is signed in: role, area and the CSRF token for writes")
def current(request: Request, session: DbSession, actor: CurrentActor) -> JSONResponse:
    signed = cookie_session(request, session)
    return shell.no_store(JSONResponse(who(actor, signed.csrf_token if signed else None)))


@router.delete("/session", summary="Sign out: the session ends on the server and its cookies are cleared")
def sign_out(request: Request, session: DbSession, actor: CurrentActor) -> JSONResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(session, token)
    response = JSONResponse({"signed_out": actor.username})
    shell.clear_cookies(response)
    return shell.no_store(response)


@router.post("/users/{username}/password", summary="An admin resets a person's password (their sessions end)")
def reset_password(username: str, body: PasswordReset, session: DbSession, actor: CurrentActor) -> dict[str, str]:
    check_admin(actor)
    users.set_password(session, username, body.password)
    return {"username": username, "password": "reset"}


@router.post("/users/{username}/disable", summary="An admin disables an account (sessions and key stop)")
def disable(username: str, session: DbSession, actor: CurrentActor) -> dict[str, str]:
    check_admin(actor)
    users.set_active(session, username, False)
    return {"username": username, "active": "false"}


@router.get("/audit", summary="The audit log, newest first (admins only)")
def audit_log(
    session: DbSession, actor: CurrentActor, username: Annotated[str | None, Query(max_length=80)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None, since: datetime | None = None,
    limit: Limit = 200, offset: Offset = 0,
) -> dict[str, Any]:
    check_admin(actor)
    items = audit_store.entries(session, username=username, kind=kind, since=since, limit=limit, offset=offset)
    return {"items": items, "numberReturned": len(items), "offset": offset}
