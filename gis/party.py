"""Party organisation strength, commitments and evaluations (issue 12, parts 5 and 6): the pure rules.

- **Members of a branch on a day**: its membership records active that day (from its first day to its last,
  both included). A branch with no membership record at all is judged on the count its organisation file
  declared (`party_org.member_count`), so a district whose members are not yet entered one by one still
  shows its strength; once one record exists, the records alone count.
- **Seconded branch (派驻党支部)**: a branch with fewer than `MIN_MEMBERS` (three) members needs one.
- **Grades (先进/一般/后进)**: a dated history per branch; the grade on a day is the latest graded on or
  before it (the last entered wins a tie). A weak (后进) branch is paired with a strong one (结对共建).
- **Commitments (承诺/践诺)**: held by a branch, a team or a member; their status moves by `TRANSITIONS`
  (kept and not kept are final). A member's commitment is shown under their branch's name, never theirs.
- **Evaluations (述职测评)**: a yearly score 0–100 per grid or branch; an import is all-or-nothing and its
  error names every bad row and column.
- **The half-year (双公开)**: the report to residents' representatives covers `YYYYH1` or `YYYYH2`.

No database here: gis/store/party.py, commitments.py, evaluations.py and open_report.py store and count.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from gis.errors import Conflict, InvalidInput
from gis.periods import Period, check_day, period_between

MIN_MEMBERS = 3
"""A branch with fewer members than this needs a seconded branch (派驻党支部)."""


class BranchGrade(enum.StrEnum):
    advanced = "advanced"  # 先进
    average = "average"  # 一般
    weak = "weak"  # 后进


GRADE_WORDS: Mapping[BranchGrade, str] = {
    BranchGrade.advanced: "先进", BranchGrade.average: "一般", BranchGrade.weak: "后进"}
"""The grades as the organisation files write them (an import may use either form)."""


class CommitmentStatus(enum.StrEnum):
    promised = "promised"  # 已承诺
    in_progress = "in_progress"  # 践诺中
    kept = "kept"  # 已践诺
    not_kept = "not_kept"  # 未践诺


TRANSITIONS: Mapping[CommitmentStatus, frozenset[CommitmentStatus]] = {
    CommitmentStatus.promised: frozenset({CommitmentStatus.in_progress, CommitmentStatus.kept,
                                          CommitmentStatus.not_kept}),
    CommitmentStatus.in_progress: frozenset({CommitmentStatus.kept, CommitmentStatus.not_kept}),
    CommitmentStatus.kept: frozenset(),
    CommitmentStatus.not_kept: frozenset(),
}
"""Allowed status changes of a commitment; kept and not kept are final."""


class HolderKind(enum.StrEnum):
    branch = "branch"
    team = "team"
    member = "member"


class SubjectKind(enum.StrEnum):
    """What an evaluation scores."""

    grid = "grid"
    branch = "branch"


# -- members and grades --------------------------------------------------------------------------------


def members_of(recorded: int | None, declared: int | None) -> int:
    """A branch's members: its active records when it has any record at all (`recorded` not None), else
    the count its organisation file declared."""
    return recorded if recorded is not None else max(declared or 0, 0)


def needs_seconded_branch(members: int) -> bool:
    """Fewer than three members: the branch needs a seconded branch (派驻党支部)."""
    return members < MIN_MEMBERS


def parse_grade(value: object, field: str = "grade") -> BranchGrade:
    """`advanced`/`average`/`weak` or 先进/一般/后进; the error names the allowed words."""
    text = str(value or "").strip()
    for grade in BranchGrade:
        if text in (grade.value, GRADE_WORDS[grade]):
            return grade
    allowed = ", ".join(f"{g.value} ({GRADE_WORDS[g]})" for g in BranchGrade)
    raise InvalidInput(f"{field} {text!r} is not a grade; allowed: {allowed}", details={"field": field})


@dataclass(frozen=True)
class GradeEntry:
    graded_on: date
    grade: BranchGrade
    graded_by: str
    order: int = 0  # entry order, for two grades given on one day


def grade_on(history: Iterable[GradeEntry], day: date) -> GradeEntry | None:
    """The grade in force on `day`: the latest graded on or before it (the last entered wins a tie)."""
    past = [entry for entry in history if entry.graded_on <= day]
    return max(past, key=lambda e: (e.graded_on, e.order)) if past else None


def check_pairing(weak_grade: BranchGrade | None, strong_grade: BranchGrade | None, same: bool) -> None:
    """A pairing joins a branch graded weak (后进) on the day with one graded advanced (先进)."""
    if same:
        raise InvalidInput("a branch cannot be paired with itself", details={"field": "strong_branch_id"})
    if weak_grade is not BranchGrade.weak:
        raise Conflict(f"the weak branch is graded {weak_grade or 'not at all'} on that day; only a weak (后进) "
                       "branch is paired", details={"field": "weak_branch_id"})
    if strong_grade is not BranchGrade.advanced:
        raise Conflict(f"the strong branch is graded {strong_grade or 'not at all'} on that day; pair with an "
                       "advanced (先进) branch", details={"field": "strong_branch_id"})


# -- commitments ---------------------------------------------------------------------------------------


def check_status_change(current: CommitmentStatus, wanted: CommitmentStatus) -> None:
    """Raise naming the allowed next statuses when `current` may not become `wanted`."""
    if wanted == current:
        return
    allowed = TRANSITIONS[current]
    if wanted not in allowed:
        shown = ", ".join(sorted(allowed)) or "none (final status)"
        raise Conflict(f"a commitment that is {current} cannot become {wanted}; allowed: {shown}",
                       details={"current": str(current), "allowed": sorted(allowed)})


def holder_label(kind: HolderKind, holder_name: str | None, branch_name: str | None) -> str | None:
    """The name shown for a commitment's holder: the branch's or team's own name; for a member, their
    branch's name (a member's own name is never shown)."""
    return branch_name if kind is HolderKind.member else holder_name


# -- evaluations ---------------------------------------------------------------------------------------

EVALUATION_COLUMNS = ("year", "subject", "code", "score")
"""Columns an evaluation file must have (`respondents` and `note` are optional). `subject` is grid or
branch; `code` the grid code, for a branch the code of the grid or community it answers for."""


@dataclass(frozen=True)
class EvaluationRow:
    year: int
    subject: SubjectKind
    code: str
    score: Decimal
    respondents: int | None = None
    note: str = ""


def parse_evaluation(row: Mapping[str, Any], where: str = "") -> EvaluationRow:
    """One evaluation; raises InvalidInput naming the column (prefixed with `where`, e.g. "row 3: ")."""
    problems = _evaluation_problems(row)
    if problems:
        raise InvalidInput(where + "; ".join(problems), details={"problems": problems})
    return _evaluation(row)


def parse_evaluations(rows: Sequence[Mapping[str, Any]]) -> list[EvaluationRow]:
    """Every row of a file, or InvalidInput naming each bad row (numbered from 2, the header being row 1)
    and its columns: nothing is taken from a file with one bad row."""
    if not rows:
        raise InvalidInput("the file has no rows", details={"problems": ["no rows"]})
    missing = [c for c in EVALUATION_COLUMNS if c not in rows[0]]
    if missing:
        raise InvalidInput(f"the file lacks the column(s) {', '.join(missing)}; expected "
                           f"{', '.join(EVALUATION_COLUMNS)} (respondents, note optional)",
                           details={"missing": missing})
    bad: list[str] = []
    seen: dict[tuple[int, str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        problems = _evaluation_problems(row)
        if not problems:
            key = (int(str(row["year"]).strip()), str(row["subject"]).strip(), str(row["code"]).strip())
            if key in seen:
                problems.append(f"repeats row {seen[key]} ({key[1]} {key[2]} in {key[0]})")
            seen.setdefault(key, number)
        bad += [f"row {number}: {p}" for p in problems]
    if bad:
        raise InvalidInput(f"{len(bad)} problem(s), nothing imported: " + "; ".join(bad[:20]),
                           details={"problems": bad})
    return [_evaluation(row) for row in rows]


_CODE = re.compile(r"^(\d{12}|\d{15})$")


def _evaluation_problems(row: Mapping[str, Any]) -> list[str]:
    problems = []
    year = str(row.get("year") or "").strip()
    if not (year.isdigit() and 1990 <= int(year) <= 2999):
        problems.append(f"year {year!r} is not a year (1990–2999)")
    subject = str(row.get("subject") or "").strip()
    if subject not in SubjectKind.__members__:
        problems.append(f"subject {subject!r} is not one of {', '.join(SubjectKind)}")
    code = str(row.get("code") or "").strip()
    if not _CODE.match(code) or (subject == SubjectKind.grid and len(code) != 15):
        problems.append(f"code {code!r} is not a grid code (15 digits)"
                        + ("" if subject == SubjectKind.grid else " or community code (12 digits)"))
    score = _decimal(row.get("score"))
    if score is None or not Decimal(0) <= score <= Decimal(100):
        problems.append(f"score {row.get('score')!r} is not a number from 0 to 100")
    respondents = str(row.get("respondents") if row.get("respondents") is not None else "").strip()
    if respondents and not respondents.isdigit():
        problems.append(f"respondents {respondents!r} is not a whole number")
    return problems


def _decimal(value: object) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _evaluation(row: Mapping[str, Any]) -> EvaluationRow:
    respondents = str(row.get("respondents") if row.get("respondents") is not None else "").strip()
    score = _decimal(row["score"])
    assert score is not None
    return EvaluationRow(int(str(row["year"]).strip()), SubjectKind(str(row["subject"]).strip()),
                         str(row["code"]).strip(), score.quantize(Decimal("0.01")),
                         int(respondents) if respondents else None, str(row.get("note") or "").strip())


# -- the half-year -------------------------------------------------------------------------------------

_HALF = re.compile(r"^(\d{4})[Hh]([12])$")


def half_year(spec: str) -> Period:
    """`2026H1` (January–June) or `2026H2` (July–December) as a `Period`; the error names the form."""
    match = _HALF.match((spec or "").strip())
    if not match:
        raise InvalidInput(f"half {spec!r} is not a half-year; write YYYYH1 or YYYYH2, e.g. 2026H1",
                           details={"field": "half"})
    year, half = int(match[1]), int(match[2])
    first = check_day("half", date(year, 1 if half == 1 else 7, 1))
    return period_between(first, date(year, 7, 1) if half == 1 else date(year + 1, 1, 1))
