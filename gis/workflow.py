"""The case workflow as data: statuses, actions, the table of allowed transitions, and their labels.

The seven steps of digital urban management (信息收集 → 立案 → 派遣 → 处置 → 反馈 → 核查结案 → 评价)
are encoded once, in `TRANSITIONS`. Everything else — which buttons a worker sees, which timestamp
column the store fills, whether a move starts the time-limit clock or counts as rework — is derived
from that table or from small named sets beside it, so no caller compares status labels.

An illegal move raises `IllegalTransition` (a `Conflict`); it is never merely logged.

Supervision (督办) and escalation are *flags*, not statuses: a sweeper marks open cases whose deadline
has passed (see `SupervisionFlag`, `clock_running`) while they keep their place in the workflow.
A supervised case is still, say, in handling; it is just also late.

How a case ends is its `Outcome`, set by the action that finishes the handling (`OUTCOME_OF_ACTION`):
`handle` solves, `explain` (解释说明: not solvable now, the resident told why and by when) explains, and
`merge` closes a duplicate into another open case. Only a closed case whose outcome is solved counts as
solved (`gis.store.vocabulary.is_solved`, the one definition every rate uses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from gis.errors import IllegalTransition, InvalidInput
from gis.workflow_enums import Action, CaseStatus, Outcome, Satisfaction, Source, StatusCategory, SupervisionFlag
from gis.workflow_labels import (
    ACTION_LABELS,
    OUTCOME_LABELS,
    SATISFACTION_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    SUPERVISION_LABELS,
    label,
)

__all__ = [
    "ACTION_LABELS",
    "CLOCK_STATUSES",
    "EVALUATIONS",
    "EXPECTED_DATE_REQUIRED",
    "FIRST_ACTIONS",
    "FIRST_ACTION_FIELD",
    "MERGEABLE_STATUSES",
    "OUTCOME_LABELS",
    "OUTCOME_OF_ACTION",
    "REASON_REQUIRED",
    "REWORK_ACTIONS",
    "SATISFACTION_LABELS",
    "SOURCE_LABELS",
    "STATUS_CATEGORY",
    "STATUS_LABELS",
    "STATUS_TIMESTAMP",
    "SUPERVISION_LABELS",
    "TRANSITIONS",
    "Action",
    "CaseStatus",
    "Outcome",
    "Satisfaction",
    "Source",
    "StatusCategory",
    "SupervisionFlag",
    "Transition",
    "allowed_actions",
    "check_transition",
    "clock_running",
    "counts_as_open_case",
    "evaluation_action",
    "is_closed",
    "is_declined",
    "is_final",
    "is_open",
    "is_solved",
    "label",
    "next_status",
    "parse_enum",
]


S, A = CaseStatus, Action

TRANSITIONS: Mapping[tuple[CaseStatus, Action], CaseStatus] = MappingProxyType({
    (S.reported, A.file): S.filed,
    (S.reported, A.decline): S.declined,
    (S.filed, A.dispatch): S.dispatched,
    (S.filed, A.reassign): S.dispatched,
    (S.dispatched, A.accept): S.in_handling,
    (S.dispatched, A.reassign): S.dispatched,
    (S.in_handling, A.handle): S.handled,
    (S.in_handling, A.reassign): S.dispatched,
    (S.in_handling, A.explain): S.handled,
    (S.handled, A.verify): S.closed,
    (S.handled, A.reject): S.rework,
    (S.closed, A.evaluate_satisfied): S.evaluated,
    (S.closed, A.evaluate_unsatisfied): S.rework,
    (S.rework, A.accept): S.in_handling,
    (S.rework, A.reassign): S.dispatched,
    **{(status, A.merge): S.merged for status in (S.reported, S.filed, S.dispatched, S.in_handling, S.handled,
                                                  S.rework)},
})
"""Every allowed move, and nothing else. A pair that is absent is illegal.

Rework goes back through `accept` so a second round of handling is visible in the ledger; reassignment
(改派) always lands in `dispatched`, because the new handler must accept it afresh. `explain` is the other
way out of handling (the resident told why it cannot be solved now, and by when); it is verified like a fix.
Any case still open after its filing decision — or before it — may be merged into another open case as a
duplicate; a closed case is not merged (link the new report as a repeat of it instead).
"""

MERGEABLE_STATUSES: frozenset[CaseStatus] = frozenset(s for (s, a) in TRANSITIONS if a is A.merge)
"""Statuses a duplicate may be merged from (and, for the case it is merged into, the open ones too)."""

STATUS_CATEGORY: Mapping[CaseStatus, StatusCategory] = MappingProxyType({
    S.reported: StatusCategory.open,
    S.filed: StatusCategory.open,
    S.declined: StatusCategory.declined,
    S.dispatched: StatusCategory.open,
    S.in_handling: StatusCategory.open,
    S.handled: StatusCategory.open,
    S.closed: StatusCategory.closed,
    S.rework: StatusCategory.open,
    S.evaluated: StatusCategory.closed,
    S.merged: StatusCategory.closed,
})
"""`handled` is still open: it awaits verification. `closed` is closed even before evaluation."""

STATUS_TIMESTAMP: Mapping[CaseStatus, str] = MappingProxyType({
    S.reported: "reported_at",
    S.filed: "filed_at",
    S.declined: "declined_at",
    S.dispatched: "dispatched_at",
    S.in_handling: "accepted_at",
    S.handled: "handled_at",
    S.closed: "closed_at",
    S.rework: "reworked_at",
    S.evaluated: "evaluated_at",
    S.merged: "merged_at",
})
"""The case column set when a case enters each status (latest entry wins on a second round).

