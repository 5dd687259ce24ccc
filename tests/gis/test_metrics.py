"""Measure definitions, score, grade, classes and legends: pure arithmetic, answers worked out by hand."""

from __future__ import annotations

import itertools
import math

import pytest

from gis.metrics import (
    MEASURES,
    NO_DATA_COLOUR,
    RAMPS,
    SCORE_WEIGHTS,
    MeasureSpec,
    classify,
    colours_for,
    finish_measures,
    grade_for,
    legend,
    quantile_breaks,
    ratio,
    score_for,
)

KEYS = ["open_cases", "overdue", "response_p50_h", "response_p90_h", "resolution_p50_h", "resolution_p90_h",
        "closure_rate", "on_time_rate", "rework_rate", "satisfaction", "org_gaps", "unvisited_share",
        "households_per_worker", "focus_gap", "explained_share", "repeat_rate", "local_share",
        "party_members", "weak_branches", "score", "grade"]


def test_every_measure_is_defined_once_with_its_colours() -> None:
    assert list(MEASURES) == KEYS
    for key, spec in MEASURES.items():
        assert spec.key == key and spec.label_zh and spec.label_en
        assert len(spec.colours) == len(spec.thresholds) + 1
        assert list(spec.thresholds) == sorted(spec.thresholds)
    assert sum(SCORE_WEIGHTS.values()) == 100


@pytest.mark.parametrize(("score", "grade"), [
    (100, "A"), (90, "A"), (89.99, "B"), (75, "B"), (74.9, "C"), (60, "C"), (59.9, "D"), (40, "D"),
    (39.9, "E"), (0, "E"),
])
def test_grade_boundaries(score: float, grade: str) -> None:
    assert grade_for(score) == grade


def test_score_is_the_weighted_mean_of_the_rates() -> None:
    rates = {"on_time_rate": 0.8, "closure_rate": 0.9, "satisfaction": 0.96, "rework_rate": 0.1,
             "org_coverage": 0.75}
    # 35 × 0.8 + 20 × 0.9 + 25 × 0.96 + 10 × (1 − 0.1) + 10 × 0.75 = 28 + 18 + 24 + 9 + 7.5 = 86.5
    assert score_for(rates) == pytest.approx(86.5)
    assert score_for({k: 1.0 for k in SCORE_WEIGHTS} | {"rework_rate": 0.0}) == pytest.approx(100)


def test_missing_rates_are_left_out_not_punished() -> None:
    # No due cases (no closure or on-time rate): the other 45 points are rescaled to 100.
    # (25 × 0.96 + 10 × 0.9 + 10 × 0.75) / 45 = (24 + 9 + 7.5) / 45 = 0.9 → 90
    rates = {"on_time_rate": None, "closure_rate": None, "satisfaction": 0.96, "rework_rate": 0.1,
             "org_coverage": 0.75}
    assert score_for(rates) == pytest.approx(90.0)
    assert score_for({"org_coverage": 0.5}) == pytest.approx(50.0)
    assert score_for({"org_coverage": math.nan, "satisfaction": 1.0}) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="no rate"):
        score_for({"closure_rate": None})


def test_finish_measures_recomputes_rates_from_counts() -> None:
    # 5 of the 6 due cases closed: 4 solved (2 on time), 1 explained, which closure does not count as solved.
    counts = {"due": 6, "closed": 5, "solved": 4, "explained": 1, "closed_on_time": 3, "solved_on_time": 2,
              "handled": 5, "reworked": 3, "rated": 4, "satisfied": 3, "buildings": 4, "unvisited": 2,
              "households": 100, "workers": 1, "grids": 2, "org_gaps": 2, "reported": 8, "repeats": 2,
              "closed_in_period": 5, "closed_locally": 4}
    done = finish_measures(counts)
    assert done["closure_rate"] == pytest.approx(4 / 6)
    assert done["on_time_rate"] == pytest.approx(2 / 6)
    assert done["explained_share"] == pytest.approx(1 / 6)
    assert (done["repeat_rate"], done["local_share"]) == (0.25, 0.8)
    assert (done["rework_rate"], done["satisfaction"], done["unvisited_share"]) == (0.6, 0.75, 0.5)
    assert (done["households_per_worker"], done["org_coverage"]) == (100.0, 0.75)
    # 35/3 + 20 × 2/3 + 25 × 0.75 + 10 × 0.4 + 10 × 0.75 = 55.25
    assert (done["score"], done["grade"]) == (pytest.approx(55.25), "D")
    nothing = finish_measures({})
    assert nothing["closure_rate"] is None and nothing["score"] is None and nothing["grade"] is None


def test_ratio_has_no_value_without_a_denominator() -> None:
    assert ratio(3, 4) == 0.75
    assert ratio(0, 0) is None
    assert ratio(None, 2) is None


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), (math.nan, None), (0.0, 0), (23.9, 0), (24.0, 1), (71.9, 1), (72.0, 2), (500.0, 2),
])
def test_classify_response_time(value: float | None, expected: int | None) -> None:
    # Thresholds (24, 72): green below a day, red from three days, lower bounds inclusive.
    assert classify(value, MEASURES["response_p50_h"]) == expected


def test_classify_with_other_breaks_and_grades() -> None:
    spec = MEASURES["open_cases"]
    assert classify(7, spec, breaks=(5, 10)) == 1
    assert classify(7, spec, breaks=()) == 0
    grade = MEASURES["grade"]
    assert [classify(letter, grade) for letter in "EDCBA"] == [0, 1, 2, 3, 4]
    assert classify(92.0, grade) == classify("A", grade) == 4
    with pytest.raises(ValueError, match="not a class"):
        classify("F", grade)


