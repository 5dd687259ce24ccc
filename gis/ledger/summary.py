"""The 汇总 figures, counted from the same case dicts as the ledger rows, and the ledger's rates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gis.workflow import (
    CaseStatus,
    Outcome,
    Satisfaction,
    counts_as_open_case,
    is_closed,
    is_declined,
    is_solved,
)

if TYPE_CHECKING:
    pass


from gis.ledger.columns import Case, _category, _grid_name

# -- summary --------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Cases, filed, closed and overdue cases of one group (a category, a grid)."""

    cases: int = 0
    filed: int = 0
    closed: int = 0
    overdue: int = 0

    def add(self, case: Case) -> None:
        status = CaseStatus(case["status"])
        self.cases += 1
        self.filed += _is_filed(status)
        self.closed += is_closed(status) and status is not CaseStatus.merged
        self.overdue += bool(case.get("overdue"))


def _is_filed(status: CaseStatus) -> bool:
    """Past the filing decision, not declined and not merged into another case: the cases due to close (应结案)."""
    return status not in (CaseStatus.reported, CaseStatus.merged) and not is_declined(status)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class RateLabel:
    """A ledger rate: its headers, what it divides (`Summary` counts, as `gis.metrics.RATES` names its
    own) and how the sheet explains it."""

    zh: str
    en: str
    numerator: str
    denominator: str
    how_zh: str
    how_en: str


RATES: Mapping[str, RateLabel] = {
    "filed_closure_rate": RateLabel("立案办结率", "Filed cases closed", "solved", "filed",
                                    "已解决 / 已立案（本期上报；解释说明不计为解决；"
                                    "大屏“结案率”为已解决 / 期内应结案）",
                                    "solved / filed, of the cases reported (explained cases are not solved; "
                                    "the wall's closure rate divides by the cases due in the period)"),
    "filed_on_time_rate": RateLabel("立案按期办结率", "Filed cases closed on time", "solved_on_time", "filed",
                                    "按期解决 / 已立案", "solved on time / filed"),
    "rework_rate": RateLabel("返工率", "Rework rate", "reworked", "handled", "返工案件 / 已处置",
                             "reworked / handled"),
    "satisfaction": RateLabel("满意率", "Satisfaction", "satisfied", "rated", "满意 / 已评价",
                              "satisfied / rated"),
}
"""The ledger's rates, keyed by `Summary` property; labels shared with `gis.metrics.MEASURES` must divide
the same counts as `gis.metrics.RATES` (tests/gis/test_ledger_rates.py)."""


@dataclass(frozen=True)
class Summary:
    """The 汇总 figures, all counted from the same case dicts as the ledger rows."""

    total: int
    declined: int
    awaiting_filing: int
    filed: int
    in_progress: int
    closed: int
    closed_on_time: int
    solved: int
    solved_on_time: int
    explained: int
    merged: int
    overdue: int
    handled: int
    reworked: int
    rated: int
    satisfied: int
    by_status: dict[CaseStatus, int]
    by_category: dict[tuple[str, str], Tally]
    by_grid: dict[tuple[str, str], Tally]

    def rate(self, key: str) -> float | None:
        """A rate of `RATES`, from its numerator and denominator counts."""
        spec = RATES[key]
        return _rate(getattr(self, spec.numerator), getattr(self, spec.denominator))


_SATISFIED = {Satisfaction.satisfied.value, Satisfaction.basically_satisfied.value}


def summarise(cases: Sequence[Case], lang: str = "zh-CN") -> Summary:
    """Counts by status, category and grid, and the closure, on-time, rework and satisfaction figures."""
    statuses = [CaseStatus(case["status"]) for case in cases]
    by_status = Counter(statuses)
    by_category: dict[tuple[str, str], Tally] = {}
    by_grid: dict[tuple[str, str], Tally] = {}
    for case in cases:
        by_category.setdefault((case["category_group"], _category(case, lang)), Tally()).add(case)
        by_grid.setdefault((case.get("grid_code") or "", _grid_name(case, lang)), Tally()).add(case)
    closed = [case for case, status in zip(cases, statuses, strict=True)
              if is_closed(status) and status is not CaseStatus.merged]
    solved = [case for case in closed if is_solved(case["status"], case.get("outcome"))]
    declined = sum(is_declined(status) for status in statuses)
    return Summary(
        total=len(cases),
        declined=declined,
        awaiting_filing=by_status[CaseStatus.reported],
        filed=sum(_is_filed(status) for status in statuses),
        in_progress=sum(counts_as_open_case(status) for status in statuses),
        closed=len(closed),
        closed_on_time=sum(not case.get("overdue") for case in closed),
        solved=len(solved),
        solved_on_time=sum(not case.get("overdue") for case in solved),
        explained=sum(case.get("outcome") == Outcome.explained.value for case in closed),
        merged=by_status[CaseStatus.merged],
        overdue=sum(bool(case.get("overdue")) for case in cases),
        handled=sum(case.get("handled_at") is not None for case in cases),
        reworked=sum((case.get("rework_count") or 0) > 0 for case in cases),
        rated=sum(case.get("satisfaction") is not None for case in cases),
        satisfied=sum(case.get("satisfaction") in _SATISFIED for case in cases),
        by_status={status: by_status[status] for status in CaseStatus},
        by_category=dict(sorted(by_category.items())),
        by_grid=dict(sorted(by_grid.items())),
    )