The full history lives in the transition log; these columns make "when was it closed" a plain query.
"""

FIRST_ACTION_FIELD = "first_action_at"
"""Set once, by the first transition whose action is in `FIRST_ACTIONS`; never overwritten."""

FIRST_ACTIONS: frozenset[Action] = frozenset({A.dispatch, A.accept, A.reassign})
"""Response time = first action − reported. Dispatch or acceptance (a reassignment out of `filed`
is a dispatch to someone else, so it counts too)."""

REWORK_ACTIONS: frozenset[Action] = frozenset({A.reject, A.evaluate_unsatisfied})
"""Each of these adds one to the case's `rework_count` (返工率 = reworked / handled)."""

REASON_REQUIRED: frozenset[Action] = frozenset({A.decline, A.reject, A.reassign, A.explain, A.merge})
"""Actions that must say why: a declined report, a rejected fix and a reassignment are all
questioned later, and the ledger must answer. An explanation is what the resident was told; a merge's
reason is the message its reporter is sent."""

EXPECTED_DATE_REQUIRED: frozenset[Action] = frozenset({A.explain})
"""Actions that must say by when (解释说明: "why and when"); the date may not be before the action's day."""

OUTCOME_OF_ACTION: Mapping[Action, Outcome] = MappingProxyType({
    A.handle: Outcome.solved,
    A.explain: Outcome.explained,
    A.merge: Outcome.merged,
})
"""The outcome a case carries once this action is taken (a later round of handling overwrites it)."""

EVALUATIONS: Mapping[Action, frozenset[Satisfaction]] = MappingProxyType({
    A.evaluate_satisfied: frozenset({Satisfaction.satisfied, Satisfaction.basically_satisfied}),
    A.evaluate_unsatisfied: frozenset({Satisfaction.unsatisfied}),
})
"""Which ratings each evaluation action accepts; an evaluation without a rating is refused."""

CLOCK_STATUSES: frozenset[CaseStatus] = frozenset({S.dispatched, S.in_handling, S.handled, S.rework})
"""Statuses in which the time-limit clock is running and a case can be overdue (and so supervised)."""


@dataclass(frozen=True)
class Transition:
    """One checked move, with everything the store needs to record it.

    `starts_clock` is true only for the first dispatch (out of `filed`): reassigning or reworking a
    case keeps its original deadline, so on-time closure cannot be improved by passing a case on.
    """

    current: CaseStatus
    action: Action
    target: CaseStatus
    timestamp_field: str
    counts_as_first_action: bool
    increments_rework: bool
    starts_clock: bool
    reason: str | None = None
    satisfaction: Satisfaction | None = None
    outcome: Outcome | None = None
    expected_by: date | None = None


# --- queries on statuses --------------------------------------------------------------------------

def is_open(status: CaseStatus) -> bool:
    """True while someone still has to act (including `reported`, awaiting a filing decision)."""
    return STATUS_CATEGORY[status] is StatusCategory.open


def is_closed(status: CaseStatus) -> bool:
    """Verified and closed, whether or not the reporter has evaluated it yet."""
    return STATUS_CATEGORY[status] is StatusCategory.closed


def is_declined(status: CaseStatus) -> bool:
    """Not filed (不予立案): never counted in caseloads, closure or overdue measures."""
    return STATUS_CATEGORY[status] is StatusCategory.declined


def is_solved(status: CaseStatus | str, outcome: Outcome | str | None) -> bool:
    """Closed, and ended as solved (not explained, not merged): the one "solved" every rate counts. A closed
    case without an outcome (closed before outcomes were kept) was solved. SQL: `gis.store.vocabulary`."""
    closed = is_closed(parse_enum(CaseStatus, status, "status"))
    return closed and (outcome or Outcome.solved) == Outcome.solved


def counts_as_open_case(status: CaseStatus) -> bool:
    """The "open cases" measure: filed and not closed — so open, but past the filing decision."""
    return is_open(status) and status is not CaseStatus.reported


def clock_running(status: CaseStatus) -> bool:
    """Whether the deadline applies now, so the case can be overdue and flagged for supervision."""
    return status in CLOCK_STATUSES


def is_final(status: CaseStatus) -> bool:
    """No action is allowed any more (declined, or evaluated as satisfied)."""
    return not _ALLOWED[status]


def _build_allowed() -> Mapping[CaseStatus, tuple[Action, ...]]:
    """Allowed actions per status, in `Action` declaration order so buttons appear in a stable order."""
    return MappingProxyType({
        status: tuple(action for action in Action if (status, action) in TRANSITIONS) for status in CaseStatus
    })


