"""Measures per grid (DOMAIN.md "Measures"): their definitions, rates, score, grade and map classes.

Pure: no database. The arithmetic is defined here once, as data (`RATES`, `SCORE_WEIGHTS`, `GRADES`):
`finish_measures` applies it to counts, and `gis/store/measures.py` turns the same tables into SQL so that
50,000 grids are finished in PostGIS; tests hold the two equal.

Closure and on-time closure count *solved* cases only: a case closed as explained (解释说明: not
solvable now, the resident told why and when) is counted apart (`explained_share`), and a duplicate merged
into another case is in no measure at all. `repeat_rate` divides the reports linked as a repeat of an
earlier case by the reports; `local_share` (矛盾不上交) divides the cases closed in the period that never left
the locality (no owning department, never escalated) by the cases closed in the period.

Rates are recomputed from summed numerators and denominators, never averaged, so a community's closure
rate is (closed in all its grids) / (due in all its grids). A rate whose denominator is 0 is None
("no data"), not 0 or 1.

Score (0–100) is a weighted mean of five rates, each in 0..1 (`SCORE_WEIGHTS`):

    on-time closure 35, closure 20, satisfaction 25, 1 − rework rate 10, organisational coverage 10

Organisational coverage = 1 − gaps / (4 × grids): each grid has four checks (party branch, service team,
active grid worker, households per worker within target). Neutral handling of missing rates: a rate
that is None (no due, handled or rated cases) is left out and the remaining weights are rescaled, so a
quiet grid is scored on what it does have and is neither punished nor rewarded for having no cases.
Grades: A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below (on the unrounded score).

Map classes: `thresholds` are ascending class breaks; class i holds values in [breaks[i-1], breaks[i])
(lower bound inclusive), so thresholds (24, 72) give < 24, 24–72 and ≥ 72. `colours` are listed in
class order (ascending value): green→red when higher is worse, red→green when higher is better. The
ramps are colour-blind safe: every pair of colours stays ≥ 20 ΔE*ab apart under simulated
deuteranopia and protanopia (Machado et al. 2009), checked in tests/gis/test_metrics.py; the green
end is a blue-green for that reason.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from gis.i18n import language_key

__all__ = [
    "GRADES",
    "INVERTED_IN_SCORE",
    "MEASURES",
    "NO_DATA_COLOUR",
    "ORG_CHECKS",
    "RAMPS",
    "RATES",
    "SCORE_WEIGHTS",
    "MeasureSpec",
    "classify",
    "colours_for",
    "finish_measures",
    "grade_for",
    "legend",
    "quantile_breaks",
    "ratio",
    "score_for",
    "worst",
]

RAMPS: Mapping[int, tuple[str, ...]] = MappingProxyType({
    2: ("#008470", "#ca0020"),
    3: ("#008470", "#f1a340", "#ca0020"),
    4: ("#008470", "#fff1a8", "#f1a340", "#ca0020"),
    5: ("#008470", "#8fd1b4", "#fff1a8", "#f1a340", "#ca0020"),
    6: ("#008470", "#8fd1b4", "#fff1a8", "#f1a340", "#ca0020", "#67001f"),
    7: ("#006b5a", "#3aa58a", "#a6dcc4", "#fff1a8", "#f1a340", "#ca0020", "#67001f"),
})
"""Colour-blind-safe ramps from good (blue-green) to bad (red), by number of classes."""

NO_DATA_COLOUR = "#bdbdbd"
"""Grey for a unit whose value is None (no cases to rate, no buildings …)."""

GRADES: tuple[tuple[str, float], ...] = (("A", 90.0), ("B", 75.0), ("C", 60.0), ("D", 40.0), ("E", -math.inf))
"""Grade letters with the lowest score that earns them, best first."""

SCORE_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "on_time_rate": 35.0,
    "closure_rate": 20.0,
    "satisfaction": 25.0,
    "rework_rate": 10.0,  # counts as 1 − rate: less rework is better
    "org_coverage": 10.0,
})
"""Weights of the score; they sum to 100."""

INVERTED_IN_SCORE = frozenset({"rework_rate"})
"""Rates that count as 1 − rate in the score."""

RATES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "closure_rate": ("solved", "due"),  # solved: closed with the outcome solved (gis/store/vocabulary.py)
    "on_time_rate": ("solved_on_time", "due"),
    "rework_rate": ("reworked", "handled"),
    "satisfaction": ("satisfied", "rated"),
    "unvisited_share": ("unvisited", "buildings"),
    "households_per_worker": ("households", "workers"),
    "explained_share": ("explained", "due"),  # 解释说明: closed as explained, counted apart from solved
    "repeat_rate": ("repeats", "reported"),  # 重复诉求: reports linked as a repeat of an earlier case
    "local_share": ("closed_locally", "closed_in_period"),  # 矛盾不上交: closed without leaving the locality
})
"""Each ratio measure as (numerator count, denominator count): the one definition the store's SQL and
`finish_measures` both follow, for a grid and for a roll-up alike."""

ORG_CHECKS = 4
"""Organisational checks per grid: party branch, service team, active grid worker, households per worker."""


def colours_for(classes: int, higher_is_worse: bool) -> tuple[str, ...]:
    """The ramp for `classes` classes in class order (ascending value); 1 class gets the good colour."""
    if classes < 1 or classes > max(RAMPS):
        raise ValueError(f"classes must be between 1 and {max(RAMPS)}, not {classes}")
    ramp = (RAMPS[2][0],) if classes == 1 else RAMPS[classes]
    return ramp if higher_is_worse else tuple(reversed(ramp))


@dataclass(frozen=True)
class MeasureSpec:
    """One measure: how it is named, in which unit, which way is bad, and its default map classes.

    `unit` is one of "cases", "h" (hours), "share" (0..1, shown as a percentage), "gaps", "households",
    "people", "points" (score) or "grade". `categories` lists the grade letters in class order for the grade.
    `wall` is the measure's place among the wall's buttons (None: not on the wall), `short_zh`/`short_en`
    the button's words: a measure added here reaches the wall without touching a page or a script.
    """

    key: str
    label_zh: str
    label_en: str
    unit: str
    higher_is_worse: bool
    thresholds: tuple[float, ...]
    colours: tuple[str, ...]
    categories: tuple[str, ...] = ()
    wall: int | None = None
    short_zh: str = ""
    short_en: str = ""

    def __post_init__(self) -> None:
        if list(self.thresholds) != sorted(set(self.thresholds)):
            raise ValueError(f"{self.key}: thresholds must be strictly ascending")
        if len(self.colours) != len(self.thresholds) + 1:
            raise ValueError(f"{self.key}: needs one colour more than thresholds")


def _spec(key: str, zh: str, en: str, unit: str, worse_up: bool, thresholds: tuple[float, ...],
          categories: tuple[str, ...] = (), *, wall: int | None = None, short: tuple[str, str] = ("", "")
          ) -> MeasureSpec:
    return MeasureSpec(key, zh, en, unit, worse_up, thresholds, colours_for(len(thresholds) + 1, worse_up),
                       categories, wall, *short)


MEASURES: Mapping[str, MeasureSpec] = MappingProxyType({s.key: s for s in (
    _spec("open_cases", "在办案件", "Open cases", "cases", True, (1, 5, 10, 20),
          wall=1, short=("在办", "Open")),
    _spec("overdue", "期内超期（含已结）", "Overdue in period (incl. closed late)", "cases", True, (1, 3, 5),
          wall=2, short=("期内超期", "Overdue")),
    _spec("response_p50_h", "响应时长中位数", "Response time, median", "h", True, (24, 72),
          wall=3, short=("响应时长", "Response")),
    _spec("response_p90_h", "响应时长90分位", "Response time, 90th percentile", "h", True, (48, 120)),
    _spec("resolution_p50_h", "处置时长中位数", "Resolution time, median", "h", True, (48, 120)),
    _spec("resolution_p90_h", "处置时长90分位", "Resolution time, 90th percentile", "h", True, (120, 312)),
    _spec("closure_rate", "结案率", "Closure rate", "share", False, (0.8, 0.9, 0.95)),
    _spec("on_time_rate", "按期结案率", "On-time closure rate", "share", False, (0.6, 0.75, 0.9),
          wall=6, short=("按期结案", "On time")),
    _spec("rework_rate", "返工率", "Rework rate", "share", True, (0.05, 0.1, 0.2)),
    _spec("satisfaction", "满意率", "Satisfaction", "share", False, (0.8, 0.9, 0.95),
          wall=7, short=("满意率", "Satisfied")),
    _spec("org_gaps", "组织覆盖缺口", "Organisational gaps", "gaps", True, (1, 2),
          wall=5, short=("组织缺口", "Org gaps")),
    _spec("unvisited_share", "未走访楼栋占比", "Buildings not visited in the cycle", "share", True,
          (0.1, 0.3, 0.5),
          wall=4, short=("未走访", "Unvisited")),
    _spec("households_per_worker", "人均服务户数", "Households per grid worker", "households", True,
          (300, 500)),
    _spec("focus_gap", "关爱对象缺口", "Focus households unpaired or overdue for a visit", "gaps", True, (1, 3, 5),
          wall=9, short=("关爱缺口", "Care gaps")),  # gis/focus.py is_gap; a count, no names
    _spec("explained_share", "解释说明占比", "Explained, not solvable now", "share", True, (0.05, 0.1, 0.2)),
    _spec("repeat_rate", "重复诉求率", "Repeat reports", "share", True, (0.05, 0.1, 0.2)),
    _spec("local_share", "矛盾不上交率", "Resolved locally (not escalated)", "share", False, (0.6, 0.8, 0.9)),
    _spec("party_members", "党员数", "Party members", "people", False, (3, 10, 30)),  # gis/party.py members_of
    _spec("weak_branches", "薄弱党组织", "Branches under three members or graded weak", "gaps", True, (1,),
          wall=10, short=("薄弱支部", "Weak branches")),  # gis/party.py: fewer than 3 members, or graded 后进
    _spec("score", "综合得分", "Score", "points", False, (40, 60, 75, 90)),
    _spec("grade", "等级", "Grade", "grade", False, (40, 60, 75, 90), categories=("E", "D", "C", "B", "A"),
          wall=8, short=("等级", "Grade")),
)})
"""Every measure the layer API can colour a map by, keyed as in the rows of `grid_measures`."""


# -- rates, score, grade ------------------------------------------------------------------------------


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if not denominator or numerator is None:
        return None
    return numerator / denominator


def score_for(rates: Mapping[str, float | None]) -> float:
    """The 0–100 score from the rates in `SCORE_WEIGHTS` (missing or None ones left out, weights rescaled).

    Raises ValueError when no rate is available at all: there is nothing to score.
    """
    total = weight = 0.0
    for key, w in SCORE_WEIGHTS.items():
        value = rates.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        value = min(max(float(value), 0.0), 1.0)
        total += w * (1.0 - value if key in INVERTED_IN_SCORE else value)
        weight += w
    if weight == 0:
        raise ValueError(f"no rate to score; expected some of {', '.join(SCORE_WEIGHTS)}")
    return 100.0 * total / weight


def grade_for(score: float) -> str:
    """A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below."""
    if math.isnan(score):
        raise ValueError("score is NaN")
    return next(letter for letter, lowest in GRADES if score >= lowest)


def finish_measures(counts: Mapping[str, Any]) -> dict[str, Any]:
    """Rates, score and grade of one unit from its summed counts: the reference definition.

    Returns the derived keys only: the `RATES`, org_coverage, score, grade. The households-per-worker gap
    is judged per grid (before summing), so it arrives inside `org_gaps`. The store computes the same
    in SQL from the same tables (50,000 rows are faster there); tests hold the two equal.
    """
    grids = counts.get("grids") or 0
    derived: dict[str, Any] = {
        key: ratio(counts.get(numerator), counts.get(denominator))
        for key, (numerator, denominator) in RATES.items()
    }
    gaps = counts.get("org_gaps") or 0
    derived["org_coverage"] = None if not grids else 1.0 - gaps / (ORG_CHECKS * grids)
    try:
        derived["score"] = score_for(derived)
        derived["grade"] = grade_for(derived["score"])
    except ValueError:
        derived["score"] = derived["grade"] = None
    return derived


# -- classes and legends ------------------------------------------------------------------------------


def worst(rows: Iterable[Mapping[str, Any]], measure: str, limit: int) -> list[Mapping[str, Any]]:
    """The `limit` rows worst on `measure`: worst first, ties by code; rows with no value, and rows with
    nothing wrong (zero or less on a measure where more is worse: no open case is no problem), left out;
    "grade" ranks by score. The one "worst grids" rule of the wall's list, `worst_grids` and the API."""
    key = "score" if measure == "grade" else measure
    worse_up = MEASURES[key].higher_is_worse
    ranked = [r for r in rows if r[key] is not None and not (worse_up and r[key] <= 0)]
    ranked.sort(key=lambda r: (-r[key] if worse_up else r[key], r["code"]))
    return ranked[:limit]


