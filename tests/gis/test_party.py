"""The pure rules of party strength, commitments and evaluations (gis/party.py), no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gis.errors import Conflict, InvalidInput
from gis.party import (
    MIN_MEMBERS,
    TRANSITIONS,
    BranchGrade,
    CommitmentStatus,
    GradeEntry,
    HolderKind,
    check_pairing,
    check_status_change,
    grade_on,
    half_year,
    holder_label,
    members_of,
    needs_seconded_branch,
    parse_evaluations,
    parse_grade,
)


@pytest.mark.parametrize(("members", "flagged"), [(0, True), (1, True), (2, True), (3, False), (40, False)])
def test_fewer_than_three_members_need_a_seconded_branch(members: int, flagged: bool) -> None:
    assert MIN_MEMBERS == 3
    assert needs_seconded_branch(members) is flagged


@pytest.mark.parametrize(("recorded", "declared", "members"), [
    (None, 12, 12),  # nothing entered yet: the organisation file's count
    (2, 12, 2),  # once records exist they alone count
    (0, 12, 0),  # every recorded member has left
    (None, None, 0),
])
def test_members_come_from_records_once_there_are_any(recorded: int | None, declared: int | None,
                                                       members: int) -> None:
    assert members_of(recorded, declared) == members


@pytest.mark.parametrize("word", ["weak", "后进", " 后进 "])
def test_grades_read_both_forms(word: str) -> None:
    assert parse_grade(word) is BranchGrade.weak


def test_an_unknown_grade_names_the_allowed_ones() -> None:
    with pytest.raises(InvalidInput, match=r"'优秀' is not a grade; allowed: advanced \(先进\), average \(一般\), "
                                           r"weak \(后进\)"):
        parse_grade("优秀")


HISTORY = [
    GradeEntry(date(2025, 1, 10), BranchGrade.weak, "street-1", order=1),
    GradeEntry(date(2025, 7, 1), BranchGrade.average, "street-1", order=2),
    GradeEntry(date(2025, 7, 1), BranchGrade.advanced, "centre", order=3),  # a correction the same day
    GradeEntry(date(2026, 1, 5), BranchGrade.weak, "centre", order=4),
]


@pytest.mark.parametrize(("day", "grade"), [
    (date(2025, 1, 9), None), (date(2025, 1, 10), BranchGrade.weak), (date(2025, 6, 30), BranchGrade.weak),
    (date(2025, 7, 1), BranchGrade.advanced), (date(2026, 1, 4), BranchGrade.advanced),
    (date(2026, 1, 5), BranchGrade.weak), (date(2030, 1, 1), BranchGrade.weak),
])
def test_the_grade_on_a_day_is_the_latest_given_by_then(day: date, grade: BranchGrade | None) -> None:
    found = grade_on(reversed(HISTORY), day)  # the order given does not matter
    assert (found.grade if found else None) == grade


def test_only_a_weak_branch_is_paired_and_only_with_an_advanced_one() -> None:
    check_pairing(BranchGrade.weak, BranchGrade.advanced, same=False)
    for weak, strong in ((BranchGrade.average, BranchGrade.advanced), (None, BranchGrade.advanced),
                         (BranchGrade.weak, BranchGrade.average), (BranchGrade.weak, None)):
        with pytest.raises(Conflict):
            check_pairing(weak, strong, same=False)
    with pytest.raises(InvalidInput, match="itself"):
        check_pairing(BranchGrade.weak, BranchGrade.advanced, same=True)


def test_commitment_transitions_written_out() -> None:
    p, i, k, n = (CommitmentStatus.promised, CommitmentStatus.in_progress, CommitmentStatus.kept,
                  CommitmentStatus.not_kept)
    allowed = {(p, i), (p, k), (p, n), (i, k), (i, n)}
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == allowed
    for a in CommitmentStatus:
        for b in CommitmentStatus:
            if (a, b) in allowed or a == b:
                check_status_change(a, b)
            else:
                with pytest.raises(Conflict, match=f"cannot become {b}"):
                    check_status_change(a, b)


def test_a_members_commitment_shows_the_branch_never_the_member() -> None:
    assert holder_label(HolderKind.member, "甲党员", "西网格党支部") == "西网格党支部"
    assert holder_label(HolderKind.team, "西网格服务团队", None) == "西网格服务团队"
    assert holder_label(HolderKind.branch, "西网格党支部", "西网格党支部") == "西网格党支部"


GRID = "500103001001001"


def _row(**values: object) -> dict[str, object]:
    return {"year": "2026", "subject": "grid", "code": GRID, "score": "91.5", **values}


def test_evaluations_parse_into_rows() -> None:
    rows = parse_evaluations([_row(respondents="40"), _row(subject="branch", code="500103001001", score="78")])
    assert [(r.year, r.subject, r.code, r.score, r.respondents) for r in rows] == [
        (2026, "grid", GRID, Decimal("91.50"), 40), (2026, "branch", "500103001001", Decimal("78.00"), None)]


def test_an_evaluation_file_with_bad_rows_names_each_and_gives_nothing() -> None:
    rows = [_row(), _row(score="abc"), _row(year="26", code="5001"), _row(code="500103001001"), _row(),
            _row(score="NaN"), _row(respondents="-3")]
    with pytest.raises(InvalidInput) as error:
        parse_evaluations(rows)
    assert error.value.details["problems"] == [
        "row 3: score 'abc' is not a number from 0 to 100",
        "row 4: year '26' is not a year (1990–2999)",
        "row 4: code '5001' is not a grid code (15 digits)",
        "row 5: code '500103001001' is not a grid code (15 digits)",
        f"row 6: repeats row 2 (grid {GRID} in 2026)",
        "row 7: score 'NaN' is not a number from 0 to 100",
        "row 8: respondents '-3' is not a whole number",
    ]


def test_an_evaluation_file_without_its_columns_is_refused() -> None:
    with pytest.raises(InvalidInput, match="lacks the column"):
        parse_evaluations([{"year": "2026", "code": GRID}])
    with pytest.raises(InvalidInput, match="no rows"):
        parse_evaluations([])


@pytest.mark.parametrize(("spec", "first", "last"), [
    ("2026H1", date(2026, 1, 1), date(2026, 6, 30)), ("2026h2", date(2026, 7, 1), date(2026, 12, 31)),
])
def test_half_years(spec: str, first: date, last: date) -> None:
    period = half_year(spec)
    assert (period.first_day, period.last_day) == (first, last)


@pytest.mark.parametrize("spec", ["2026H3", "2026", "26H1", "", "2026-H1"])
def test_a_bad_half_year_names_the_form(spec: str) -> None:
    with pytest.raises(InvalidInput, match="YYYYH1 or YYYYH2"):
        half_year(spec)


def test_the_planner_is_warned_when_a_grids_branch_has_fewer_than_three_members() -> None:
    from gis.plans.checks import CheckKind, Severity, blocking, check_plan
    from gis.plans.model import PlanGrid
    from tests.gis.test_plan_checks import GOOD, context

    plan = [GOOD[0], PlanGrid(GOOD[1].code, GOOD[1].name, GOOD[1].geometry, branch_id=2, team_id=2)]
    assert check_plan(plan, context(branch_members={1: 3, 2: 5})) == []
    assert check_plan(plan, context()) == []  # members unknown: no warning
    (problem,) = check_plan(plan, context(branch_members={1: 3, 2: 2}))
    assert (problem.kind, problem.severity, problem.grids) == (CheckKind.branch_under_three, Severity.warning,
                                                               (GOOD[1].code,))
    assert problem.details == {"members": 2, "branch_id": 2}
    assert blocking([problem], {problem.key: "a seconded branch is being formed"}) == []
