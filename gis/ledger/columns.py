"""The ledger's columns: headers in Chinese and English, widths, and how a case dict fills each cell."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from gis.workcalendar import SHANGHAI
from gis.workflow import (
    CaseStatus,
    Satisfaction,
    Source,
    label,
    parse_enum,
)

if TYPE_CHECKING:
    pass


from gis.ledger.scope import _t

Case = Mapping[str, Any]


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
