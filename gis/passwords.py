"""Passwords and the sign-in policy: argon2id hashes (argon2-cffi), what a password must be, and how
repeated failures lock an account. Pure: no database, no web framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gis.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 200
FAILURES_BEFORE_LOCK = 5  # wrong passwords in a row before the account locks for LOCK_DURATION
LOCK_DURATION = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)  # a working day; a kiosk's key session lasts longer
KIOSK_SESSION_LIFETIME = timedelta(days=30)
IDLE_TIMEOUT = timedelta(hours=4)  # a session unused this long ends (a phone left on a bench)

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters


def check_password_rules(password: str, username: str) -> None:
    """A password long enough to resist guessing, and not the username."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"the password may have at most {MAX_LENGTH} characters")
    if username.lower() in password.lower():
        raise InvalidInput("the password must not contain the username")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a missing hash (a machine account) never matches, and costs the same
    time as a check, so a username without a password cannot be told apart by timing."""
    if stored_hash is None:
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


@dataclass(frozen=True)
class FailureOutcome:
    failures: int
    locked_until: datetime | None


def after_failure(failures: int, now: datetime) -> FailureOutcome:
    """The account's counter and lock after one more wrong password."""
    failures += 1
    if failures >= FAILURES_BEFORE_LOCK:
        return FailureOutcome(0, now + LOCK_DURATION)
    return FailureOutcome(failures, None)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now
