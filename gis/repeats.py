"""Repeats and duplicates (重信重访), and long-standing problems (老大难): the rules, without a database.

When a case is filed, earlier reports are offered beside it when one of three rules matches:

* **same building** — the same category at the same building, for the categories that happen at a
  building (livelihood requests and the building's own condition, `street_level` false). A case's building
  is the nearest building point within `BUILDING_RADIUS_M` of its position (the store finds it);
* **nearby** — the same category within `STREET_RADIUS_M`, for street-level categories (urban-management
  events and components, except the group 房屋土地: those are a building's). Both look back `LOOKBACK_DAYS`;
* **same reporter** — the same phone number (`phone_key`) within `REPORTER_WINDOW_DAYS`, any category.

An earlier case still open is offered as a **duplicate** (merge the new one into it: the new one closes as
merged and its reporter is told), one already closed as a **repeat** (link the new one to it: it stays open
and counts in the grid's repeat rate). Declined and merged cases are never offered.

A long-standing problem has an owner (an account or a department), a review date and a status; a list
shows those whose review is overdue first (`review_order`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from gis.categories import CategoryKind
from gis.errors import Conflict, InvalidInput
from gis.workflow import CaseStatus, is_declined, is_open, parse_enum

__all__ = [
    "BUILDING_RADIUS_M", "LOOKBACK_DAYS", "REPORTER_WINDOW_DAYS", "STREET_RADIUS_M", "Candidate", "Earlier",
    "LongProblemStatus", "Reason", "Report", "Suggestion", "check_link", "check_long_problem", "check_merge",
    "find_similar", "phone_key", "review_order", "street_level",
]

BUILDING_RADIUS_M = 30.0
"""A case belongs to the nearest building point within this distance (none further away)."""
STREET_RADIUS_M = 50.0
"""Street-level reports of one category this close are about the same spot."""
LOOKBACK_DAYS = 90
"""How far back an earlier report of the same category at the same place is offered."""
REPORTER_WINDOW_DAYS = 30
"""How far back an earlier report by the same phone number is offered."""
BUILDING_GROUPS = frozenset({"房屋土地"})
"""Component groups that are a building's condition, not the street's."""


class Reason(StrEnum):
    same_building = "same_building"
    nearby = "nearby"
    same_reporter = "same_reporter"


class Suggestion(StrEnum):
    duplicate = "duplicate"  # the earlier case is open: merge the new one into it
    repeat = "repeat"  # the earlier case is closed: link the new one to it


def street_level(kind: str, group_zh: str) -> bool:
    """Urban-management events and components happen on the street (matched by distance); livelihood requests
    and a building's own condition happen at a building (matched by building)."""
    return kind in (CategoryKind.urban_event, CategoryKind.component) and group_zh not in BUILDING_GROUPS


_MAINLAND = re.compile(r"(?:86)?(1\d{10})")
_PHONE = re.compile(r"\+?\d[\d\s\-()]{5,}\d")


def phone_key(contact: str | None) -> str | None:
    """The first phone number in a contact text, as digits (a mainland mobile without +86), or None when there
    is no number of at least 7 digits: the same person's reports share it however the number was written."""
    if not contact:
        return None
    found = _PHONE.search(contact)
    if found is None:
        return None
    digits = re.sub(r"\D", "", found[0])
    mobile = _MAINLAND.fullmatch(digits)
    if mobile:
        return mobile[1]
    return digits if len(digits) >= 7 else None


@dataclass(frozen=True)
class Report:
    """What the rules need of the new case."""

    id: int
    category_code: str
    street_level: bool
    building_code: str | None
    phone: str | None
    reported_at: datetime


@dataclass(frozen=True)
class Earlier:
    """An earlier case as the store found it near the new one (or by its reporter), with its distance."""

    id: int
    status: str
    category_code: str
    building_code: str | None
    phone: str | None
    reported_at: datetime
    distance_m: float


@dataclass(frozen=True)
class Candidate:
    case_id: int
    reasons: tuple[Reason, ...]
    suggestion: Suggestion
    distance_m: float


def _reasons(new: Report, other: Earlier, *, reporter_rule: bool) -> tuple[Reason, ...]:
    found: list[Reason] = []
    age = new.reported_at - other.reported_at
    if other.category_code == new.category_code and age <= timedelta(days=LOOKBACK_DAYS):
        if new.street_level and other.distance_m <= STREET_RADIUS_M:
            found.append(Reason.nearby)
        if not new.street_level and new.building_code and other.building_code == new.building_code:
            found.append(Reason.same_building)
    if reporter_rule and new.phone and other.phone == new.phone and age <= timedelta(days=REPORTER_WINDOW_DAYS):
        found.append(Reason.same_reporter)
    return tuple(found)


