"""Categories and the work calendar as the database holds them (editable there, seeded from files)."""

from __future__ import annotations

from sqlalchemy import RowMapping, text
from sqlalchemy.orm import Session

from gis.categories import Category, CategoryKind, HandlingRule
from gis.errors import InvalidInput
from gis.workcalendar import LimitUnit, TimeLimit, WorkCalendar

_CATEGORY_SELECT = ("SELECT code, name_zh, name_en, kind, group_zh, limit_value, limit_unit, handling_rule, "
                    "emergency FROM case_category WHERE active")


def load_category(session: Session, code: str) -> Category:
    """The active category `code`, or InvalidInput naming it and a few allowed codes."""
    row = session.execute(text(f"{_CATEGORY_SELECT} AND code = :code"), {"code": code}).mappings().first()
    if row is None:
        known = session.execute(text("SELECT code FROM case_category WHERE active ORDER BY code")).scalars().all()
        raise InvalidInput(
            f"unknown category {code!r}; allowed: {', '.join(known[:12])}{' …' if len(known) > 12 else ''}",
            details={"allowed": list(known)},
        )
    return _category(row)


def all_categories(session: Session) -> list[Category]:
    rows = session.execute(text(f"{_CATEGORY_SELECT} ORDER BY kind, group_zh, code")).mappings().all()
    return [_category(r) for r in rows]


def _category(row: RowMapping) -> Category:
    value = row["limit_value"] if row["limit_unit"] != "working_days" else int(row["limit_value"])
    return Category(
        code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"], kind=CategoryKind(row["kind"]),
        group_zh=row["group_zh"], limit=TimeLimit(value, LimitUnit(row["limit_unit"])),
        handling_rule=HandlingRule(row["handling_rule"]), emergency=row["emergency"],
    )


def load_calendar(session: Session) -> WorkCalendar:
    """The work calendar with the holidays and make-up working days configured in `calendar_day`."""
    rows = session.execute(text("SELECT day, kind FROM calendar_day")).mappings().all()
    years = {r["day"].year for r in rows}
    return WorkCalendar(
        holidays=[r["day"] for r in rows if r["kind"] == "holiday"],
        makeup_workdays=[r["day"] for r in rows if r["kind"] == "workday"],
        covered_years=years or None,
    )
