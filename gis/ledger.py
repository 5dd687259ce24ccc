"""The case ledger (诉求台账): the cases of one grid, community or street reported in a period, as a
community office files them — an Excel workbook (ledger sheet and 汇总 summary) or a CSV.

Pure: no database, no web framework. `gis/store/ledger.py` supplies one dict per case; this module
checks the request (scope, period, language, who may read it), turns each case into a row under
Chinese (or English) headers, computes the summary from those same cases, and writes the bytes.

Choices a reader of the file should know:
- The period is local (Asia/Shanghai) dates, `from` inclusive and `to` exclusive, on the report time.
- Times are written as Excel datetimes in Asia/Shanghai local time without a time zone.
- Overdue is judged at export time: open past the deadline, or closed after it (as `GET /api/cases`).
- Every figure counts the cases reported in the period (a cohort), so its closure figures are shares of the
  cases *filed* (立案: not declined, past the filing decision): 立案办结率 = closed / filed and
  立案按期办结率 = closed by the deadline / filed. They are named apart from the wall's 结案率 and 按期结案率
  (`gis.metrics`: closed / due to close in the period), which count another set of cases; `RATES` below
  says what each ledger rate divides, and a test holds every label the two share to the same formula.
  Rework rate = cases reworked / cases handled; satisfaction = satisfied or basically satisfied / rated.
- Text a spreadsheet would run as a formula is kept as text: a string cell in the workbook, and a
  leading apostrophe in the CSV before = + - @ (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gis.codes import parse_community_code, parse_grid_code, parse_street_code
from gis.errors import InvalidInput
from gis.periods import Period, period_between
from gis.permissions import READ_ALL, Actor, Forbidden
from gis.workcalendar import SHANGHAI
from gis.workflow import (
    CaseStatus,
    Satisfaction,
    Source,
    counts_as_open_case,
    is_closed,
    is_declined,
    label,
    parse_enum,
)

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Case = Mapping[str, Any]
MAX_PERIOD_DAYS = 366
TIME_FORMAT = "%Y-%m-%d %H:%M"
EXCEL_TIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


# -- scope and who may read it --------------------------------------------------------------------


class ScopeLevel(StrEnum):
    """The place a ledger covers; its code is matched against the case's column of the same name."""

    grid = "grid"
    community = "community"
    street = "street"


_CODE_PARSERS: Mapping[ScopeLevel, Callable[[object], object]] = {
    ScopeLevel.grid: parse_grid_code,
    ScopeLevel.community: parse_community_code,
    ScopeLevel.street: parse_street_code,
}


@dataclass(frozen=True)
class LedgerScope:
    level: ScopeLevel
    code: str

    @property
    def column(self) -> str:
        """The service_case column the scope filters on (grid_code, community_code, street_code)."""
        return f"{self.level.value}_code"


def parse_scope(*, grid: str | None, community: str | None, street: str | None) -> LedgerScope:
    """Exactly one of grid, community or street, with a well-formed code (the error names the rule)."""
    given = {level: code for level, code in zip(ScopeLevel, (grid, community, street), strict=True) if code}
    if len(given) != 1:
        got = ", ".join(given) if given else "none"
        raise InvalidInput(f"give exactly one scope: grid, community or street (got {got})",
                           details={"given": [str(level) for level in given]})
    level, code = next(iter(given.items()))
    _CODE_PARSERS[level](code)
    return LedgerScope(level, code)


EXPORTERS = READ_ALL | {"street_officer", "grid_worker"}


def can_read_scope(actor: Actor, scope: LedgerScope) -> bool:
    """Admin, command centre and planner: anything. A street officer: their street and the communities
    and grids in it (codes nest by prefix, checked at import). A grid worker: their own grid only."""
    if actor.role in READ_ALL:
        return True
    if actor.role == "street_officer":
        return bool(actor.street_code) and scope.code.startswith(actor.street_code or "-")
    if actor.role == "grid_worker":
        return scope.level is ScopeLevel.grid and scope.code == actor.grid_code
    return False


def check_may_export(actor: Actor) -> None:
    """Roles that never export ledgers (Open311 clients) are refused before anything else is checked."""
    if actor.role not in EXPORTERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not export ledgers")


