"""Accounts: people sign in with a username and password (argon2), machines with an API key (only its
SHA-256 is stored; the key is shown once). Who an account is, as the rules see it, is `actor_for_user`:
a grid worker's grids come from their team memberships on today's date."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis import passwords
from gis.codes import parse_community_code, parse_grid_code, parse_street_code
from gis.errors import Conflict, InvalidInput, NotFound
from gis.permissions import Actor, Unauthenticated
from gis.store.models import UserRole
from gis.store.vocabulary import current_day, current_sql, serving_sql

# Team roles that answer for a grid's cases (volunteers and central households do not).
AREA_TEAM_ROLES = ("leader", "grid_worker")

_ACTOR_SQL = f"""
SELECT u.id, u.username, u.role, u.grid_code, u.street_code, u.community_code, u.person_id,
       ARRAY(SELECT DISTINCT t.grid_code FROM team_membership AS m
             JOIN service_team AS t ON t.id = m.team_id AND t.district_code = m.district_code
             WHERE m.person_id = u.person_id AND m.role::text IN {AREA_TEAM_ROLES!r}
               AND {serving_sql('m', ':today')} AND {current_sql('t', ':today')}) AS team_grids
FROM app_user AS u WHERE u.active AND {{where}}
"""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_role_and_area(role: str, grid_code: str | None, street_code: str | None, community_code: str | None) -> None:
    allowed = [r.value for r in UserRole]
    if role not in allowed:
        raise InvalidInput(f"role {role!r} unknown; allowed: {', '.join(allowed)}")
    if role == "street_officer" and not street_code:
        raise InvalidInput("a street_officer needs --street (the 9-digit street code)")
    if role == "community_manager" and not community_code:
        raise InvalidInput("a community_manager needs --community (the 12-digit community code)")
    if grid_code:
        parse_grid_code(grid_code)
    if street_code:
        parse_street_code(street_code)
    if community_code:
        parse_community_code(community_code)


def create_user(
    session: Session, username: str, role: str, *, display_name: str | None = None, grid_code: str | None = None,
    street_code: str | None = None, community_code: str | None = None, key: str | None = None,
    password: str | None = None, person_id: int | None = None,
) -> str | None:
    """Create an account. With a password it is a person's (no key unless one is given); without, a
    machine's, and its API key is returned (generated unless given)."""
    check_role_and_area(role, grid_code, street_code, community_code)
    if session.execute(text("SELECT 1 FROM app_user WHERE username = :u"), {"u": username}).first():
        raise Conflict(f"user {username!r} exists already")
    password_hash = None
    if password is not None:
        passwords.check_password_rules(password, username)
        password_hash = passwords.hash_password(password)
    elif key is None:
        key = secrets.token_urlsafe(24)
    session.execute(text(
        "INSERT INTO app_user (username, display_name, role, api_key_hash, password_hash, password_changed_at, "
        "grid_code, street_code, community_code, person_id, active, failed_sign_ins) "
        "VALUES (:username, :display_name, CAST(:role AS user_role), :key_hash, :password_hash, "
        "CASE WHEN CAST(:password_hash AS text) IS NULL THEN NULL ELSE now() END, "
        ":grid, :street, :community, :person, true, 0)"
    ), {"username": username, "display_name": display_name or username, "role": role,
        "key_hash": hash_key(key) if key else None, "password_hash": password_hash, "grid": grid_code,
        "street": street_code, "community": community_code, "person": person_id})
    return key


def _actor(row: Any) -> Actor:
    grids = set(row["team_grids"] or ())
    if row["grid_code"]:
        grids.add(row["grid_code"])
    return Actor(row["username"], str(row["role"]), street_code=row["street_code"],
                 community_code=row["community_code"], grid_codes=frozenset(grids), person_id=row["person_id"],
                 user_id=row["id"])


def actor_for_key(session: Session, key: str, *, today: Any = None) -> Actor | None:
    row = session.execute(text(_ACTOR_SQL.format(where="u.api_key_hash = :hash")),
                          {"hash": hash_key(key), "today": today or current_day()}).mappings().first()
    return None if row is None else _actor(row)


def actor_for_user(session: Session, user_id: int, *, today: Any = None) -> Actor | None:
    row = session.execute(text(_ACTOR_SQL.format(where="u.id = :id")),
                          {"id": user_id, "today": today or current_day()}).mappings().first()
    return None if row is None else _actor(row)