def classify(
    value: float | str | None, spec: MeasureSpec, breaks: Sequence[float] | None = None
) -> int | None:
    """The class index of `value` (0 = lowest values), or None for no data.

    A grade letter is classed by its position in `spec.categories`; numbers by `breaks` (default the
    spec's thresholds), lower bound inclusive.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value not in spec.categories:
            raise ValueError(f"{value!r} is not a class of {spec.key}; expected one of {spec.categories}")
        return spec.categories.index(value)
    if math.isnan(value):
        return None
    return bisect_right(tuple(spec.thresholds if breaks is None else breaks), value)


def quantile_breaks(values: Sequence[float | None], classes: int) -> tuple[float, ...]:
    """Breaks giving `classes` classes of about equal counts (quantiles, interpolated like percentile_cont).

    None and NaN are ignored; repeated or degenerate breaks are dropped, so fewer classes come back when
    the values have fewer distinct levels.
    """
    if classes < 1:
        raise ValueError(f"classes must be at least 1, not {classes}")
    data = sorted(float(v) for v in values if v is not None and not math.isnan(v))
    if not data:
        return ()
    breaks: list[float] = []
    for k in range(1, classes):
        position = (len(data) - 1) * k / classes
        low = math.floor(position)
        high = min(low + 1, len(data) - 1)
        value = data[low] + (data[high] - data[low]) * (position - low)
        if value > data[0] and (not breaks or value > breaks[-1]):
            breaks.append(value)
    return tuple(breaks)


_UNIT_TEXT = {
    "h": {"zh-CN": " 小时", "en": " h"},
    "share": {"zh-CN": "%", "en": "%"},
    "cases": {"zh-CN": " 件", "en": ""},
    "gaps": {"zh-CN": " 项", "en": ""},
    "households": {"zh-CN": " 户", "en": ""},
    "points": {"zh-CN": " 分", "en": ""},
    "people": {"zh-CN": " 人", "en": ""},
}
_NO_DATA = {"zh-CN": "无数据", "en": "No data"}
_WHOLE_UNITS = frozenset({"cases", "gaps"})


def _number(value: float, unit: str) -> str:
    """Shares (0..1) read as percentages; `g` drops float noise such as 90.00000000000001."""
    return f"{value * 100:g}" if unit == "share" else f"{value:g}"


def _class_label(low: float | None, high: float | None, unit: str, lang: str) -> str:
    """"< 24 h", "24–72 h", "≥ 72 h"; whole counts read "0", "1–4", "≥ 20"."""
    suffix = _UNIT_TEXT.get(unit, {}).get(lang, "")
    whole = unit in _WHOLE_UNITS and all(b is None or float(b).is_integer() for b in (low, high))
    if whole:
        first = 0 if low is None else int(low)
        if high is None:
            return f"≥ {first}{suffix}"
        last = int(high) - 1
        return f"{first}{suffix}" if last <= first else f"{first}–{last}{suffix}"
    if low is None and high is None:
        return "all" if lang == "en" else "全部"
    if low is None:
        return f"< {_number(high, unit)}{suffix}"  # type: ignore[arg-type]
    if high is None:
        return f"≥ {_number(low, unit)}{suffix}"
    return f"{_number(low, unit)}–{_number(high, unit)}{suffix}"


def legend(spec: MeasureSpec, breaks: Sequence[float] | None = None, language: str = "zh-CN") -> list[dict]:
    """Legend rows in class order: {class, colour, label, min, max}; min inclusive, max exclusive, None
    when open-ended. A last row with class None and a grey colour stands for "no data"."""
    lang = language_key(language)
    cuts = tuple(spec.thresholds if breaks is None else breaks)
    colours = spec.colours if breaks is None else colours_for(len(cuts) + 1, spec.higher_is_worse)
    bounds = [None, *cuts, None]
    rows = []
    for index, colour in enumerate(colours):
        low, high = bounds[index], bounds[index + 1]
        if spec.categories and breaks is None:
            text = f"{spec.categories[index]} ({_class_label(low, high, 'points', lang)})"
        else:
            text = _class_label(low, high, spec.unit, lang)
        rows.append({"class": index, "colour": colour, "label": text, "min": low, "max": high})
    rows.append({"class": None, "colour": NO_DATA_COLOUR, "label": _NO_DATA[lang], "min": None, "max": None})
    return rows
