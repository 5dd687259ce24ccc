"""Server-side sessions: the browser's cookie holds a random id, the table its SHA-256, so signing out,
disabling a user or changing their password ends a session at once. Each session carries the CSRF token
its page must send back with every write."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis import passwords
from gis.permissions import Actor
from gis.store.users import actor_for_user


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    csrf_token: str
    via: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user_id: int, *, via: str, now: datetime, client_ip: str | None,
                 user_agent: str | None, lifetime: timedelta | None = None) -> str:
    """Start a session and return its id (to be put in the cookie; never stored as it is)."""
    token = secrets.token_urlsafe(32)
    lifetime = lifetime or (passwords.KIOSK_SESSION_LIFETIME if via == "key" else passwords.SESSION_LIFETIME)
    session.execute(text(
        "INSERT INTO user_session (id_hash, user_id, csrf_token, via, created_at, last_seen_at, expires_at, "
        "client_ip, user_agent) VALUES (:id, :user, :csrf, :via, :now, :now, :expires, :ip, :agent)"
    ), {"id": _hash(token), "user": user_id, "csrf": secrets.token_urlsafe(32), "via": via, "now": now,
        "expires": now + lifetime, "ip": client_ip, "agent": (user_agent or "")[:300] or None})
    return token


def session_user(session: Session, token: str, now: datetime) -> SignedIn | None:
    """Who holds this session now, or None if it is unknown, signed out, expired, idle too long, or its
    user disabled. A password session's idle clock restarts on each use (written at most once a minute)."""
    row = session.execute(text(
        "SELECT s.id_hash, s.user_id, s.csrf_token, s.via, s.expires_at, s.last_seen_at FROM user_session AS s "
        "JOIN app_user AS u ON u.id = s.user_id "
        "WHERE s.id_hash = :id AND s.revoked_at IS NULL AND s.expires_at > :now AND u.active"
    ), {"id": _hash(token), "now": now}).mappings().first()
    if row is None:
        return None
    if row["via"] == "password" and now - row["last_seen_at"] > passwords.IDLE_TIMEOUT:
        return None
    actor = actor_for_user(session, row["user_id"], today=None)
    if actor is None:
        return None
    if now - row["last_seen_at"] > timedelta(minutes=1):
        session.execute(text("UPDATE user_session SET last_seen_at = :now WHERE id_hash = :id"),
                        {"now": now, "id": row["id_hash"]})
    return SignedIn(actor, row["csrf_token"], row["via"], row["expires_at"])


def end_session(session: Session, token: str) -> None:
    session.execute(text("UPDATE user_session SET revoked_at = now() WHERE id_hash = :id AND revoked_at IS NULL"),
                    {"id": _hash(token)})