def check_password(session: Session, username: str, password: str, now: datetime) -> int:
    """The user id if the password is right and the account active and not locked; otherwise counts the
    failure (locking the account after `passwords.FAILURES_BEFORE_LOCK`) and raises Unauthenticated.
    The reason given never tells a wrong username from a wrong password."""
    row = session.execute(text(
        "SELECT id, password_hash, active, failed_sign_ins, locked_until FROM app_user WHERE username = :u "
        "FOR UPDATE"), {"u": username}).mappings().first()
    if row is None:
        passwords.verify_password(None, password)
        raise Unauthenticated("wrong username or password")
    if passwords.is_locked(row["locked_until"], now):
        raise Unauthenticated(f"too many wrong passwords: the account is locked until "
                              f"{row['locked_until'].astimezone(now.tzinfo).strftime('%H:%M')}",
                              details={"locked_until": row["locked_until"].isoformat()})
    if not passwords.verify_password(row["password_hash"], password) or not row["active"]:
        outcome = passwords.after_failure(row["failed_sign_ins"], now)
        session.execute(text("UPDATE app_user SET failed_sign_ins = :n, locked_until = :until WHERE id = :id"),
                        {"n": outcome.failures, "until": outcome.locked_until, "id": row["id"]})
        raise Unauthenticated("wrong username or password")
    updates = {"id": row["id"], "hash": row["password_hash"]}
    if passwords.needs_rehash(row["password_hash"]):
        updates["hash"] = passwords.hash_password(password)
    session.execute(text("UPDATE app_user SET failed_sign_ins = 0, locked_until = NULL, password_hash = :hash "
                         "WHERE id = :id"), updates)
    return int(row["id"])


def _user_id(session: Session, username: str) -> int:
    row = session.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": username}).mappings().first()
    if row is None:
        raise NotFound(f"unknown user {username!r}")
    return int(row["id"])


def _end_sessions(session: Session, user_id: int) -> None:
    session.execute(text("UPDATE user_session SET revoked_at = now() WHERE user_id = :id AND revoked_at IS NULL"),
                    {"id": user_id})


def set_password(session: Session, username: str, password: str) -> None:
    """Set (or reset, by an admin) a person's password; their sessions end and any lock is lifted."""
    passwords.check_password_rules(password, username)
    user_id = _user_id(session, username)
    session.execute(text("UPDATE app_user SET password_hash = :hash, password_changed_at = now(), "
                         "failed_sign_ins = 0, locked_until = NULL WHERE id = :id"),
                    {"hash": passwords.hash_password(password), "id": user_id})
    _end_sessions(session, user_id)


def set_role(session: Session, username: str, role: str, *, grid_code: str | None = None,
             street_code: str | None = None, community_code: str | None = None) -> None:
    """Change what a user is and where; their sessions end so the change applies at once."""
    check_role_and_area(role, grid_code, street_code, community_code)
    user_id = _user_id(session, username)
    session.execute(text("UPDATE app_user SET role = CAST(:role AS user_role), grid_code = :grid, "
                         "street_code = :street, community_code = :community WHERE id = :id"),
                    {"role": role, "grid": grid_code, "street": street_code, "community": community_code,
                     "id": user_id})
    _end_sessions(session, user_id)


def set_active(session: Session, username: str, active: bool) -> None:
    """Disable (or enable again) an account; disabling ends its sessions and stops its key."""
    user_id = _user_id(session, username)
    session.execute(text("UPDATE app_user SET active = :active WHERE id = :id"), {"active": active, "id": user_id})
    if not active:
        _end_sessions(session, user_id)


def reset_key(session: Session, username: str) -> str:
    """Give a user a new key (the old one stops working) and return it."""
    key = secrets.token_urlsafe(24)
    updated = session.execute(
        text("UPDATE app_user SET api_key_hash = :hash WHERE username = :u"), {"hash": hash_key(key), "u": username}
    ).rowcount
    if not updated:
        raise InvalidInput(f"unknown user {username!r}")
    return key


def link_person(session: Session, username: str, person_id: int) -> None:
    """Tie an account to the person the team records know (a worker's grids follow their memberships)."""
    user_id = _user_id(session, username)
    if session.execute(text("SELECT 1 FROM person WHERE id = :p"), {"p": person_id}).first() is None:
        raise NotFound(f"unknown person {person_id}")
    session.execute(text("UPDATE app_user SET person_id = :p WHERE id = :id"), {"p": person_id, "id": user_id})
    _end_sessions(session, user_id)
