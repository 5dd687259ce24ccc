"""Domain errors for gridmap: what went wrong, in words for people, never in HTTP terms.

The API maps these classes to status codes in one table (`api/errors.py`): NotFound → 404,
InvalidInput → 422, Conflict → 409, any other GridmapError → 400. Modules add their own subclasses
(e.g. `GeometryError(InvalidInput)`) so the mapping keeps working without edits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class GridmapError(Exception):
    """Base of every domain error: `message` is shown to people, `details` is optional structured data."""

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message


class NotFound(GridmapError):
    """The thing asked for does not exist (or did not exist on the date asked for)."""


class InvalidInput(GridmapError):
    """The input breaks a rule; the message names the bad value and what was allowed."""


class Conflict(GridmapError):
    """The request is well-formed but clashes with the current state of things."""


class IllegalTransition(Conflict):
    """A workflow action that the case's current status does not allow.

    Carries `current` (the status) and `allowed` (the actions that would have been accepted) so a
    client can offer the right buttons instead of parsing the message.
    """

    def __init__(self, current: str, action: str, allowed: Iterable[str], message: str | None = None) -> None:
        # Kept as given: the workflow passes StrEnum members, which compare equal to their plain values.
        self.current = current
        self.action = action
        self.allowed: tuple[str, ...] = tuple(allowed)
        names = [str(a) for a in self.allowed]
        shown = ", ".join(names) or "none (final status)"
        super().__init__(
            message or f"cannot {action} a case that is {current}; allowed next actions: {shown}",
            details={"current": str(current), "action": str(action), "allowed": names},
        )


class GeometryError(InvalidInput):
    """A geometry cannot be used as given (wrong type, invalid, outside the allowed range)."""


class CoordinateSystemError(InvalidInput):
    """A coordinate system is missing, unknown, or contradicts the one the data declares."""


class PayloadTooLarge(InvalidInput):
    """An upload (e.g. a photo) is larger than allowed; the message names the limit."""
