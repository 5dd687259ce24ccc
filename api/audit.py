"""Writing the audit log from the HTTP layer.

- `AuditMiddleware` records every write (POST, PUT, PATCH, DELETE) with its answer's status, once the
  handler has finished and before the answer is sent, in a transaction of its own: a refused write (401,
  403, 409, 422) is recorded too, since attempts matter as much as changes.
- Handlers that show personal data unmasked call `record_personal_read` with what they showed.
- The path is recorded without its query string (no secret travels there, but a URL is not a place to
  keep more than needed), and never a body.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from fastapi import Request
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import client_ip
from gis.permissions import Actor
from gis.privacy import has_personal_data
from gis.store.audit import add_entry

log = logging.getLogger(__name__)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def record(session: Session, request: Request, actor: Actor | None, kind: str, *, status: int | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """An entry in the caller's transaction (committed with the request's own work)."""
    add_entry(session, actor=actor, kind=kind, method=request.method, path=request.url.path, status=status,
              client_ip=client_ip(request), detail=detail)


def record_personal_read(session: Session, request: Request, actor: Actor, what: str, ids: list[Any]) -> None:
    """Personal data was shown unmasked: which records, to whom."""
    if ids:
        record(session, request, actor, "personal_read", status=200, detail={"what": what, "ids": ids[:1000],
                                                                           "count": len(ids)})


def record_cases_shown(session: Session, request: Request, actor: Actor, cases: list[dict[str, Any]]) -> None:
    """The cases among `cases` whose reporter or exact address was shown unmasked (`personal_data` "shown",
    see gis/store/case_reads.py `case_dict`) and that carry any: one entry naming them."""
    record_personal_read(session, request, actor, "case", [
        case["id"] for case in cases if case.get("personal_data") == "shown" and has_personal_data(case)])


class AuditMiddleware:
    """Records each write request once its status is known, before the status line is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                await anyio.to_thread.run_sync(self._write, scope, message["status"])
            await send(message)

        await self.app(scope, receive, send_recorded)

    @staticmethod
    def _write(scope: Scope, status: int) -> None:
        state = scope.get("state") or {}
        if state.get("audited"):
            return
        database = scope["app"].state.database
        client = scope.get("client")
        try:
            with database.session() as session:
                add_entry(session, actor=state.get("actor"), kind="write", method=scope["method"],
                          path=scope["path"], status=status, client_ip=client[0] if client else None)
        except Exception as error:  # noqa: BLE001 -- the answer stands; the failure is reported
            log.error("audit log entry for %s %s (status %s) could not be written: %s", scope["method"],
                      scope["path"], status, str(error).splitlines()[0] if str(error) else type(error).__name__)
