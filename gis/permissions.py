"""Who may read and change what: plain rules on an Actor, testable without a server.

Roles (see `UserRole` in gis/store/models/accounts.py):
- admin — the district grid office: everything.
- command_centre — reads everything; files, declines, dispatches, reassigns, verifies, rejects, records
  the reporter's evaluation, routes unrouted cases by hand.
- street_officer (street manager) and community_manager — the same actions, on cases of their own street
  or community only, and they read only that area.
- grid_worker — reads and works the cases of the grids whose team they serve in (accept, handle); reports
  new cases anywhere.
- planner — reads places and cases (personal data masked); changes no case and attaches no photo.
- open311_client (intake client) — posts residents' requests and reads those it posted.

Whoever reported a case may read it and add photos to it, wherever it was routed: a worker reports what
they see wherever they are, and finds it among "my reports" without seeing that grid's other cases.

The area a person may see is one value, `area_of(actor)`; gis/store/area.py turns it into the SQL every
list, search, export, layer, tile, ledger and Open311 read applies. Reporters' names, phones and exact
addresses are shown to the team handling the case and the managers above it (`sees_personal_data`),
masked for everyone else (gis/privacy.py).

Reads, route by route (tests/api/test_authorization_matrix.py holds each route to these; a new route needs a
rule there):
- Cases, their events and photos: `can_read_case` — the district-wide readers, the area roles inside their
  area, anyone for the cases they reported (the intake client: what it posted). Lists add the same rule in
  SQL (`case_visibility_sql`). The case JSON masks the reporter unless `sees_personal_data`: planners and the
  intake client read cases masked, and so does a worker reading a case they reported in another grid.
- Ledger (CSV, Excel): the district-wide readers anywhere, the area roles for places inside their area
  (`gis.ledger.can_read_scope`), never the intake client; rows masked as the case JSON is.
- Map layers, vector tiles and the wall: district-wide readers only (`can_read_layers`); they carry no
  reporter (the coverage layer's unrouted cases show the address cut to the street).
- Open311 reads: public, every case, through a fixed list of public fields; the address cut to the street,
  livelihood requests without text or address.
- A grid's card (`/api/grids/{code}`): every signed-in role, any grid — it is the notice board: branch and
  secretary, the team's leader and grid workers (`NOTICE_BOARD_ROLES`) with their phones, household counts.
  The private residents who serve (central households, volunteers, caring residents) are named only to
  `sees_team_members` (the grid's own workers, the managers above it, the command centre, admins), never
  with a phone; others get their number only.
- Buildings (`/api/buildings`, `/api/grids/{code}/buildings`, the OGC buildings collection): every
  signed-in role, district-wide. A building carries an address, households, residents and floors: facts of
  the place, no person; a worker reports and visits wherever they are, and the intake client may check a
  position. Anonymous callers get grid outlines only.
- Plans: read by admins, planners and the command centre; made and changed by admins and planners.
- Work days and visit counts: every signed-in role, each seeing the work days and grids of its own area
  (`area_sql`); scheduling by managers in their area (`check_schedule_work_day`), visits by them and the
  grid's workers (`check_record_visit`).
- Rosters (`/api/workdays/roster`): public, published beforehand — time, place, roles and counts; the
  people's names and titles only to `sees_roster_names`. Attendance: managers in their area
  (`check_record_attendance`). The work-day report: `REPORT_READERS`, over the work days of their area, the
  cadres' names only when they see the names of every work day counted.
- Focus households (关爱对象, gis/focus.py): who they are (door, name, phone, helper) only to those who keep
  them — the grid's workers and the managers above it, the command centre and admins (`FOCUS_KEEPERS`, in
  their area: `sees_team_members`); planners read counts per grid only, the intake client and the public
  nothing. Registering, pairing and recording a visit: the same people in their area (`check_keep_focus`).
- Liaisons (联络员): every signed-in role reads the assignments and gaps of its area; the command centre and
  admins assign anywhere, a street officer in their street (`check_assign_liaison`).
- Repeats and duplicates (gis/repeats.py): the similar cases offered beside a case are those the reader may
  read, and the same-reporter rule is applied only for a reader who sees the case's personal data; merging
  a duplicate and linking a repeat take `Action.merge` on the later case (the desk roles in their area) and
  reading the earlier one. Long-standing problems: read by the district-wide readers and the area roles in
  their area, kept (`check_keep_long_problem`) by the desk roles in their area.
- The audit log and account changes: admins only.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from gis.errors import GridmapError
from gis.workflow import Action


class Forbidden(GridmapError):
    """The actor is known but may not do this (HTTP 403)."""


class Unauthenticated(GridmapError):
    """No valid credentials were given (HTTP 401)."""


class AreaLevel(enum.StrEnum):
    everywhere = "everywhere"
    street = "street"
    community = "community"
    grid = "grid"
    nowhere = "nowhere"


@dataclass(frozen=True)
class Area:
    """The places a person answers for: everywhere, nowhere, or a set of street, community or grid codes
    (one level per person). Codes nest by prefix: a grid's first 12 digits are its community, 9 its street."""

    level: AreaLevel
    codes: frozenset[str] = frozenset()

    def covers(self, grid_code: str | None, community_code: str | None = None,
               street_code: str | None = None) -> bool:
        """Is a place (a case's or a building's grid, community, street) inside this area?"""
        if self.level is AreaLevel.everywhere:
            return True
        if self.level is AreaLevel.nowhere:
            return False
        code = {AreaLevel.street: street_code or (grid_code or "")[:9] or None,
                AreaLevel.community: community_code or (grid_code or "")[:12] or None,
                AreaLevel.grid: grid_code}[self.level]
        return code is not None and code in self.codes

    def covers_code(self, code: str) -> bool:
        """Is a whole place, given by its code (street 9, community 12, grid 15 digits), inside this area?"""
        if self.level is AreaLevel.everywhere:
            return True
        return any(code.startswith(own) for own in self.codes)


