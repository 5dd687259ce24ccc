"""Repeats and duplicates, the explained outcome and long-standing problems: the pure rules, answers by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gis.categories import load_categories
from gis.errors import Conflict, IllegalTransition, InvalidInput
from gis.repeats import (
    LOOKBACK_DAYS,
    REPORTER_WINDOW_DAYS,
    STREET_RADIUS_M,
    Earlier,
    LongProblemStatus,
    Reason,
    Report,
    Suggestion,
    check_link,
    check_long_problem,
    check_merge,
    find_similar,
    phone_key,
    review_order,
    street_level,
)
from gis.workflow import Action, CaseStatus, Outcome, check_transition, is_solved

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _new(*, category: str = "neighbour_dispute", street: bool = False, building: str | None = "B-1",
         phone: str | None = "13812341234", at: datetime = T0) -> Report:
    return Report(100, category, street, building, phone, at)


def _earlier(case_id: int, *, status: str = "dispatched", category: str = "neighbour_dispute",
             building: str | None = "B-1", phone: str | None = None, days_before: float = 1,
             distance: float = 5.0) -> Earlier:
    return Earlier(case_id, status, category, building, phone, T0 - timedelta(days=days_before), distance)


# -- which categories are street-level -----------------------------------------------------------------


def test_street_level_is_urban_events_and_components_but_not_a_buildings_condition() -> None:
    categories = load_categories()
    levels = {code: street_level(c.kind, c.group_zh) for code, c in categories.items()}
    assert levels["exposed_rubbish"] and levels["manhole_cover_missing"] and levels["street_light_out"]
    assert not levels["dangerous_building"]  # 房屋土地: the building's
    assert not levels["neighbour_dispute"] and not levels["noise_complaint"]  # livelihood: at a building
    assert sum(levels.values()) == 27  # 19 urban events + 9 components − 1 building component


@pytest.mark.parametrize(("contact", "key"), [
    ("13812341234", "13812341234"), ("+86 138-1234-1234", "13812341234"), ("8613812341234", "13812341234"),
    ("张先生 138 1234 1234", "13812341234"), ("023-63891234", "02363891234"), ("12345", None), ("", None),
    (None, None), ("zhang@example.cn", None),
])
def test_phone_key(contact: str | None, key: str | None) -> None:
    assert phone_key(contact) == key


# -- the three rules ---------------------------------------------------------------------------------------


def test_same_building_same_category_open_is_a_duplicate_closed_is_a_repeat() -> None:
    found = find_similar(_new(), [_earlier(1), _earlier(2, status="evaluated", days_before=3),
                                  _earlier(3, building="B-2"), _earlier(4, category="complaint")])
    assert [(c.case_id, c.suggestion, c.reasons) for c in found] == [
        (1, Suggestion.duplicate, (Reason.same_building,)),
        (2, Suggestion.repeat, (Reason.same_building,)),
    ]


def test_no_building_no_building_match() -> None:
    assert find_similar(_new(building=None), [_earlier(1, building=None)]) == []


def test_street_level_by_distance_not_by_building() -> None:
    new = _new(category="exposed_rubbish", street=True, building=None)
    near = _earlier(1, category="exposed_rubbish", building=None, distance=STREET_RADIUS_M)
    far = _earlier(2, category="exposed_rubbish", building=None, distance=STREET_RADIUS_M + 0.1)
    assert [(c.case_id, c.reasons) for c in find_similar(new, [near, far])] == [(1, (Reason.nearby,))]


def test_lookback_and_reporter_window() -> None:
    old = _earlier(1, days_before=LOOKBACK_DAYS + 1)
    assert find_similar(_new(), [old]) == []
    same_phone = _earlier(2, category="complaint", building="B-9", phone="13812341234",
                          days_before=REPORTER_WINDOW_DAYS)
    too_old = _earlier(3, category="complaint", building="B-9", phone="13812341234",
                       days_before=REPORTER_WINDOW_DAYS + 1)
    found = find_similar(_new(), [same_phone, too_old])
    assert [(c.case_id, c.reasons) for c in found] == [(2, (Reason.same_reporter,))]
    # A reader who may not see who reported is not told that two reports share a phone.
    assert find_similar(_new(), [same_phone], reporter_rule=False) == []


def test_declined_merged_later_and_itself_are_never_offered() -> None:
    candidates = [_earlier(1, status="declined"), _earlier(2, status="merged"), _earlier(3, days_before=-1),
                  Earlier(100, "dispatched", "neighbour_dispute", "B-1", None, T0, 0.0)]
    assert find_similar(_new(), candidates) == []


def test_order_duplicates_first_then_nearest_then_newest() -> None:
    found = find_similar(_new(), [
        _earlier(1, status="closed", distance=1), _earlier(2, distance=9, days_before=2),
        _earlier(3, distance=9, days_before=1), _earlier(4, distance=2, days_before=5),
    ])
    assert [c.case_id for c in found] == [4, 3, 2, 1]


# -- merging and linking ---------------------------------------------------------------------------------


def test_merge_needs_another_open_case() -> None:
    check_merge(5, 7, "in_handling")
    with pytest.raises(InvalidInput, match="into itself"):
        check_merge(5, 5, "filed")
    for status in ("closed", "evaluated", "declined", "merged"):
        with pytest.raises(Conflict, match="merged into an open case only"):
            check_merge(5, 7, status)


def test_merge_is_a_workflow_move_with_a_message() -> None:
    move = check_transition(CaseStatus.dispatched, Action.merge, reason=" 已并入案件7办理 ")
    assert (move.target, move.outcome, move.reason, move.timestamp_field) == (
        CaseStatus.merged, Outcome.merged, "已并入案件7办理", "merged_at")
    with pytest.raises(InvalidInput, match="merge requires a reason"):
        check_transition(CaseStatus.dispatched, Action.merge)
    with pytest.raises(IllegalTransition):
        check_transition(CaseStatus.closed, Action.merge, reason="x")


def test_link_rules() -> None:
    check_link(5, "filed", None, 3, "evaluated", T0, T0 - timedelta(days=2))
    with pytest.raises(InvalidInput, match="cannot repeat itself"):
        check_link(5, "filed", None, 5, "filed", T0, T0)
    with pytest.raises(Conflict, match="already linked as a repeat of case 2"):
        check_link(5, "filed", 2, 3, "closed", T0, T0 - timedelta(days=2))
    with pytest.raises(Conflict, match="case 3 is merged"):
        check_link(5, "filed", None, 3, "merged", T0, T0 - timedelta(days=2))
    with pytest.raises(InvalidInput, match="reported after case 5"):
        check_link(5, "filed", None, 3, "closed", T0, T0 + timedelta(hours=1))


# -- explained: a closing outcome apart from solved --------------------------------------------------------


def test_explain_needs_a_reason_and_a_date_not_in_the_past() -> None:
    today = date(2026, 12, 1)
    move = check_transition("in_handling", "explain", reason="需业主大会表决", expected_by=date(2027, 3, 1),
                            today=today)
    assert (move.target, move.outcome, move.expected_by) == (CaseStatus.handled, Outcome.explained, date(2027, 3, 1))
    with pytest.raises(InvalidInput, match="explain requires a reason"):
        check_transition("in_handling", "explain", expected_by=date(2027, 3, 1))
    with pytest.raises(InvalidInput, match="explain requires an expected date"):
        check_transition("in_handling", "explain", reason="x")
    with pytest.raises(InvalidInput, match="before today"):
        check_transition("in_handling", "explain", reason="x", expected_by=date(2026, 11, 30), today=today)
    with pytest.raises(InvalidInput, match="only given with explain"):
        check_transition("in_handling", "handle", expected_by=date(2027, 3, 1))
    assert check_transition("in_handling", "handle").outcome is Outcome.solved


@pytest.mark.parametrize(("status", "outcome", "solved"), [
    ("closed", "solved", True), ("evaluated", "solved", True), ("closed", None, True),  # before outcomes
    ("closed", "explained", False), ("evaluated", "explained", False), ("merged", "merged", False),
    ("handled", "solved", False), ("in_handling", None, False), ("declined", None, False),
])
def test_solved_is_closed_with_the_outcome_solved(status: str, outcome: str | None, solved: bool) -> None:
    assert is_solved(status, outcome) is solved


# -- long-standing problems ----------------------------------------------------------------------------


def test_long_problem_needs_title_owner_and_review_date() -> None:
    assert check_long_problem("老旧小区加装电梯", None, "住建委", date(2027, 1, 1), "open") is LongProblemStatus.open
    with pytest.raises(InvalidInput, match="needs an owner"):
        check_long_problem("x", " ", None, date(2027, 1, 1), "open")
    with pytest.raises(InvalidInput, match="review date"):
        check_long_problem("x", "centre", None, None, "open")
    with pytest.raises(InvalidInput, match="needs a title"):
        check_long_problem("  ", "centre", None, date(2027, 1, 1), "open")
    with pytest.raises(InvalidInput, match="unknown status 'done'"):
        check_long_problem("x", "centre", None, date(2027, 1, 1), "done")


def test_overdue_reviews_first_resolved_last() -> None:
    today = date(2026, 12, 1)
    problems = {"late": ("open", date(2026, 11, 1)), "later": ("in_progress", date(2026, 11, 20)),
                "soon": ("open", date(2026, 12, 5)), "today": ("open", today),
                "done": ("resolved", date(2026, 10, 1))}
    order = sorted(problems, key=lambda name: review_order(*problems[name], today))
    assert order == ["late", "later", "today", "soon", "done"]