def check_read_scope(actor: Actor, scope: LedgerScope) -> None:
    check_may_export(actor)
    if not can_read_scope(actor, scope):
        raise Forbidden(f"{actor.role} {actor.username!r} may not read the ledger of "
                        f"{scope.level} {scope.code}")


# -- period ---------------------------------------------------------------------------------------


def ledger_period(start: date, end: date) -> Period:
    """`to` after `from`, and at most MAX_PERIOD_DAYS days apart (the one `Period` of gis.periods)."""
    return period_between(start, end, max_days=MAX_PERIOD_DAYS)


# -- what the file says about itself --------------------------------------------------------------


@dataclass(frozen=True)
class PlaceNames:
    """The names above and including the scope, for the title (None below the scope's level)."""

    district: str | None
    street: str | None
    community: str | None = None
    grid: str | None = None

    def path(self) -> str:
        return " ".join(name for name in (self.district, self.street, self.community, self.grid) if name)


@dataclass(frozen=True)
class LedgerMeta:
    scope: LedgerScope
    places: PlaceNames
    period: Period
    exported_at: datetime
    lang: str = "zh-CN"

    def title(self) -> str:
        what = _t(self.lang, "诉求台账", "case ledger")
        return f"{self.places.path()} {what} {self.period.describe(self.lang)}"

    def filename(self, extension: str) -> str:
        """台账_500103001001_2026-01.xlsx (ledger_… in English)."""
        return f"{_t(self.lang, '台账', 'ledger')}_{self.scope.code}_{self.period.slug()}.{extension}"

    def ascii_filename(self, extension: str) -> str:
        """The fallback for clients that ignore RFC 5987 `filename*`."""
        return f"ledger_{self.scope.code}_{self.period.slug()}.{extension}"


# -- columns --------------------------------------------------------------------------------------


def local_time(value: datetime | None) -> datetime | None:
    """An aware timestamp as naive Asia/Shanghai wall-clock time to the second (what Excel can hold)."""
    if value is None:
        return None
    return value.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def _field(name: str) -> Callable[[Case, str], Any]:
    return lambda case, lang: case.get(name)


def _time(name: str) -> Callable[[Case, str], Any]:
    return lambda case, lang: local_time(case.get(name))


def _labelled(kind: type[StrEnum], name: str) -> Callable[[Case, str], Any]:
    def value(case: Case, lang: str) -> str | None:
        raw = case.get(name)
        return label(parse_enum(kind, raw, name), lang) if raw else None
    return value


def _category(case: Case, lang: str) -> str:
    return case["category_en"] if lang == "en" else case["category_zh"]


def _grid_name(case: Case, lang: str) -> str:
    if not case.get("grid_code"):
        return _t(lang, "未划入网格", "Outside every grid")
    return case.get("grid_name") or ""


def _yes_no(name: str) -> Callable[[Case, str], str]:
    return lambda case, lang: _t(lang, "是", "Yes") if case.get(name) else _t(lang, "否", "No")


@dataclass(frozen=True)
class Column:
    """One ledger column: its key, headers, width in characters, and how a case dict fills it.
    `value` None is the running number (序号); `is_time` cells get a date-time format."""

    key: str
    zh: str
    en: str
    width: float
    value: Callable[[Case, str], Any] | None
    is_time: bool = False
    wrap: bool = False

    def header(self, lang: str) -> str:
        return _t(lang, self.zh, self.en)


def _time_column(key: str, zh: str, en: str) -> Column:
    return Column(key, zh, en, 17, _time(key), is_time=True)


COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", "No.", 6, None),
    Column("id", "案件编号", "Case no.", 10, _field("id")),
    _time_column("reported_at", "上报时间", "Reported at"),
    Column("source", "来源", "Source", 14, _labelled(Source, "source")),
    Column("category_group", "大类", "Category group", 10, _field("category_group")),
    Column("category", "小类", "Category", 16, _category),
    Column("description", "诉求内容", "Description", 40, _field("description"), wrap=True),
    Column("address", "地址", "Address", 24, _field("address"), wrap=True),
    Column("reporter_name", "诉求人", "Reporter", 10, _field("reporter_name")),
    Column("reporter_contact", "联系方式", "Reporter contact", 15, _field("reporter_contact")),
    Column("street_name", "街道", "Street", 12, _field("street_name")),
    Column("community_name", "社区", "Community", 12, _field("community_name")),
    Column("grid_code", "网格编码", "Grid code", 17, _field("grid_code")),
    Column("grid_name", "网格", "Grid", 12, _grid_name),
    Column("branch_name", "网格党支部", "Party branch", 16, _field("branch_name")),
    Column("team_name", "服务团队", "Service team", 16, _field("team_name")),
    Column("department", "处置部门", "Handling department", 16, _field("department")),
    Column("first_contact", "首问责任人", "First-contact owner", 12, _field("first_contact_name")),
    Column("status", "状态", "Status", 10, _labelled(CaseStatus, "status")),
    _time_column("filed_at", "立案时间", "Filed at"),
    _time_column("declined_at", "不予立案时间", "Declined at"),
    Column("decline_reason", "不予立案原因", "Decline reason", 20, _field("decline_reason"), wrap=True),
    _time_column("dispatched_at", "派遣时间", "Dispatched at"),
    _time_column("first_action_at", "首次响应时间", "First action at"),
    _time_column("accepted_at", "签收时间", "Accepted at"),
    _time_column("handled_at", "处置完成时间", "Handled at"),
    _time_column("closed_at", "结案时间", "Closed at"),
    _time_column("reworked_at", "返工时间", "Reworked at"),
    _time_column("evaluated_at", "评价时间", "Evaluated at"),
    _time_column("deadline", "处置时限", "Deadline"),
    Column("overdue", "是否超期", "Overdue", 9, _yes_no("overdue")),
    _time_column("supervised_at", "督办时间", "Supervised at"),
    _time_column("escalated_at", "升级督办时间", "Escalated at"),
    Column("rework_count", "返工次数", "Rework count", 9, _field("rework_count")),
    Column("satisfaction", "满意度", "Satisfaction", 10, _labelled(Satisfaction, "satisfaction")),
    Column("latest_note", "最新进展", "Latest note", 30, _field("latest_note"), wrap=True),
    _time_column("latest_note_at", "最新进展时间", "Latest note at"),
)


def headers(lang: str = "zh-CN") -> list[str]:
    return [column.header(lang) for column in COLUMNS]


def format_row(case: Case, seq: int, lang: str = "zh-CN") -> list[Any]:
    """One case as cell values: labels in `lang`, times as naive local datetimes, None for empty."""
    return [seq if column.value is None else column.value(case, lang) for column in COLUMNS]


def format_rows(cases: Iterable[Case], lang: str = "zh-CN") -> list[list[Any]]:
    return [format_row(case, seq, lang) for seq, case in enumerate(cases, start=1)]


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
        self.closed += is_closed(status)
        self.overdue += bool(case.get("overdue"))


def _is_filed(status: CaseStatus) -> bool:
    """Past the filing decision and not declined: the cases due to close (应结案)."""
    return status is not CaseStatus.reported and not is_declined(status)


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
    "filed_closure_rate": RateLabel("立案办结率", "Filed cases closed", "closed", "filed",
                                    "已结案 / 已立案（本期上报；大屏“结案率”为已结案 / 期内应结案）",
                                    "closed / filed, of the cases reported (the wall's closure rate "
                                    "divides by the cases due in the period)"),
    "filed_on_time_rate": RateLabel("立案按期办结率", "Filed cases closed on time", "closed_on_time", "filed",
                                    "按期结案 / 已立案", "closed on time / filed"),
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
    closed = [case for case, status in zip(cases, statuses, strict=True) if is_closed(status)]
    declined = sum(is_declined(status) for status in statuses)
    return Summary(
        total=len(cases),
        declined=declined,
        awaiting_filing=by_status[CaseStatus.reported],
        filed=sum(_is_filed(status) for status in statuses),
        in_progress=sum(counts_as_open_case(status) for status in statuses),
        closed=len(closed),
        closed_on_time=sum(not case.get("overdue") for case in closed),
        overdue=sum(bool(case.get("overdue")) for case in cases),
        handled=sum(case.get("handled_at") is not None for case in cases),
        reworked=sum((case.get("rework_count") or 0) > 0 for case in cases),
        rated=sum(case.get("satisfaction") is not None for case in cases),
        satisfied=sum(case.get("satisfaction") in _SATISFIED for case in cases),
        by_status={status: by_status[status] for status in CaseStatus},
        by_category=dict(sorted(by_category.items())),
        by_grid=dict(sorted(by_grid.items())),
    )


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
