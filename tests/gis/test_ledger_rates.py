"""A rate label means one formula: the ledger's rates and the wall's measures share a label only where they
divide the same counts, and the ledger's closure figures (closed / filed) are named apart from the wall's
结案率 and 按期结案率 (closed / due in the period)."""

from __future__ import annotations

from gis import ledger
from gis.metrics import MEASURES, RATES
from gis.workflow import CaseStatus


def test_a_shared_label_means_the_same_formula() -> None:
    wall = {}
    for key, (numerator, denominator) in RATES.items():
        for text in (MEASURES[key].label_zh, MEASURES[key].label_en):
            wall[text] = (numerator, denominator)
    shared = 0
    for spec in ledger.RATES.values():
        for text in (spec.zh, spec.en):
            if text in wall:
                shared += 1
                assert wall[text] == (spec.numerator, spec.denominator), text
    assert shared == 4  # rework rate and satisfaction, in both languages


def test_the_ledgers_closure_figures_are_not_called_the_walls() -> None:
    labels = {text for spec in ledger.RATES.values() for text in (spec.zh, spec.en)}
    assert not labels & {"结案率", "按期结案率", "Closure rate", "On-time closure rate"}
    assert ledger.RATES["filed_closure_rate"].zh == "立案办结率"


def _case(status: CaseStatus, overdue: bool = False) -> dict:
    return {"status": status.value, "overdue": overdue, "category_group": "市容环境", "category_zh": "暴露垃圾",
            "category_en": "Exposed rubbish", "grid_code": "500103001001001", "grid_name": "西网格",
            "handled_at": None, "rework_count": 0, "satisfaction": None}


def test_summary_rates_divide_what_their_labels_say() -> None:
    # 5 reported: 1 declined, 1 awaiting filing, 3 filed of which 2 closed (1 late).
    cases = [_case(CaseStatus.declined), _case(CaseStatus.reported), _case(CaseStatus.in_handling),
             _case(CaseStatus.closed), _case(CaseStatus.evaluated, overdue=True)]
    summary = ledger.summarise(cases)
    assert (summary.filed, summary.closed, summary.closed_on_time) == (3, 2, 1)
    assert summary.rate("filed_closure_rate") == 2 / 3
    assert summary.rate("filed_on_time_rate") == 1 / 3
    assert summary.rate("rework_rate") is None  # nothing handled