_ALLOWED = _build_allowed()


def allowed_actions(status: CaseStatus | str) -> list[Action]:
    """The actions the table allows from `status`, in a stable order; empty for final statuses."""
    return list(_ALLOWED[parse_enum(CaseStatus, status, "status")])


# --- moving a case --------------------------------------------------------------------------------

E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: E | str, what: str) -> E:
    """`value` as a member of `kind`; an unknown value raises InvalidInput naming the allowed ones."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        allowed = [member.value for member in kind]
        raise InvalidInput(
            f"unknown {what} {value!r}; allowed: {', '.join(allowed)}",
            details={what: str(value), "allowed": allowed},
        ) from None


def next_status(status: CaseStatus | str, action: Action | str) -> CaseStatus:
    """Where `action` takes a case in `status`; IllegalTransition names the allowed actions otherwise."""
    current = parse_enum(CaseStatus, status, "status")
    act = parse_enum(Action, action, "action")
    target = TRANSITIONS.get((current, act))
    if target is None:
        raise IllegalTransition(current, act, _ALLOWED[current])
    return target


def evaluation_action(satisfaction: Satisfaction | str) -> Action:
    """The evaluation action a rating implies, for callers that only have the reporter's rating."""
    rating = parse_enum(Satisfaction, satisfaction, "satisfaction")
    return next(action for action, ratings in EVALUATIONS.items() if rating in ratings)


def check_transition(
    status: CaseStatus | str,
    action: Action | str,
    *,
    reason: str | None = None,
    satisfaction: Satisfaction | str | None = None,
    expected_by: date | None = None,
    today: date | None = None,
) -> Transition:
    """Check a move completely (table, reason, rating, expected date) and describe what recording it involves.

    Pipeline: the table (`next_status`) → the reason rule → the rating rule → the date rule → the effects.
    Raises IllegalTransition (Conflict) for a move the table forbids, InvalidInput for a missing reason, a
    missing, mismatched or misplaced rating, or a missing, misplaced or past (before `today`) expected date.
    """
    target = next_status(status, action)
    current = parse_enum(CaseStatus, status, "status")
    act = parse_enum(Action, action, "action")
    cleaned_reason = _check_reason(act, reason)
    rating = _check_satisfaction(act, satisfaction)
    expected = _check_expected_by(act, expected_by, today)
    return Transition(
        current=current,
        action=act,
        target=target,
        timestamp_field=STATUS_TIMESTAMP[target],
        counts_as_first_action=act in FIRST_ACTIONS,
        increments_rework=act in REWORK_ACTIONS,
        starts_clock=current is CaseStatus.filed and target is CaseStatus.dispatched,
        reason=cleaned_reason,
        satisfaction=rating,
        outcome=OUTCOME_OF_ACTION.get(act),
        expected_by=expected,
    )


def _check_expected_by(action: Action, expected_by: date | None, today: date | None) -> date | None:
    """An explanation says by when (not before `today`); other actions carry no expected date."""
    if action not in EXPECTED_DATE_REQUIRED:
        if expected_by is not None:
            raise InvalidInput(f"an expected date is only given with {', '.join(sorted(EXPECTED_DATE_REQUIRED))}, "
                               f"not with {action}", details={"action": str(action), "field": "expected_by"})
        return None
    if expected_by is None:
        raise InvalidInput(f"{action} requires an expected date: tell the resident by when",
                           details={"action": str(action), "field": "expected_by"})
    if today is not None and expected_by < today:
        raise InvalidInput(f"expected date {expected_by.isoformat()} is before today ({today.isoformat()})",
                           details={"action": str(action), "field": "expected_by"})
    return expected_by


def _check_reason(action: Action, reason: str | None) -> str | None:
    """A required reason must have visible text; an optional one is kept (trimmed) when given."""
    cleaned = reason.strip() if reason is not None else None
    if action in REASON_REQUIRED and not cleaned:
        raise InvalidInput(
            f"{action} requires a reason: say why, it is kept in the ledger",
            details={"action": str(action), "field": "reason"},
        )
    return cleaned or None


def _check_satisfaction(action: Action, satisfaction: Satisfaction | str | None) -> Satisfaction | None:
    """Evaluations need a rating that matches them; other actions must not carry one."""
    if action not in EVALUATIONS:
        if satisfaction is not None:
            raise InvalidInput(
                f"a satisfaction rating is only given with an evaluation, not with {action}",
                details={"action": str(action), "field": "satisfaction"},
            )
        return None
    accepted = sorted(EVALUATIONS[action])
    if satisfaction is None:
        raise InvalidInput(
            f"{action} requires a satisfaction rating: one of {', '.join(accepted)}",
            details={"action": str(action), "field": "satisfaction", "allowed": accepted},
        )
    rating = parse_enum(Satisfaction, satisfaction, "satisfaction")
    if rating not in EVALUATIONS[action]:
        raise InvalidInput(
            f"{action} does not go with the rating {rating}; use {evaluation_action(rating)}",
            details={"action": str(action), "field": "satisfaction", "allowed": accepted},
        )
    return rating

