"""Who may read and change what, role by role, without a server."""

from __future__ import annotations

import pytest

from gis.permissions import (
    EVERYWHERE,
    NOWHERE,
    Actor,
    Area,
    AreaLevel,
    CaseScope,
    Forbidden,
    area_of,
    can_read_case,
    can_read_layers,
    check_action,
    check_create_case,
    check_route_by_hand,
    sees_personal_data,
    sees_team_members,
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
    "worker-own": Actor("w1", "grid_worker", grid_codes=frozenset({WEST})),
    "worker-other": Actor("w2", "grid_worker", grid_codes=frozenset({EAST})),
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


def test_each_role_has_one_area() -> None:
    assert area_of(ACTORS["worker-own"]) == Area(AreaLevel.grid, frozenset({WEST}))
    assert area_of(ACTORS["street-own"]) == Area(AreaLevel.street, frozenset({"500103001"}))
    assert area_of(Actor("c", "community_manager", community_code=WEST[:12])) == \
        Area(AreaLevel.community, frozenset({WEST[:12]}))
    assert area_of(ACTORS["client-own"]) == NOWHERE
    assert area_of(Actor("w", "grid_worker")) == NOWHERE  # a worker in no team sees no grid
    assert area_of(Actor("s", "street_officer")) == NOWHERE
    for reader in ("admin", "centre", "planner"):
        assert area_of(ACTORS[reader]) == EVERYWHERE


def test_an_area_covers_places_by_code_prefix() -> None:
    street = Area(AreaLevel.street, frozenset({"500103001"}))
    assert street.covers(WEST) and street.covers(None, street_code="500103001")
    assert not street.covers(EAST.replace("500103001", "500103002"))
    assert not street.covers(None)  # an unrouted case is in no street's area
    assert street.covers_code("500103001") and street.covers_code(WEST) and not street.covers_code("500103")
    grid = Area(AreaLevel.grid, frozenset({WEST}))
    assert grid.covers(WEST) and not grid.covers(EAST) and not grid.covers_code(WEST[:12])


def test_unrouted_case_is_not_readable_by_workers_or_street_officers() -> None:
    unrouted = CaseScope(grid_code=None, street_code=None, created_by="centre")
    assert not can_read_case(ACTORS["worker-own"], unrouted)
    assert not can_read_case(ACTORS["street-own"], unrouted)
    assert can_read_case(ACTORS["centre"], unrouted)


@pytest.mark.parametrize(("who", "sees"), [
    ("admin", True), ("centre", True), ("street-own", True), ("worker-own", True), ("planner", False),
    ("street-other", False), ("worker-other", False), ("client-own", False),
])
def test_personal_data_and_a_teams_private_members_go_to_the_team_and_managers_above(who: str, sees: bool) -> None:
    assert sees_personal_data(ACTORS[who], CASE) is sees  # the client that posted the case included
    assert sees_team_members(ACTORS[who], WEST) is sees
