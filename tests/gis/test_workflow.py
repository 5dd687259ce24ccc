"""The case workflow table, checked against a transition list written out by hand (no database)."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from gis.errors import Conflict, IllegalTransition, InvalidInput
from gis.workflow import (
    ACTION_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    STATUS_TIMESTAMP,
    TRANSITIONS,
    Action,
    CaseStatus,
    Satisfaction,
    Source,
    StatusCategory,
    SupervisionFlag,
    allowed_actions,
    check_transition,
    clock_running,
    counts_as_open_case,
    evaluation_action,
    is_closed,
    is_declined,
    is_final,
    is_open,
    label,
    next_status,
)

S, A = CaseStatus, Action

# The seven steps, written out independently of gis.workflow.TRANSITIONS.
EXPECTED: dict[tuple[CaseStatus, Action], CaseStatus] = {
    (S.reported, A.file): S.filed,
    (S.reported, A.decline): S.declined,
    (S.filed, A.dispatch): S.dispatched,
    (S.filed, A.reassign): S.dispatched,
    (S.dispatched, A.accept): S.in_handling,
    (S.dispatched, A.reassign): S.dispatched,
    (S.in_handling, A.handle): S.handled,
    (S.in_handling, A.reassign): S.dispatched,
    (S.handled, A.verify): S.closed,
    (S.handled, A.reject): S.rework,
    (S.closed, A.evaluate_satisfied): S.evaluated,
    (S.closed, A.evaluate_unsatisfied): S.rework,
    (S.rework, A.accept): S.in_handling,
    (S.rework, A.reassign): S.dispatched,
    # 解释说明: the other way out of handling; a duplicate merged from any status before closure
    (S.in_handling, A.explain): S.handled,
    (S.reported, A.merge): S.merged,
    (S.filed, A.merge): S.merged,
    (S.dispatched, A.merge): S.merged,
    (S.in_handling, A.merge): S.merged,
    (S.handled, A.merge): S.merged,
    (S.rework, A.merge): S.merged,
}

ALLOWED_BY_HAND: dict[CaseStatus, list[Action]] = {
    S.reported: [A.file, A.decline, A.merge],
    S.filed: [A.dispatch, A.reassign, A.merge],
    S.declined: [],
    S.dispatched: [A.accept, A.reassign, A.merge],
    S.in_handling: [A.handle, A.reassign, A.explain, A.merge],
    S.handled: [A.verify, A.reject, A.merge],
    S.closed: [A.evaluate_satisfied, A.evaluate_unsatisfied],
    S.rework: [A.accept, A.reassign, A.merge],
    S.evaluated: [],
    S.merged: [],
}

ALL_PAIRS = list(itertools.product(CaseStatus, Action))


def _extras(action: Action) -> dict[str, object]:
    """The reason or rating an action needs, so table tests exercise only the table."""
    if action in (A.decline, A.reject, A.reassign, A.merge):
        return {"reason": "wrong grid"}
    if action is A.explain:
        return {"reason": "needs the owners' vote", "expected_by": date(2027, 3, 1)}
    if action is A.evaluate_satisfied:
        return {"satisfaction": Satisfaction.satisfied}
    if action is A.evaluate_unsatisfied:
        return {"satisfaction": Satisfaction.unsatisfied}
    return {}


def test_table_is_exactly_the_hand_written_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED
    assert len(ALL_PAIRS) == 120
    assert len(TRANSITIONS) == 21


@pytest.mark.parametrize(("status", "action"), ALL_PAIRS, ids=[f"{s}-{a}" for s, a in ALL_PAIRS])
def test_every_status_action_pair(status: CaseStatus, action: Action) -> None:
    if (status, action) in EXPECTED:
        assert next_status(status, action) is EXPECTED[(status, action)]
        assert check_transition(status, action, **_extras(action)).target is EXPECTED[(status, action)]
        return
    with pytest.raises(IllegalTransition) as caught:
        next_status(status, action)
    error = caught.value
    assert error.current == status
    assert error.action == action
    assert list(error.allowed) == ALLOWED_BY_HAND[status]
    assert f"cannot {action} a case that is {status}" in error.message
    for allowed in ALLOWED_BY_HAND[status]:
        assert str(allowed) in error.message
    with pytest.raises(IllegalTransition):
        check_transition(status, action, **_extras(action))


def test_illegal_transition_message_and_details() -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_status("handled", "accept")
    assert str(caught.value) == ("cannot accept a case that is handled; allowed next actions: verify, reject, "
                                 "merge")
    assert caught.value.details == {"current": "handled", "action": "accept",
                                    "allowed": ["verify", "reject", "merge"]}
    assert isinstance(caught.value, Conflict)


def test_final_status_message_says_none() -> None:
    with pytest.raises(IllegalTransition, match=r"allowed next actions: none \(final status\)"):
        next_status(S.evaluated, A.evaluate_unsatisfied)


@pytest.mark.parametrize("status", list(CaseStatus))
def test_allowed_actions_in_stable_order(status: CaseStatus) -> None:
    assert allowed_actions(status) == ALLOWED_BY_HAND[status]
    assert allowed_actions(status.value) == ALLOWED_BY_HAND[status]
    assert is_final(status) == (status in (S.declined, S.evaluated, S.merged))


def test_unknown_status_or_action_is_invalid_input_naming_allowed_values() -> None:
    with pytest.raises(InvalidInput, match=r"unknown status 'open'; allowed: reported, filed, declined"):
        next_status("open", "file")
    with pytest.raises(InvalidInput, match=r"unknown action 'close'; allowed: file, decline, dispatch"):
        next_status("handled", "close")


# --- reasons and ratings ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("status", "action"), [(S.reported, A.decline), (S.handled, A.reject), (S.dispatched, A.reassign)]
)
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reason_required(status: CaseStatus, action: Action, reason: str | None) -> None:
    with pytest.raises(InvalidInput, match=f"{action} requires a reason"):
        check_transition(status, action, reason=reason)


def test_decline_with_reason_keeps_it_trimmed() -> None:
    move = check_transition("reported", "decline", reason="  duplicate of case 17 ")
    assert move.target is S.declined
    assert move.reason == "duplicate of case 17"
    assert move.timestamp_field == "declined_at"


def test_optional_reason_is_kept_and_blank_becomes_none() -> None:
    assert check_transition(S.filed, A.dispatch, reason="to the owner").reason == "to the owner"
    assert check_transition(S.filed, A.dispatch, reason="  ").reason is None


@pytest.mark.parametrize("action", [A.evaluate_satisfied, A.evaluate_unsatisfied])
def test_evaluation_requires_rating(action: Action) -> None:
    with pytest.raises(InvalidInput, match=f"{action} requires a satisfaction rating"):
        check_transition(S.closed, action)


@pytest.mark.parametrize(
    ("action", "rating", "target"),
    [
        (A.evaluate_satisfied, "satisfied", S.evaluated),
        (A.evaluate_satisfied, "basically_satisfied", S.evaluated),
        (A.evaluate_unsatisfied, "unsatisfied", S.rework),
    ],
)
def test_evaluation_with_matching_rating(action: Action, rating: str, target: CaseStatus) -> None:
    move = check_transition(S.closed, action, satisfaction=rating)
    assert move.target is target
    assert move.satisfaction == Satisfaction(rating)


@pytest.mark.parametrize(
    ("action", "rating", "hint"),
    [(A.evaluate_satisfied, "unsatisfied", "evaluate_unsatisfied"),
     (A.evaluate_unsatisfied, "satisfied", "evaluate_satisfied")],
)
def test_evaluation_with_contradicting_rating(action: Action, rating: str, hint: str) -> None:
    with pytest.raises(InvalidInput, match=f"use {hint}"):
        check_transition(S.closed, action, satisfaction=rating)


def test_unknown_rating_and_rating_on_other_actions() -> None:
    with pytest.raises(InvalidInput, match="unknown satisfaction 'great'"):
        check_transition(S.closed, A.evaluate_satisfied, satisfaction="great")
    with pytest.raises(InvalidInput, match="only given with an evaluation, not with verify"):
        check_transition(S.handled, A.verify, satisfaction="satisfied")


def test_evaluation_action_from_rating() -> None:
    assert evaluation_action("satisfied") is A.evaluate_satisfied
    assert evaluation_action(Satisfaction.basically_satisfied) is A.evaluate_satisfied
    assert evaluation_action("unsatisfied") is A.evaluate_unsatisfied


def test_illegal_move_wins_over_missing_reason() -> None:
    """The table is checked first: declining a dispatched case is illegal, reason or not."""
    with pytest.raises(IllegalTransition):
        check_transition(S.dispatched, A.decline)


# --- effects: rework, first action, clock, timestamps ---------------------------------------------

REWORK_BY_HAND = {(S.handled, A.reject), (S.closed, A.evaluate_unsatisfied)}
FIRST_ACTION_BY_HAND = {
    (S.filed, A.dispatch), (S.filed, A.reassign), (S.dispatched, A.accept), (S.dispatched, A.reassign),
    (S.in_handling, A.reassign), (S.rework, A.accept), (S.rework, A.reassign),
}
CLOCK_START_BY_HAND = {(S.filed, A.dispatch), (S.filed, A.reassign)}


@pytest.mark.parametrize(("status", "action"), list(EXPECTED), ids=[f"{s}-{a}" for s, a in EXPECTED])
def test_effects_of_each_allowed_move(status: CaseStatus, action: Action) -> None:
    move = check_transition(status, action, **_extras(action))
    assert move.increments_rework == ((status, action) in REWORK_BY_HAND)
    assert move.counts_as_first_action == ((status, action) in FIRST_ACTION_BY_HAND)
    assert move.starts_clock == ((status, action) in CLOCK_START_BY_HAND)
    assert move.timestamp_field == STATUS_TIMESTAMP[EXPECTED[(status, action)]]


def test_a_case_life_with_two_reworks() -> None:
    """Replay a case the way the store will: rework twice, first action once, clock started once."""
    script: list[tuple[Action, dict[str, object]]] = [
        (A.file, {}), (A.dispatch, {}), (A.accept, {}), (A.handle, {}),
        (A.reject, {"reason": "rubbish still there"}), (A.accept, {}), (A.handle, {}), (A.verify, {}),
        (A.evaluate_unsatisfied, {"satisfaction": "unsatisfied"}), (A.reassign, {"reason": "owner's job"}),
        (A.accept, {}), (A.handle, {}), (A.verify, {}), (A.evaluate_satisfied, {"satisfaction": "satisfied"}),
    ]
    status, rework_count, first_action, clock_starts = S.reported, 0, None, 0
    fields: list[str] = []
    for step, (action, extras) in enumerate(script):
        move = check_transition(status, action, **extras)  # type: ignore[arg-type]
        status = move.target
        rework_count += move.increments_rework
        clock_starts += move.starts_clock
        if move.counts_as_first_action and first_action is None:
            first_action = step
        fields.append(move.timestamp_field)
    assert status is S.evaluated
    assert rework_count == 2
    assert first_action == 1  # the dispatch
    assert clock_starts == 1
    assert fields == [
        "filed_at", "dispatched_at", "accepted_at", "handled_at", "reworked_at", "accepted_at", "handled_at",
        "closed_at", "reworked_at", "dispatched_at", "accepted_at", "handled_at", "closed_at", "evaluated_at",
    ]


# --- categories of statuses -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("status", "category", "open_case", "clock"),
    [
        (S.reported, StatusCategory.open, False, False),
        (S.filed, StatusCategory.open, True, False),
        (S.declined, StatusCategory.declined, False, False),
        (S.dispatched, StatusCategory.open, True, True),
        (S.in_handling, StatusCategory.open, True, True),
        (S.handled, StatusCategory.open, True, True),
        (S.closed, StatusCategory.closed, False, False),
        (S.rework, StatusCategory.open, True, True),
        (S.evaluated, StatusCategory.closed, False, False),
        (S.merged, StatusCategory.closed, False, False),
    ],
)
def test_status_categories(
    status: CaseStatus, category: StatusCategory, open_case: bool, clock: bool
) -> None:
    assert is_open(status) == (category is StatusCategory.open)
    assert is_closed(status) == (category is StatusCategory.closed)
    assert is_declined(status) == (category is StatusCategory.declined)
    assert counts_as_open_case(status) == open_case
    assert clock_running(status) == clock


def test_every_status_has_its_own_timestamp_field() -> None:
    assert set(STATUS_TIMESTAMP) == set(CaseStatus)
    assert len(set(STATUS_TIMESTAMP.values())) == len(CaseStatus)
    assert STATUS_TIMESTAMP[S.filed] == "filed_at"
    assert STATUS_TIMESTAMP[S.closed] == "closed_at"


# --- labels ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("status", "zh"),
    [(S.reported, "上报"), (S.filed, "立案"), (S.declined, "不予立案"), (S.dispatched, "派遣"),
     (S.in_handling, "处置中"), (S.handled, "已处置"), (S.closed, "结案"), (S.rework, "返工"),
     (S.evaluated, "已评价"), (S.merged, "已合并")],
)
def test_status_labels(status: CaseStatus, zh: str) -> None:
    assert label(status) == zh
    assert label(status, "zh") == zh


def test_every_member_has_both_labels() -> None:
    for table, enum in ((STATUS_LABELS, CaseStatus), (ACTION_LABELS, Action), (SOURCE_LABELS, Source)):
        assert set(table) == set(enum)
        for member in enum:
            assert table[member]["zh-CN"] and table[member]["en"]
    assert label(Source.hotline) == "12345热线"
    assert label(Source.hotline, "en-GB") == "12345 hotline"
    assert label(A.reassign) == "改派"
    assert label(SupervisionFlag.supervised) == "督办"
    assert label(Satisfaction.basically_satisfied) == "基本满意"
    assert label(S.in_handling, "fr") == "处置中"  # unknown languages fall back to zh-CN