def test_colour_order_follows_which_way_is_bad() -> None:
    # Higher is worse: green first. Higher is better: red first (class 0 is still the lowest values).
    assert MEASURES["overdue"].colours == RAMPS[4]
    assert MEASURES["closure_rate"].colours == tuple(reversed(RAMPS[4]))
    assert MEASURES["grade"].colours[classify("A", MEASURES["grade"])] == RAMPS[5][0]  # A is green
    assert colours_for(1, True) == (RAMPS[2][0],)
    with pytest.raises(ValueError):
        colours_for(8, True)


@pytest.mark.parametrize(("values", "classes", "expected"), [
    # 0..10: quantiles at 10 × 1/4, 2/4, 3/4 = 2.5, 5, 7.5 (interpolated like percentile_cont)
    (list(range(11)), 4, (2.5, 5.0, 7.5)),
    # [1, 2, 3, 4]: positions 3 × 1/3 = 1 and 3 × 2/3 = 2 → 2 and 3
    ([4, None, 1, 3, 2, math.nan], 3, (2.0, 3.0)),
    # few distinct values: repeated breaks collapse, a break at the minimum is dropped
    ([0, 0, 0, 0, 5], 4, ()), ([0, 0, 0, 5, 5, 5], 3, (5.0,)),
    ([], 5, ()), ([3.0], 1, ()),
])
def test_quantile_breaks(values: list[float | None], classes: int, expected: tuple[float, ...]) -> None:
    assert quantile_breaks(values, classes) == pytest.approx(expected)


def test_legend_of_hours_in_both_languages() -> None:
    rows = legend(MEASURES["response_p50_h"], None, "en")
    assert [(r["class"], r["label"], r["min"], r["max"]) for r in rows] == [
        (0, "< 24 h", None, 24), (1, "24–72 h", 24, 72), (2, "≥ 72 h", 72, None),
        (None, "No data", None, None)]
    assert [r["colour"] for r in rows] == [*RAMPS[3], NO_DATA_COLOUR]
    assert [r["label"] for r in legend(MEASURES["response_p50_h"], None, "zh-CN")][:3] == [
        "< 24 小时", "24–72 小时", "≥ 72 小时"]


def test_legend_of_counts_shares_custom_breaks_and_grades() -> None:
    counts = [r["label"] for r in legend(MEASURES["open_cases"], language="en")]
    assert counts == ["0", "1–4", "5–9", "10–19", "≥ 20", "No data"]
    shares = [r["label"] for r in legend(MEASURES["closure_rate"], language="en")]
    assert shares == ["< 80%", "80–90%", "90–95%", "≥ 95%", "No data"]
    custom = legend(MEASURES["open_cases"], (2.5, 7.5), "en")
    assert [r["label"] for r in custom] == ["< 2.5", "2.5–7.5", "≥ 7.5", "No data"]
    assert [r["colour"] for r in custom][:3] == list(RAMPS[3])
    grades = [r["label"] for r in legend(MEASURES["grade"], language="en")]
    assert grades == ["E (< 40)", "D (40–60)", "C (60–75)", "B (75–90)", "A (≥ 90)", "No data"]


def test_spec_checks_its_own_shape() -> None:
    with pytest.raises(ValueError, match="one colour more"):
        MeasureSpec("x", "x", "x", "cases", True, (1, 2), ("#000000",))
    with pytest.raises(ValueError, match="ascending"):
        MeasureSpec("x", "x", "x", "cases", True, (2, 1), ("#000000",) * 3)


# -- colour-blind safety: Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB ----------------

_MACHADO = {
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
}


def _linear(colour: str) -> tuple[float, ...]:
    channels = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return tuple(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)


def _lab(rgb: tuple[float, ...]) -> tuple[float, float, float]:
    r, g, b = (min(max(c, 0.0), 1.0) for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


@pytest.mark.parametrize("vision", [None, *_MACHADO])
def test_ramps_stay_distinguishable_with_colour_blindness(vision: str | None) -> None:
    for ramp in RAMPS.values():
        labs = []
        for colour in ramp:
            rgb = _linear(colour)
            if vision is not None:
                rgb = tuple(sum(m * c for m, c in zip(row, rgb, strict=True)) for row in _MACHADO[vision])
            labs.append(_lab(rgb))
        closest = min(math.dist(a, b) for a, b in itertools.combinations(labs, 2))
        assert closest >= 20, (vision, ramp)


def test_worst_is_one_rule_worst_first_ties_by_code_no_data_left_out() -> None:
    from gis.metrics import worst

    rows = [{"code": "3", "overdue": 2, "on_time_rate": 0.5, "score": 80.0},
            {"code": "1", "overdue": 2, "on_time_rate": None, "score": 40.0},
            {"code": "2", "overdue": 5, "on_time_rate": 0.9, "score": None},
            {"code": "4", "overdue": 0, "on_time_rate": 0.0, "score": 10.0}]
    assert [r["code"] for r in worst(rows, "overdue", 10)] == ["2", "1", "3"]  # more is worse; ties by code;
    # a grid with no overdue case has nothing wrong and is not listed
    assert [r["code"] for r in worst(rows, "on_time_rate", 10)][0] == "4"  # 0 on a less-is-worse measure is worst
    assert [r["code"] for r in worst(rows, "on_time_rate", 10)] == ["4", "3", "2"]  # less is worse; None left out
    assert [r["code"] for r in worst(rows, "grade", 1)] == ["4"]  # grade ranks by score