EVERYWHERE = Area(AreaLevel.everywhere)
NOWHERE = Area(AreaLevel.nowhere)


@dataclass(frozen=True)
class Actor:
    """The caller, as the rules need to see them. `grid_codes` are a grid worker's grids: those whose
    current team they serve in on today's date (team memberships), and one given by hand if any."""

    username: str
    role: str
    street_code: str | None = None
    community_code: str | None = None
    grid_codes: frozenset[str] = frozenset()
    person_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class CaseScope:
    """Where a case sits, as the rules need to see it."""

    grid_code: str | None
    street_code: str | None
    created_by: str
    community_code: str | None = None


READ_ALL = {"admin", "command_centre", "planner"}
MANAGERS = {"street_officer", "community_manager"}
AREA_ROLES = MANAGERS | {"grid_worker"}
CREATORS = {"admin", "command_centre", "street_officer", "community_manager", "grid_worker", "open311_client"}
ROUTERS = {"admin", "command_centre"}
PERSONAL_DATA_EVERYWHERE = {"admin", "command_centre"}
_DESK_ACTIONS = frozenset({
    Action.file, Action.decline, Action.dispatch, Action.reassign, Action.verify, Action.reject,
    Action.evaluate_satisfied, Action.evaluate_unsatisfied,
    Action.merge,  # merging a duplicate and linking a repeat (gis/repeats.py) are desk decisions
})
_FIELD_ACTIONS = frozenset({Action.accept, Action.handle, Action.explain})  # explain: the handler tells why
ACTIONS_BY_ROLE: dict[str, frozenset[Action]] = {
    "admin": frozenset(Action),
    "command_centre": _DESK_ACTIONS,
    "street_officer": _DESK_ACTIONS,
    "community_manager": _DESK_ACTIONS,
    "grid_worker": _FIELD_ACTIONS,
    "planner": frozenset(),
    "open311_client": frozenset(),
}


def area_of(actor: Actor) -> Area:
    """The one rule turning a person into the places they may see (applied in SQL by gis/store/area.py)."""
    if actor.role in READ_ALL:
        return EVERYWHERE
    if actor.role == "street_officer" and actor.street_code:
        return Area(AreaLevel.street, frozenset({actor.street_code}))
    if actor.role == "community_manager" and actor.community_code:
        return Area(AreaLevel.community, frozenset({actor.community_code}))
    if actor.role == "grid_worker" and actor.grid_codes:
        return Area(AreaLevel.grid, actor.grid_codes)
    return NOWHERE


def in_area(actor: Actor, case: CaseScope) -> bool:
    """Is the case inside the area the actor answers for (their street, community, grids)?"""
    if actor.role not in AREA_ROLES:
        return False
    return area_of(actor).covers(case.grid_code, case.community_code, case.street_code)


def reported_by(actor: Actor, case: CaseScope) -> bool:
    return actor.role in CREATORS and case.created_by == actor.username


def can_read_case(actor: Actor, case: CaseScope) -> bool:
    return actor.role in READ_ALL or reported_by(actor, case) or in_area(actor, case)


def check_read_case(actor: Actor, case: CaseScope, case_id: int) -> None:
    if not can_read_case(actor, case):
        raise Forbidden(f"{actor.role} {actor.username!r} may not read case {case_id}")


def sees_personal_data(actor: Actor, case: CaseScope) -> bool:
    """Reporters' names, phones and exact addresses: the team handling the case (its grid's workers) and the
    managers above it (its community's and street's managers, the command centre, admins)."""
    return actor.role in PERSONAL_DATA_EVERYWHERE or in_area(actor, case)


