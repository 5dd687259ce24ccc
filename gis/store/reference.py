"""Categories and the work calendar as the database holds them (editable there, seeded from files)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.categories import Category, CategoryKind, HandlingRule
from gis.errors import InvalidInput
from gis.workcalendar import LimitUnit, TimeLimit, WorkCalendar


def load_category(session: Session, code: str) -> Category:
    """The active category `code`, or InvalidInput naming it and a few allowed codes."""
    row = session.execute(text(
        "SELECT code, name_zh, name_en, kind, group_zh, limit_value, limit_unit, handling_rule, emergency "
        "FROM case_category WHERE code = :code AND active"
    ), {"code": code}).first()
    if row is None:
        known = session.execute(text("SELECT code FROM case_category WHERE active ORDER BY code")).scalars().all()
        raise InvalidInput(
            f"unknown category {code!r}; allowed: {', '.join(known[:12])}{' …' if len(known) > 12 else ''}",
            details={"allowed": list(known)},
        )
    return _category(row)


def all_categories(session: Session) -> list[Category]:
    rows = session.execute(text(
        "SELECT code, name_zh, name_en, kind, group_zh, limit_value, limit_unit, handling_rule, emergency "
        "FROM case_category WHERE active ORDER BY kind, group_zh, code"
    )).all()
    return [_category(r) for r in rows]


def _category(row) -> Category:  # noqa: ANN001
    value = row[5] if row[6] != "working_days" else int(row[5])
    return Category(
        code=row[0], name_zh=row[1], name_en=row[2], kind=CategoryKind(row[3]), group_zh=row[4],
        limit=TimeLimit(value, LimitUnit(row[6])), handling_rule=HandlingRule(row[7]), emergency=row[8],
    )


def load_calendar(session: Session) -> WorkCalendar:
    """The work calendar with the holidays and make-up working days configured in `calendar_day`."""
    rows = session.execute(text("SELECT day, kind FROM calendar_day")).all()
    years = {r[0].year for r in rows}
    return WorkCalendar(
        holidays=[r[0] for r in rows if r[1] == "holiday"],
        makeup_workdays=[r[0] for r in rows if r[1] == "workday"],
        covered_years=years or None,
    )
