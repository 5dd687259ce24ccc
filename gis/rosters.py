"""Rosters (公示) of work days and receptions: the sessions of a schedule, who is on duty at each, the
session a later visit belongs to, and what each reader is shown. Pure rules, no database.

**A session** is one date of a schedule (`gis.workdays.occurrences`): a work day or a reception
(`Kind`) at a community or a building, on that date.

**Rotation as data.** Each assignee carries a `rotation_group`: None = at every session, or 0 … n-1 = one
group of a rotation (a weekly reception whose party and people's-congress representatives take turns).
The groups of a schedule are its distinct groups, sorted; the session with index k (its place among the
schedule's dates counted from `valid_from`, days off already skipped, so a skipped Tuesday uses no turn)
is taken by `groups[k % len(groups)]`. Adding a group later re-deals the turns from then on; sessions
already held keep their recorded attendance.

**The session of a visit** (a visit recorded with a work day, perhaps a few days after it, or sent late
from a phone): the schedule's latest date on or before the visit's local day, at most `FOLLOW_UP_DAYS`
before it.

**What a reader sees** (`shown`): every reader, signed in or not, the time, place, title, roles and the
number of people per role — the roster is published beforehand; the people's names and titles only to
those who see the team members of that place (`gis.permissions.sees_roster_names`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from gis.workcalendar import WorkCalendar
from gis.workdays import AssigneeRole, Schedule, occurrences

FOLLOW_UP_DAYS = 31
"""How long after a session a visit recorded with its work day still belongs to it."""

ROLE_ORDER = tuple(AssigneeRole)
"""The order roles are listed in: cadres, workers, party then people's-congress representatives."""


def session_index(schedule: Schedule, day: date, calendar: WorkCalendar | None = None) -> int | None:
    """The place of `day` among the schedule's dates from `valid_from` (0 = the first); None when `day`
    is not one of them."""
    dates = occurrences(schedule, schedule.valid_from, day, calendar)
    if not dates or dates[-1] != day:
        return None
    return len(dates) - 1


def groups_of(rotation_groups: Iterable[int | None]) -> list[int]:
    """The rotation's groups, sorted (assignees at every session have None and are no group)."""
    return sorted({g for g in rotation_groups if g is not None})


def on_duty_group(index: int, groups: Sequence[int]) -> int | None:
    """The group whose turn session `index` is; None when the schedule does not rotate."""
    return groups[index % len(groups)] if groups else None


def on_duty(assignees: Sequence[Mapping[str, Any]], index: int) -> list[Mapping[str, Any]]:
    """The assignees at session `index`: those at every session and the group whose turn it is."""
    turn = on_duty_group(index, groups_of(a.get("rotation_group") for a in assignees))
    return [a for a in assignees if a.get("rotation_group") is None or a.get("rotation_group") == turn]


def session_of(schedule: Schedule, day: date, calendar: WorkCalendar | None = None) -> date | None:
    """The session a visit on `day` belongs to: the latest date on or before it, within FOLLOW_UP_DAYS."""
    dates = occurrences(schedule, day - timedelta(days=FOLLOW_UP_DAYS), day, calendar)
    return dates[-1] if dates else None


def role_counts(assignees: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """People per role, in ROLE_ORDER, roles with nobody left out."""
    counts = Counter(str(a["role"]) for a in assignees)
    return {str(role): counts[str(role)] for role in ROLE_ORDER if counts[str(role)]}


PERSON_FIELDS = ("assignee_id", "role", "name", "title", "attended")


def shown(session: Mapping[str, Any], people: Sequence[Mapping[str, Any]], show_names: bool) -> dict[str, Any]:
    """A session as a reader sees it: the public fields and counts for everyone; the people (name, title,
    role, whether they came) only with `show_names`."""
    item = {**session, "roles": role_counts(people), "people_count": len(people),
            "present": sum(1 for p in people if p.get("attended") is True)}
    if show_names:
        item["people"] = [{k: p.get(k) for k in PERSON_FIELDS} for p in people]
    return item