NOTICE_BOARD_ROLES = frozenset({"leader", "grid_worker"})
"""Team roles a grid's notice board names (with a phone): the card of any grid shows them to every role."""


def sees_team_members(actor: Actor, grid_code: str) -> bool:
    """The private residents who serve in a grid's team (party-member central households, volunteers, caring
    residents): the grid's own team and the managers above it, the command centre and admins — never the
    public, planners, intake clients or other grids' workers."""
    return actor.role in PERSONAL_DATA_EVERYWHERE or (
        actor.role in AREA_ROLES and area_of(actor).covers(grid_code))


def check_create_case(actor: Actor) -> None:
    if actor.role not in CREATORS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not report cases")


def check_action(actor: Actor, case: CaseScope, action: Action, case_id: int) -> None:
    """May this actor take this workflow action on this case? (Whether the workflow allows it is separate.)"""
    if action not in ACTIONS_BY_ROLE.get(actor.role, frozenset()):
        raise Forbidden(f"{actor.role} {actor.username!r} may not {action.value} cases")
    if actor.role in AREA_ROLES and not in_area(actor, case):
        raise Forbidden(f"case {case_id} is outside {actor.username!r}'s area")


def allowed_actions(actor: Actor, case: CaseScope, workflow_allows: frozenset[Action]) -> list[Action]:
    """What this actor may do to the case now: what the workflow allows and the role and area permit."""
    if actor.role in AREA_ROLES and not in_area(actor, case):
        return []
    permitted = ACTIONS_BY_ROLE.get(actor.role, frozenset())
    return [action for action in Action if action in workflow_allows and action in permitted]


def check_add_photo(actor: Actor, case: CaseScope, case_id: int) -> None:
    """Photos are evidence of work: those who may act on the case in their area, and its reporter."""
    if reported_by(actor, case):
        return
    if not ACTIONS_BY_ROLE.get(actor.role):
        raise Forbidden(f"{actor.role} {actor.username!r} may not attach photos to cases")
    if actor.role in AREA_ROLES and not in_area(actor, case):
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


def check_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden(f"{actor.role} {actor.username!r} may not do this: admins only")


# -- work days and visits (gis/workdays.py) ------------------------------------------------------------

SCHEDULERS = {"admin", "command_centre", "street_officer", "community_manager"}
VISITORS = SCHEDULERS | {"grid_worker"}


def check_schedule_work_day(actor: Actor, community_code: str, street_code: str | None) -> None:
    """Managers schedule work days and assign people in their own area; the command centre and admins
    anywhere."""
    if actor.role not in SCHEDULERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not schedule work days; "
                        f"allowed roles: {', '.join(sorted(SCHEDULERS))}")
    if not area_of(actor).covers(None, community_code, street_code):
        raise Forbidden(f"community {community_code} is outside {actor.username!r}'s area")


def check_record_visit(actor: Actor, building_code: str, grid_code: str | None, community_code: str | None,
                       street_code: str | None) -> None:
    """A household visit: a grid worker at a building of their grids, a manager in their area, the command
    centre and admins anywhere."""
    if actor.role not in VISITORS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not record visits; "
                        f"allowed roles: {', '.join(sorted(VISITORS))}")
    if not area_of(actor).covers(grid_code, community_code, street_code):
        raise Forbidden(f"building {building_code} is outside {actor.username!r}'s area")


# -- focus households (gis/focus.py) ------------------------------------------------------------------

FOCUS_KEEPERS = VISITORS
"""Who sees focus households by name and keeps the register, each in their area."""
FOCUS_COUNT_READERS = READ_ALL | AREA_ROLES
"""Who reads the focus register's counts per grid (no names), each in their area."""


def check_read_focus_people(actor: Actor) -> None:
    """Focus households by name (the list): the keepers; their lists add the area in SQL."""
    if actor.role not in FOCUS_KEEPERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not see who the focus households are; "
                        f"allowed roles: {', '.join(sorted(FOCUS_KEEPERS))}")


def check_read_focus_counts(actor: Actor) -> None:
    if actor.role not in FOCUS_COUNT_READERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not read focus household counts; "
                        f"allowed roles: {', '.join(sorted(FOCUS_COUNT_READERS))}")


def check_keep_focus(actor: Actor, building_code: str, grid_code: str | None, community_code: str | None,
                     street_code: str | None) -> None:
    """Register, change, end, pair and visit a focus household: a keeper whose area holds its building."""
    if actor.role not in FOCUS_KEEPERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not keep the focus register; "
                        f"allowed roles: {', '.join(sorted(FOCUS_KEEPERS))}")
    if not area_of(actor).covers(grid_code, community_code, street_code):
        raise Forbidden(f"building {building_code} is outside {actor.username!r}'s area")


