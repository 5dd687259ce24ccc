"""Users and their API keys. Only SHA-256 hashes of keys are stored; the key is shown once at creation."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import Conflict, InvalidInput
from gis.permissions import Actor
from gis.store.models import UserRole


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_user(
    session: Session, username: str, role: str, *, display_name: str | None = None, grid_code: str | None = None,
    street_code: str | None = None, key: str | None = None,
) -> str:
    """Create a user and return their API key (generated unless given)."""
    allowed = [r.value for r in UserRole]
    if role not in allowed:
        raise InvalidInput(f"role {role!r} unknown; allowed: {', '.join(allowed)}")
    if role == "grid_worker" and not grid_code:
        raise InvalidInput("a grid_worker needs --grid (the 15-digit code of their grid)")
    if role == "street_officer" and not street_code:
        raise InvalidInput("a street_officer needs --street (the 9-digit street code)")
    if session.execute(text("SELECT 1 FROM app_user WHERE username = :u"), {"u": username}).first():
        raise Conflict(f"user {username!r} exists already")
    key = key or secrets.token_urlsafe(24)
    session.execute(text(
        "INSERT INTO app_user (username, display_name, role, api_key_hash, grid_code, street_code, active) "
        "VALUES (:username, :display_name, CAST(:role AS user_role), :hash, :grid, :street, true)"
    ), {"username": username, "display_name": display_name or username, "role": role, "hash": hash_key(key),
        "grid": grid_code, "street": street_code})
    return key


def actor_for_key(session: Session, key: str) -> Actor | None:
    row = session.execute(text(
        "SELECT username, role, grid_code, street_code FROM app_user WHERE api_key_hash = :hash AND active"
    ), {"hash": hash_key(key)}).mappings().first()
    if row is None:
        return None
    return Actor(row["username"], str(row["role"]), row["grid_code"], row["street_code"])


def reset_key(session: Session, username: str) -> str:
    """Give a user a new key (the old one stops working) and return it."""
    key = secrets.token_urlsafe(24)
    updated = session.execute(
        text("UPDATE app_user SET api_key_hash = :hash WHERE username = :u"), {"hash": hash_key(key), "u": username}
    ).rowcount
    if not updated:
        raise InvalidInput(f"unknown user {username!r}")
    return key
