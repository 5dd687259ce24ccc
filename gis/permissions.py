"""Who may read and change what: plain rules on an Actor, testable without a server.

Roles (see `UserRole` in gis/store/models/cases.py):
- admin — the district grid office: everything.
- command_centre — reads everything; files, declines, dispatches, reassigns, verifies, rejects, records
  the reporter's evaluation, routes unrouted cases by hand.
- street_officer — the same actions, on cases of their own street only.
- grid_worker — reads and works the cases of their own grid (accept, handle); reports new cases anywhere.
- planner — reads everything; changes no case and attaches no photo.

Whoever reported a case may read it and add photos to it, wherever it was routed: a worker reports what
they see wherever they are.
- open311_client — posts residents' requests and reads those it posted.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.errors import GridmapError
from gis.workflow import Action


class Forbidden(GridmapError):
    """The actor is known but may not do this (HTTP 403)."""


class Unauthenticated(GridmapError):
    """No valid credentials were given (HTTP 401)."""


@dataclass(frozen=True)
class Actor:
    """The caller, as the rules need to see them."""

    username: str
    role: str
    grid_code: str | None = None
    street_code: str | None = None


@dataclass(frozen=True)
class CaseScope:
    """Where a case sits, as the rules need to see it."""

    grid_code: str | None
    street_code: str | None
    created_by: str


READ_ALL = {"admin", "command_centre", "planner"}
CREATORS = {"admin", "command_centre", "street_officer", "grid_worker", "open311_client"}
ROUTERS = {"admin", "command_centre"}
_DESK_ACTIONS = frozenset({
    Action.file, Action.decline, Action.dispatch, Action.reassign, Action.verify, Action.reject,
    Action.evaluate_satisfied, Action.evaluate_unsatisfied,
})
_FIELD_ACTIONS = frozenset({Action.accept, Action.handle})
ACTIONS_BY_ROLE: dict[str, frozenset[Action]] = {
    "admin": frozenset(Action),
    "command_centre": _DESK_ACTIONS,
    "street_officer": _DESK_ACTIONS,
    "grid_worker": _FIELD_ACTIONS,
    "planner": frozenset(),
    "open311_client": frozenset(),
}


def in_area(actor: Actor, case: CaseScope) -> bool:
    """Is the case inside the area the actor answers for (their street, their grid)?"""
    if actor.role == "street_officer":
        return case.street_code is not None and case.street_code == actor.street_code
    if actor.role == "grid_worker":
        return case.grid_code is not None and case.grid_code == actor.grid_code
    return False


def can_read_case(actor: Actor, case: CaseScope) -> bool:
    if actor.role in READ_ALL or (actor.role in CREATORS and case.created_by == actor.username):
        return True
    return in_area(actor, case)


def check_read_case(actor: Actor, case: CaseScope, case_id: int) -> None:
    if not can_read_case(actor, case):
        raise Forbidden(f"{actor.role} {actor.username!r} may not read case {case_id}")


def check_create_case(actor: Actor) -> None:
    if actor.role not in CREATORS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not report cases")


def check_action(actor: Actor, case: CaseScope, action: Action, case_id: int) -> None:
    """May this actor take this workflow action on this case? (Whether the workflow allows it is separate.)"""
    if action not in ACTIONS_BY_ROLE.get(actor.role, frozenset()):
        raise Forbidden(f"{actor.role} {actor.username!r} may not {action.value} cases")
    if actor.role in ("street_officer", "grid_worker") and not in_area(actor, case):
        raise Forbidden(f"case {case_id} is outside {actor.username!r}'s area")


def check_add_photo(actor: Actor, case: CaseScope, case_id: int) -> None:
    """Photos are evidence of work: those who may act on the case in their area, and its reporter."""
    if actor.role in CREATORS and case.created_by == actor.username:
        return
    if not ACTIONS_BY_ROLE.get(actor.role):
        raise Forbidden(f"{actor.role} {actor.username!r} may not attach photos to cases")
    if actor.role in ("street_officer", "grid_worker") and not in_area(actor, case):
        raise Forbidden(f"case {case_id} is outside {actor.username!r}'s area")


def check_route_by_hand(actor: Actor) -> None:
    if actor.role not in ROUTERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not route cases by hand")


def can_read_layers(actor: Actor) -> bool:
    """District-wide measures and map layers (the wall map): the roles that read every grid."""
    return actor.role in READ_ALL


def check_read_layers(actor: Actor) -> None:
    if not can_read_layers(actor):
        raise Forbidden(f"{actor.role} {actor.username!r} may not read the map layers; "
                        f"allowed roles: {', '.join(sorted(READ_ALL))}")


def scope_filters(actor: Actor) -> dict[str, str]:
    """Filters every case listing gets for this actor, whatever the caller asked for."""
    if actor.role == "street_officer":
        return {"street_code": actor.street_code or "-"}
    if actor.role == "grid_worker":
        return {"grid_code": actor.grid_code or "-"}
    if actor.role == "open311_client":
        return {"created_by": actor.username}
    return {}
