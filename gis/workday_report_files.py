"""The work-day report as a CSV file for a spreadsheet (UTF-8 with a byte-order mark so Excel reads the
Chinese): one line per figure, then the cadres who never came when the reader may see their names. The
figures are gis/workday_report.py's; text from people is never read as a formula (the ledger's rule,
gis/ledger/scope.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from gis.i18n import language_key
from gis.ledger.scope import _FORMULA_STARTS

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

FIGURES: tuple[tuple[str, str, str], ...] = (
    ("sessions_scheduled", "安排场次", "Sessions scheduled"),
    ("sessions_held", "开展场次", "Sessions held"),
    ("attendances", "参加人次", "Attendances"),
    ("cadre_attendances", "干部参加人次", "Cadre attendances"),
    ("households_visited", "走访户数", "Households visited"),
    ("problems_raised", "收集问题", "Problems raised"),
    ("problems_solved", "已解决", "Problems solved"),
    ("problems_open", "尚未办结", "Problems still open"),
    ("evaluated", "已评价", "Evaluated"),
    ("satisfied", "满意（含基本满意）", "Satisfied (incl. basically)"),
    ("satisfaction", "满意率", "Satisfaction"),
)
"""The report's figures in the file's order: key, Chinese and English label."""

CADRE_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("cadres_scheduled", "安排干部人数", "Cadres scheduled"),
    ("came_regularly", "参加三次及以上", "Came three times or more"),
    ("regular_share", "参加三次及以上占比", "Share who came three times or more"),
    ("never_came", "从未参加", "Never came"),
    ("never_share", "从未参加占比", "Share who never came"),
)

_HEAD = {"zh-CN": ("项目", "数值", "从未参加的干部", "职务", "社区工作日报表", "期间"),
         "en": ("Figure", "Value", "Cadres who never came", "Title", "Work-day report", "Period")}


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text


def report_csv(report: Mapping[str, Any], lang: str | None = "zh-CN") -> bytes:
    """The report (gis/store/workday_report.py's answer) as CSV in `lang`."""
    key = language_key(lang)
    head = _HEAD[key]
    pick = 1 if key == "zh-CN" else 2
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([head[4], f"{head[5]} {report['from']} … {report['counted_to']}"])
    writer.writerow(head[:2])
    for figure in FIGURES:
        writer.writerow([figure[pick], _text(report[figure[0]])])
    for figure in CADRE_FIGURES:
        writer.writerow([figure[pick], _text(report["cadres"][figure[0]])])
    if "never" in report["cadres"]:
        writer.writerow([])
        writer.writerow([head[2], head[3]])
        for cadre in report["cadres"]["never"]:
            writer.writerow([_text(cadre["name"]), _text(cadre["title"])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
