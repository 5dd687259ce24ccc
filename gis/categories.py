"""Case categories as data: what a case is about, how long it may take, and who answers first.

The list lives in `gis/data/categories.csv` (columns below) so it can be reviewed and changed
without touching code; the store seeds its table from `load_categories()`. DOMAIN.md "Cases":
urban-management events go to the locality first, components (public facilities) to their owner
first, livelihood requests to the grid's team. Limits count working time on the work calendar, except
emergencies, which count clock hours 24×7.

Columns: code, name_zh, name_en, kind (urban_event | component | livelihood), group_zh (one of
`GROUPS[kind]`), limit_value, limit_unit (clock_hours | working_hours | working_days),
handling_rule (locality_first | owner_first | grid_team), emergency (true | false).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from gis.errors import InvalidInput
from gis.i18n import is_english
from gis.workcalendar import LimitUnit, TimeLimit, WorkCalendar

__all__ = [
    "COLUMNS",
    "DEFAULT_HANDLING_RULE",
    "GROUPS",
    "Category",
    "CategoryKind",
    "HandlingRule",
    "load_categories",
    "parse_categories",
]


class CategoryKind(StrEnum):
    """The three families of cases, each with its own groups and default handling rule."""

    urban_event = "urban_event"  # 事件
    component = "component"  # 部件
    livelihood = "livelihood"  # 民生诉求


class HandlingRule(StrEnum):
    """Who is asked first when the case is dispatched."""

    locality_first = "locality_first"  # 属地优先: the street/community where it happened
    owner_first = "owner_first"  # 权属优先: the department or company that owns the component
    grid_team = "grid_team"  # the grid's service team


GROUPS: Mapping[CategoryKind, tuple[str, ...]] = MappingProxyType({
    CategoryKind.urban_event: ("市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "其他"),
    CategoryKind.component: ("公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地"),
    CategoryKind.livelihood: ("矛盾纠纷", "帮扶", "咨询", "投诉"),
})
"""The groups (大类) allowed for each kind, as DOMAIN.md lists them."""

DEFAULT_HANDLING_RULE: Mapping[CategoryKind, HandlingRule] = MappingProxyType({
    CategoryKind.urban_event: HandlingRule.locality_first,
    CategoryKind.component: HandlingRule.owner_first,
    CategoryKind.livelihood: HandlingRule.grid_team,
})
"""The usual rule per kind; a row may differ (it is data), the shipped file does not."""

COLUMNS: tuple[str, ...] = (
    "code", "name_zh", "name_en", "kind", "group_zh",
    "limit_value", "limit_unit", "handling_rule", "emergency",
)

_CODE = re.compile(r"[a-z][a-z0-9_]*")
"""Codes are stable identifiers (stored on cases, used in URLs): lower-case, starting with a letter."""
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class Category:
    """One case category (事件/部件/诉求 小类) with its time limit and handling rule."""

    code: str
    name_zh: str
    name_en: str
    kind: CategoryKind
    group_zh: str
    limit: TimeLimit
    handling_rule: HandlingRule
    emergency: bool

    def name(self, language: str = "zh-CN") -> str:
        """The display name; anything starting with "en" gets English, everything else Chinese."""
        return self.name_en if is_english(language) else self.name_zh

    def deadline(self, dispatched_at: datetime, calendar: WorkCalendar) -> datetime:
        """When a case of this category is due, counted from dispatch on `calendar`."""
        return calendar.add_working_time(dispatched_at, self.limit)

    def as_row(self) -> dict[str, object]:
        """The category as a flat row with the CSV's column names, for seeding a table."""
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "kind": self.kind.value,
            "group_zh": self.group_zh,
            "limit_value": self.limit.value,
            "limit_unit": self.limit.unit.value,
            "handling_rule": self.handling_rule.value,
            "emergency": self.emergency,
        }


def load_categories(path: str | Path | None = None) -> dict[str, Category]:
    """Categories by code, from `path` or by default the shipped `gis/data/categories.csv`."""
    if path is None:
        text = (resources.files("gis") / "data" / "categories.csv").read_text(encoding="utf-8")
        return parse_categories(text, "gis/data/categories.csv")
    return parse_categories(Path(path).read_text(encoding="utf-8"), str(path))


def parse_categories(text: str, source: str = "categories.csv") -> dict[str, Category]:
    """Parse and check categories CSV text; every problem is reported at once, each naming its line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        raise InvalidInput(f"{source}: missing column(s) {', '.join(missing)}")
    categories: dict[str, Category] = {}
    problems: list[str] = []
    for line, row in enumerate(reader, start=2):
        where = f"line {line}" + (f" ({row['code']})" if row.get("code") else "")
        try:
            category = _parse_row(row)
        except InvalidInput as error:
            problems.append(f"{where}: {error.message}")
            continue
        if category.code in categories:
            problems.append(f"{where}: code {category.code!r} is used twice")
        categories[category.code] = category
    if problems:
        raise InvalidInput(
            f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems),
            details={"source": source, "problems": problems},
        )
    if not categories:
        raise InvalidInput(f"{source}: no categories")
    return categories


def _parse_row(row: Mapping[str, str | None]) -> Category:
    """One row → Category, or InvalidInput naming the column and the allowed values."""
    value = {column: (row.get(column) or "").strip() for column in COLUMNS}
    if not _CODE.fullmatch(value["code"]):
        raise InvalidInput(f"code {value['code']!r} must be lower-case ASCII letters, digits and _")
    for column in ("name_zh", "name_en"):
        if not value[column]:
            raise InvalidInput(f"{column} is empty")
    kind = _choice(CategoryKind, value["kind"], "kind")
    if value["group_zh"] not in GROUPS[kind]:
        allowed = ", ".join(GROUPS[kind])
        raise InvalidInput(f"group_zh {value['group_zh']!r} is not a {kind} group; allowed: {allowed}")
    unit = _choice(LimitUnit, value["limit_unit"], "limit_unit")
    limit = TimeLimit(_number(value["limit_value"]), unit)
    rule = _choice(HandlingRule, value["handling_rule"], "handling_rule")
    emergency = _BOOLEANS.get(value["emergency"].lower())
    if emergency is None:
        raise InvalidInput(f"emergency {value['emergency']!r} must be true or false")
    if emergency and unit is not LimitUnit.clock_hours:
        raise InvalidInput(f"an emergency counts clock_hours (24×7), not {unit}")
    return Category(
        value["code"], value["name_zh"], value["name_en"], kind, value["group_zh"], limit, rule, emergency
    )


E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], raw: str, column: str) -> E:
    """`raw` as a member of `kind`, or InvalidInput naming the column and the allowed values."""
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(f"{column} {raw!r} unknown; allowed: {', '.join(m.value for m in kind)}") from None


def _number(raw: str) -> int | float:
    """An integer when the text is one ("4"), else a float ("0.5"); InvalidInput otherwise."""
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"limit_value {raw!r} is not a number") from None
