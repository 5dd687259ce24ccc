"""The 双公开 report as an Excel workbook, A4 portrait: one sheet with the case figures, commitments,
evaluation scores and party strength of a report from gis/store/open_report.py. The words come from the
caller (the message catalogue's `open_report` section), so this module holds no UI text; a text cell that
a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CASE_FIGURES = ("received", "filed", "solved", "explained", "in_progress", "closure_rate", "satisfaction")
"""The case figures shown, in order (the keys of the report's `cases`)."""
RATE_FIGURES = frozenset({"closure_rate", "satisfaction"})

_TITLE = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(vertical="top", wrap_text=True)


def _put(ws: Worksheet, row: int, values: list[Any], *, header: bool = False) -> None:
    for column, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula
        cell.alignment = _WRAP
        if header:
            cell.font, cell.fill = _BOLD, _FILL


def case_rows(report: Mapping[str, Any], words: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) of each case figure; a figure the ledger does not have is left out."""
    cases = report["cases"]
    return [(words[f"figure_{key}"], cases[key]) for key in CASE_FIGURES if cases.get(key) is not None
            or key in RATE_FIGURES]


def holder_text(item: Mapping[str, Any], words: Mapping[str, Any]) -> str:
    """A branch or team by its name; a member as "党员 · <their branch>" (never their own name)."""
    kind = words[f"holder_{item['holder_kind']}"]
    if item["holder_kind"] == "member":
        return f"{kind} · {item['holder_label'] or ''}".strip(" ·")
    return item["holder_label"] or kind


def build_workbook(report: Mapping[str, Any], words: Mapping[str, Any]) -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = words["sheet"]
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    for letter, width in zip("ABCDE", (34, 22, 14, 12, 20), strict=True):
        ws.column_dimensions[letter].width = width
    row = 1
    ws.cell(row=row, column=1, value=f"{report['scope']['path']} {words['title']}").font = _TITLE
    row += 1
    period = report["period"]
    _put(ws, row, [f"{words['half']} {report['half']} ({period['first_day']} – {period['last_day']})"])
    row += 2
    _put(ws, row, [words["section_cases"], ""], header=True)
    for label, value in case_rows(report, words):
        row += 1
        _put(ws, row, [label, value])
        if isinstance(value, float):
            ws.cell(row=row, column=2).number_format = "0.0%"
    row += 2
    _put(ws, row, [words["section_commitments"], words["holder"], words["due"], words["status"]], header=True)
    for item in report["commitments"]["items"]:
        row += 1
        holder = holder_text(item, words)
        _put(ws, row, [item["title"], holder, item["due"], words[f"status_{item['status']}"]])
    row += 1
    _put(ws, row, ["; ".join(f"{words['status_' + k]} {v}" for k, v in report["commitments"]["by_status"].items())])
    row += 2
    _put(ws, row, [words["section_evaluations"], words["subject"], words["code"], words["score"]], header=True)
    for item in report["evaluations"]:
        row += 1
        _put(ws, row, [str(item["year"]), words[f"subject_{item['subject']}"], item["code"], item["score"]])
    row += 2
    _put(ws, row, [words["section_party"], words["members"], words["seconded"], words["grade"],
                   words["paired"]], header=True)
    for branch in report["party"]["branches"]:
        row += 1
        _put(ws, row, [branch["name"], branch["members"], words["yes"] if branch["needs_seconded_branch"] else "",
                       words[f"grade_{branch['grade']}"] if branch["grade"] else "", "、".join(branch["pairings"])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
