"""Writing the ledger: CSV (UTF-8 with a byte-order mark) and the Excel workbook (ledger and 汇总 sheets)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gis.workflow import (
    label,
)

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet


from gis.ledger.columns import COLUMNS, Case, Column, format_rows, headers, local_time
from gis.ledger.scope import _FORMULA_STARTS, EXCEL_TIME_FORMAT, TIME_FORMAT, LedgerMeta, _t
from gis.ledger.summary import RATES, Summary, Tally, _rate, summarise

# -- CSV ------------------------------------------------------------------------------------------


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text


def build_csv(cases: Iterable[Case], lang: str = "zh-CN") -> bytes:
    """Header and one line per case, UTF-8 with a byte-order mark so Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers(lang))
    for row in format_rows(cases, lang):
        writer.writerow([_csv_text(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# -- workbook -------------------------------------------------------------------------------------

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_CENTRE_WRAP = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TOP_WRAP = Alignment(vertical="top", wrap_text=True)
_PERCENT = "0.0%"


def _cell(ws: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text from people is never run as a formula
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _data_cell(ws: WriteOnlyWorksheet, column: Column, value: Any) -> Any:
    if column.is_time and value is not None:
        return _cell(ws, value, number_format=EXCEL_TIME_FORMAT)
    if column.wrap and value:
        return _cell(ws, value, alignment=_TOP_WRAP)
    if isinstance(value, str) and value.startswith("="):
        return _cell(ws, value)
    return value


def _setup_page(ws: WriteOnlyWorksheet, *, landscape: bool) -> None:
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def _ledger_sheet(wb: Workbook, rows: list[list[Any]], meta: LedgerMeta) -> None:
    ws = wb.create_sheet(_t(meta.lang, "台账", "Ledger"))
    last = get_column_letter(len(COLUMNS))
    for index, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "C3"
    ws.print_title_rows = "1:2"
    ws.auto_filter.ref = f"A2:{last}{len(rows) + 2}"
    ws.merged_cells.add(f"A1:{last}1")
    _setup_page(ws, landscape=True)
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[2].height = 30
    ws.append([_cell(ws, meta.title(), font=_TITLE_FONT, alignment=Alignment(horizontal="center"))])
    ws.append([_cell(ws, text, font=_BOLD, fill=_HEADER_FILL, alignment=_CENTRE_WRAP, border=_BORDER)
               for text in headers(meta.lang)])
    for row in rows:
        ws.append([_data_cell(ws, column, value) for column, value in zip(COLUMNS, row, strict=True)])


def _summary_sheet(wb: Workbook, summary: Summary, meta: LedgerMeta) -> None:
    lang = meta.lang
    ws = wb.create_sheet(_t(lang, "汇总", "Summary"))
    for letter, width in zip("ABCDEFG", (22, 22, 12, 12, 12, 12, 12), strict=True):
        ws.column_dimensions[letter].width = width
    ws.merged_cells.add("A1:G1")
    _setup_page(ws, landscape=False)
    start, end = meta.period.bounds()
    exported = local_time(meta.exported_at)
    note = _t(lang, f"口径：上报时间在 {start:%Y-%m-%d %H:%M} 至 {end:%Y-%m-%d %H:%M}（不含）之间的诉求；"
                    f"超期按导出时间 {exported:%Y-%m-%d %H:%M} 判断。",
              f"Cases reported from {start:%Y-%m-%d %H:%M} up to (not including) {end:%Y-%m-%d %H:%M}, "
              f"Asia/Shanghai; overdue as of the export at {exported:%Y-%m-%d %H:%M}.")
    ws.append([_cell(ws, meta.title(), font=_TITLE_FONT)])
    ws.append([note])
    blocks = (
        _totals_block(summary, lang),
        _status_block(summary, lang),
        _group_block(summary.by_category, lang, _t(lang, "大类", "Group"), _t(lang, "小类", "Category")),
        _group_block(summary.by_grid, lang, _t(lang, "网格编码", "Grid code"), _t(lang, "网格", "Grid")),
    )
    for block in blocks:
        ws.append([])
        heading, *body = block
        ws.append([_cell(ws, text, font=_BOLD, fill=_HEADER_FILL, border=_BORDER) for text in heading])
        for values in body:
            ws.append([_cell(ws, value, number_format=_PERCENT) if isinstance(value, float) else value
                       for value in values])


def _totals_block(s: Summary, lang: str) -> list[list[Any]]:
    def row(zh: str, en: str, value: Any, how_zh: str = "", how_en: str = "") -> list[Any]:
        return [_t(lang, zh, en), value, _t(lang, how_zh, how_en) or None]

    def rate(key: str) -> list[Any]:
        spec = RATES[key]
        return row(spec.zh, spec.en, s.rate(key), spec.how_zh, spec.how_en)

    return [
        [_t(lang, "指标", "Measure"), _t(lang, "数值", "Value"), _t(lang, "说明", "How it is counted")],
        row("诉求总数", "Cases", s.total, "本期上报的全部诉求", "all cases reported in the period"),
        row("不予立案", "Declined", s.declined),
        row("待立案", "Awaiting filing", s.awaiting_filing),
        row("已立案（应结案）", "Filed (due to close)", s.filed, "总数 − 不予立案 − 待立案",
            "cases − declined − awaiting filing"),
        row("在办", "In progress", s.in_progress, "已立案未结案", "filed and not closed"),
        row("已结案", "Closed", s.closed, "结案及已评价", "closed or evaluated"),
        row("已解决", "Solved", s.solved, "结案且结果为解决", "closed as solved"),
        row("解释说明", "Explained, not solvable now", s.explained, "结案且已向居民说明原因和预计时间，不计为解决",
            "closed with the resident told why and when; not counted as solved"),
        row("合并办理", "Merged as duplicates", s.merged, "重复诉求并入另一案件，不计为应结案",
            "duplicates merged into another case; not due to close"),
        rate("filed_closure_rate"),
        row("按期结案", "Closed on time", s.closed_on_time, "结案时间不晚于处置时限",
            "closed by the deadline"),
        rate("filed_on_time_rate"),
        row("超期", "Overdue", s.overdue, "在办超过时限，或超时限结案",
            "open past the deadline, or closed after it"),
        row("已处置", "Handled", s.handled, "有处置完成时间", "with a handled time"),
        row("返工案件", "Reworked", s.reworked, "返工次数 ≥ 1", "rework count ≥ 1"),
        rate("rework_rate"),
        row("已评价", "Rated", s.rated),
        row("满意", "Satisfied", s.satisfied, "满意及基本满意", "satisfied or basically satisfied"),
        rate("satisfaction"),
    ]


def _status_block(s: Summary, lang: str) -> list[list[Any]]:
    rows: list[list[Any]] = [[_t(lang, "状态", "Status"), _t(lang, "数量", "Cases")]]
    rows += [[label(status, lang), count] for status, count in s.by_status.items()]
    rows.append([_t(lang, "合计", "Total"), sum(s.by_status.values())])
    return rows


def _group_block(
    groups: Mapping[tuple[str, str], Tally], lang: str, first: str, second: str
) -> list[list[Any]]:
    rows: list[list[Any]] = [[first, second, _t(lang, "数量", "Cases"), _t(lang, "已立案", "Filed"),
                              _t(lang, "已结案", "Closed"), _t(lang, "超期", "Overdue"),
                              _t(lang, RATES["filed_closure_rate"].zh, RATES["filed_closure_rate"].en)]]
    for (key, name), tally in groups.items():
        rows.append([key or None, name, tally.cases, tally.filed, tally.closed, tally.overdue,
                     _rate(tally.closed, tally.filed)])
    total = Tally(*(sum(getattr(t, name) for t in groups.values())
                    for name in ("cases", "filed", "closed", "overdue")))
    rows.append([_t(lang, "合计", "Total"), None, total.cases, total.filed, total.closed, total.overdue,
                 _rate(total.closed, total.filed)])
    return rows


def build_workbook(cases: Sequence[Case], meta: LedgerMeta) -> bytes:
    """The ledger sheet (title, frozen bold header, one row per case) and the 汇总 summary sheet."""
    wb = Workbook(write_only=True)
    _ledger_sheet(wb, format_rows(cases, meta.lang), meta)
    _summary_sheet(wb, summarise(cases, meta.lang), meta)
    wb.properties.title = meta.title()
    wb.properties.creator = "gridmap"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