def find_similar(new: Report, earlier: Iterable[Earlier], *, reporter_rule: bool = True) -> list[Candidate]:
    """The earlier cases a rule matches, duplicates (open) before repeats (closed), each group nearest first
    and then newest. `reporter_rule` False leaves the phone rule out (for a reader who may not see who
    reported: matching on it would tell them). Later, declined and merged cases are never offered."""
    found: list[tuple[Candidate, datetime]] = []
    for other in earlier:
        status = parse_enum(CaseStatus, other.status, "status")
        if other.id == new.id or other.reported_at > new.reported_at or is_declined(status) \
                or status is CaseStatus.merged:
            continue
        reasons = _reasons(new, other, reporter_rule=reporter_rule)
        if reasons:
            suggestion = Suggestion.duplicate if is_open(status) else Suggestion.repeat
            found.append((Candidate(other.id, reasons, suggestion, round(other.distance_m, 1)), other.reported_at))
    found.sort(key=lambda pair: (pair[0].suggestion is not Suggestion.duplicate, pair[0].distance_m,
                                 -pair[1].timestamp(), pair[0].case_id))
    return [candidate for candidate, _ in found]


# -- merging and linking ------------------------------------------------------------------------------


def check_merge(case_id: int, into_id: int, into_status: str) -> None:
    """A duplicate may be merged into another case that is still open (someone is working the problem).
    Whether the duplicate's own status allows the move is the workflow's (`Action.merge`)."""
    if case_id == into_id:
        raise InvalidInput(f"case {case_id} cannot be merged into itself", details={"into": into_id})
    into = parse_enum(CaseStatus, into_status, "status")
    if not is_open(into):
        raise Conflict(f"case {into_id} is {into}: a duplicate is merged into an open case only; "
                       f"link case {case_id} as a repeat of it instead",
                       details={"into": into_id, "into_status": str(into)})


def check_link(case_id: int, status: str, repeat_of: int | None, earlier_id: int, earlier_status: str,
               reported_at: datetime, earlier_reported_at: datetime) -> None:
    """A repeat is linked to an earlier case (reported before it), once; neither may be declined or merged."""
    if case_id == earlier_id:
        raise InvalidInput(f"case {case_id} cannot repeat itself", details={"case_id": earlier_id})
    for which, value in ((case_id, status), (earlier_id, earlier_status)):
        current = parse_enum(CaseStatus, value, "status")
        if is_declined(current) or current is CaseStatus.merged:
            raise Conflict(f"case {which} is {current}: only cases of their own are linked as repeats",
                           details={"case_id": which, "status": str(current)})
    if repeat_of is not None:
        raise Conflict(f"case {case_id} is already linked as a repeat of case {repeat_of}",
                       details={"repeat_of": repeat_of})
    if earlier_reported_at > reported_at:
        raise InvalidInput(f"case {earlier_id} was reported after case {case_id}: link the later report to "
                           "the earlier one", details={"case_id": earlier_id})


# -- long-standing problems ---------------------------------------------------------------------------


class LongProblemStatus(StrEnum):
    open = "open"  # 待解决
    in_progress = "in_progress"  # 推进中
    resolved = "resolved"  # 已解决 (kept in the list's history, no review due)


TITLE_MAX = 200


def check_long_problem(title: str | None, owner_username: str | None, owner_department: str | None,
                       review_on: date | None, status: str) -> LongProblemStatus:
    """A long-standing problem needs a title, an owner (an account or a department) and a review date."""
    if title is not None and not title.strip():
        raise InvalidInput("a long-standing problem needs a title", details={"field": "title"})
    if title is not None and len(title) > TITLE_MAX:
        raise InvalidInput(f"title is longer than {TITLE_MAX} characters", details={"field": "title"})
    if not (owner_username or "").strip() and not (owner_department or "").strip():
        raise InvalidInput("a long-standing problem needs an owner: an account (owner_username) or a department "
                           "(owner_department)", details={"field": "owner"})
    if review_on is None:
        raise InvalidInput("a long-standing problem needs a review date (review_on)", details={"field": "review_on"})
    return parse_enum(LongProblemStatus, status, "status")


def review_order(status: str, review_on: date, today: date) -> tuple[int, date]:
    """Sort key of the list: unresolved problems whose review is overdue first (oldest first), then the other
    unresolved by review date, resolved last."""
    if status == LongProblemStatus.resolved:
        return (2, review_on)
    return (0 if review_on < today else 1, review_on)