# -- liaisons (gis/liaisons.py) --------------------------------------------------------------------------

LIAISON_ASSIGNERS = {"admin", "command_centre", "street_officer"}


def check_assign_liaison(actor: Actor, codes: Iterable[str]) -> None:
    """Liaisons (联络员) are assigned by the command centre and admins anywhere, by a street officer for
    grids and communities of their own street; every signed-in role reads those of its area."""
    if actor.role not in LIAISON_ASSIGNERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not assign liaisons; "
                        f"allowed roles: {', '.join(sorted(LIAISON_ASSIGNERS))}")
    area = area_of(actor)
    for code in codes:
        if not area.covers_code(code):
            raise Forbidden(f"{code} is outside {actor.username!r}'s area")


# -- party strength, commitments, evaluations, the report to residents' representatives (gis/party.py) -------

PARTY_EDITORS = SCHEDULERS
PARTY_READERS = READ_ALL | AREA_ROLES


def can_read_party(actor: Actor, place_code: str) -> bool:
    """Branch strength, grades, commitments, evaluations and the 双公开 report of a place (a grid or
    community code): the district-wide readers anywhere, the area roles inside their area. Never names a
    member: the public sees commitments only on the grid card."""
    return actor.role in PARTY_READERS and area_of(actor).covers_code(place_code)


def check_party_reader(actor: Actor) -> None:
    """Roles that read party records at all (lists then keep the actor's area)."""
    if actor.role not in PARTY_READERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not read party records; "
                        f"allowed roles: {', '.join(sorted(PARTY_READERS))}")


def check_read_party(actor: Actor, place_code: str) -> None:
    check_party_reader(actor)
    if not can_read_party(actor, place_code):
        raise Forbidden(f"{place_code} is outside {actor.username!r}'s area")


def check_edit_party(actor: Actor, place_code: str) -> None:
    """Members, grades, pairings, commitments and evaluations: managers in their area, the command centre
    and admins anywhere."""
    if actor.role not in PARTY_EDITORS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not change party records; "
                        f"allowed roles: {', '.join(sorted(PARTY_EDITORS))}")
    if not area_of(actor).covers_code(place_code):
        raise Forbidden(f"{place_code} is outside {actor.username!r}'s area")


# -- rosters, attendance and the work-day report (gis/rosters.py, gis/workday_report.py) -----------------

REPORT_READERS = READ_ALL | AREA_ROLES


def check_record_attendance(actor: Actor, community_code: str, street_code: str | None) -> None:
    """Who came to a session: those who schedule work days, in their area."""
    if actor.role not in SCHEDULERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not record attendance; "
                        f"allowed roles: {', '.join(sorted(SCHEDULERS))}")
    if not area_of(actor).covers(None, community_code, street_code):
        raise Forbidden(f"community {community_code} is outside {actor.username!r}'s area")


def sees_roster_names(actor: Actor | None, community_code: str, grid_code: str | None = None) -> bool:
    """The names and titles on a roster, like a team's members (`sees_team_members`): the command centre and
    admins, the managers of the place, and the workers of its grid (a building's session) or of a grid in
    its community (a community's); the public, planners and intake clients see roles and counts only."""
    if actor is None:
        return False
    if actor.role in PERSONAL_DATA_EVERYWHERE:
        return True
    if actor.role not in AREA_ROLES:
        return False
    area = area_of(actor)
    if area.level is AreaLevel.grid:
        return grid_code in area.codes if grid_code else any(g.startswith(community_code) for g in area.codes)
    return area.covers(grid_code, community_code, community_code[:9])


def check_read_workday_report(actor: Actor) -> None:
    if actor.role not in REPORT_READERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not read the work-day report; "
                        f"allowed roles: {', '.join(sorted(REPORT_READERS))}")


# -- long-standing problems (gis/repeats.py) ----------------------------------------------------------

LONG_PROBLEM_KEEPERS = {"admin", "command_centre", "street_officer", "community_manager"}
LONG_PROBLEM_READERS = READ_ALL | AREA_ROLES


def check_read_long_problems(actor: Actor) -> None:
    if actor.role not in LONG_PROBLEM_READERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not read long-standing problems; "
                        f"allowed roles: {', '.join(sorted(LONG_PROBLEM_READERS))}")


def check_keep_long_problem(actor: Actor, community_code: str, grid_code: str | None) -> None:
    """Add or change a long-standing problem: the desk roles, in their area (the command centre and admins
    anywhere)."""
    if actor.role not in LONG_PROBLEM_KEEPERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not keep long-standing problems; "
                        f"allowed roles: {', '.join(sorted(LONG_PROBLEM_KEEPERS))}")
    if not area_of(actor).covers(grid_code, community_code, community_code[:9]):
        raise Forbidden(f"community {community_code} is outside {actor.username!r}'s area")
