"""Who may read and change what, role by role, without a server."""

from __future__ import annotations

import pytest

from gis.permissions import (
    Actor,
    CaseScope,
    Forbidden,
    can_read_case,
    can_read_layers,
    check_action,
    check_create_case,
    check_route_by_hand,
    scope_filters,
)
from gis.workflow import Action

WEST, EAST = "500103001001001", "500103002001001"
CASE = CaseScope(grid_code=WEST, street_code="500103001", created_by="hotline-app")
ACTORS = {
    "admin": Actor("admin", "admin"),
    "centre": Actor("centre", "command_centre"),
    "planner": Actor("planner", "planner"),
    "street-own": Actor("s1", "street_officer", street_code="500103001"),
    "street-other": Actor("s2", "street_officer", street_code="500103002"),
    "worker-own": Actor("w1", "grid_worker", grid_code=WEST),
    "worker-other": Actor("w2", "grid_worker", grid_code=EAST),
    "client-own": Actor("hotline-app", "open311_client"),
    "client-other": Actor("other-app", "open311_client"),
}
# (reads the case, may file it, may accept it, may report cases, may route by hand, reads layers)
EXPECTED = {
    "admin": (True, True, True, True, True, True),
    "centre": (True, True, False, True, True, True),
    "planner": (True, False, False, False, False, True),
    "street-own": (True, True, False, True, False, False),
    "street-other": (False, False, False, True, False, False),
    "worker-own": (True, False, True, True, False, False),
    "worker-other": (False, False, False, True, False, False),
    "client-own": (True, False, False, True, False, False),
    "client-other": (False, False, False, True, False, False),
}


def _allowed(check, *args) -> bool:  # noqa: ANN001
    try:
        check(*args)
    except Forbidden:
        return False
    return True


@pytest.mark.parametrize("who", list(ACTORS))
def test_role_table(who: str) -> None:
    actor = ACTORS[who]
    got = (
        can_read_case(actor, CASE),
        _allowed(check_action, actor, CASE, Action.file, 1),
        _allowed(check_action, actor, CASE, Action.accept, 1),
        _allowed(check_create_case, actor),
        _allowed(check_route_by_hand, actor),
        can_read_layers(actor),
    )
    assert got == EXPECTED[who]


def test_listing_is_narrowed_to_the_actor_area() -> None:
    assert scope_filters(ACTORS["worker-own"]) == {"grid_code": WEST}
    assert scope_filters(ACTORS["street-own"]) == {"street_code": "500103001"}
    assert scope_filters(ACTORS["client-own"]) == {"created_by": "hotline-app"}
    assert scope_filters(ACTORS["centre"]) == {}


def test_unrouted_case_is_not_readable_by_workers_or_street_officers() -> None:
    unrouted = CaseScope(grid_code=None, street_code=None, created_by="centre")
    assert not can_read_case(ACTORS["worker-own"], unrouted)
    assert not can_read_case(ACTORS["street-own"], unrouted)
    assert can_read_case(ACTORS["centre"], unrouted)
