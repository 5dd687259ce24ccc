"""The audit log: every write and every read of personal data, who, what, when, from where (table
`audit_log`, migration 0007). Rows are only ever added; reading them is for admins (api/routers/audit.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.permissions import Actor


def add_entry(session: Session, *, actor: Actor | None, kind: str, method: str, path: str, status: int | None,
              client_ip: str | None, detail: dict[str, Any] | None = None) -> None:
    session.execute(text(
        "INSERT INTO audit_log (username, role, kind, method, path, status, client_ip, detail) "
        "VALUES (:username, :role, :kind, :method, :path, :status, :ip, CAST(:detail AS jsonb))"
    ), {"username": actor.username if actor else None, "role": actor.role if actor else None, "kind": kind,
        "method": method, "path": path[:2000], "status": status, "ip": client_ip,
        "detail": json.dumps(detail or {}, ensure_ascii=False, default=str)})


def entries(session: Session, *, username: str | None = None, kind: str | None = None,
            since: datetime | None = None, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """Newest first, optionally for one user, one kind, from a moment on."""
    clauses, params = ["TRUE"], {"limit": limit, "offset": offset}
    if username:
        clauses.append("username = :username")
        params["username"] = username
    if kind:
        clauses.append("kind = :kind")
        params["kind"] = kind
    if since:
        clauses.append("at >= :since")
        params["since"] = since
    rows = session.execute(text(
        f"SELECT id, at, username, role, kind, method, path, status, client_ip, detail FROM audit_log "
        f"WHERE {' AND '.join(clauses)} ORDER BY at DESC, id DESC LIMIT :limit OFFSET :offset"), params).mappings()
    return [{**row, "at": row["at"].isoformat()} for row in rows]
