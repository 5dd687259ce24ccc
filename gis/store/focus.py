"""Focus households (关爱对象) in the database: the rules of gis/focus.py as SQL, one household as the API
shows it, and the writes — register, change, end, pair, unpair, record a visit. Lists and counts per grid are
gis/store/focus_reads.py.

A visit to a focus household is a row of the one `visit` table (households_reached 1, `focus_household_id`
set), so it also counts for its building on the wall's `unvisited_share`. Who may do what is
gis/permissions.py (`check_keep_focus`, `check_record_visit`); every write checks the household's building
against the caller's area.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.errors import Conflict, InvalidInput, NotFound
from gis.focus import (
    DEFAULT_CYCLE_DAYS,
    FocusState,
    check_cycle,
    cycle_of,
    days_overdue,
    is_gap,
    is_paired,
    next_visit_due,
    on_register,
    parse_category,
)
from gis.periods import check_day, district_today
from gis.permissions import Actor, check_keep_focus
from gis.store.models import FocusHousehold, Visit
from gis.store.visits import CLOCK_SKEW, MAX_BACKDATE
from gis.store.vocabulary import current_sql
from gis.store.workdays import building_of

TIMEZONE = "Asia/Shanghai"
"""The district's clock (gis/periods.py): a visit's day is its local date."""

# -- the rules as SQL (held equal to gis/focus.py by tests/api/test_focus.py) ------------------------------


def cycle_sql(alias: str = "f") -> str:
    """The household's visit cycle in days: its own, else its category's (`DEFAULT_CYCLE_DAYS`)."""
    cases = " ".join(f"WHEN '{category.value}' THEN {days}" for category, days in DEFAULT_CYCLE_DAYS.items())
    return f"coalesce({alias}.cycle_days, CASE {alias}.category {cases} END)"


def last_visit_sql(alias: str = "f", at: str | None = None) -> str:
    """The local day of the household's last visit (up to the moment `at`, if given), or NULL."""
    until = f" AND v.visited_at <= {at}" if at else ""
    return (f"(SELECT max((v.visited_at AT TIME ZONE '{TIMEZONE}')::date) FROM visit AS v "
            f"WHERE v.focus_household_id = {alias}.id AND v.district_code = {alias}.district_code{until})")


def due_sql(alias: str = "f", last_visit: str = "lv.last_visit") -> str:
    """`next_visit_due`: one cycle after the last visit, or after registration (greatest ignores NULL)."""
    return f"(greatest({last_visit}, {alias}.valid_from) + {cycle_sql(alias)})"


def paired_sql(alias: str = "f", day: str = ":on") -> str:
    """`is_paired` on `day`."""
    return (f"(({alias}.helper_person_id IS NOT NULL OR {alias}.helper_name IS NOT NULL) "
            f"AND {alias}.paired_from <= {day} AND ({alias}.paired_to IS NULL OR {alias}.paired_to > {day}))")


def gap_sql(alias: str = "f", day: str = ":on", last_visit: str = "lv.last_visit") -> str:
    """`is_gap` on `day` for a household on the register: unpaired or overdue."""
    return f"(NOT {paired_sql(alias, day)} OR {day} > {due_sql(alias, last_visit)})"


def grid_gaps_sql() -> str:
    """Each household on the register on :on in a grid, with `gap` (as of the moment :at): the rows the
    wall's `focus_gap` counts per unit (gis/sql/measures_units.sql). No name or phone leaves it."""
    last = last_visit_sql("f", ":at")
    return (f"SELECT gg.code AS grid_code, {gap_sql('f', ':on', last)} AS gap "
            "FROM focus_household AS f "
            "JOIN building AS fb ON fb.id = f.building_id AND fb.district_code = f.district_code "
            "JOIN grid AS gg ON gg.id = fb.grid_id AND gg.district_code = fb.district_code "
            f"WHERE {current_sql('f')}")


# -- one household ---------------------------------------------------------------------------------------------

HOUSEHOLD_SQL = f"""
SELECT f.id, f.household, f.person_name, f.phone, f.category, f.cycle_days, f.helper_person_id, f.helper_name,
       f.paired_from, f.paired_to, f.valid_from, f.valid_to, f.note, f.district_code,
       b.id AS building_id, b.code AS building_code, b.address, g.code AS grid_code, g.name AS grid_name,
       m.code AS community_code, coalesce(b.street_code, m.street_code) AS street_code,
       p.name AS helper_person_name, p.phone AS helper_phone, lv.last_visit
FROM focus_household AS f
JOIN building AS b ON b.id = f.building_id AND b.district_code = f.district_code
LEFT JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
LEFT JOIN LATERAL (
    SELECT c.code, c.street_code FROM community AS c
    WHERE c.id = g.community_id OR (g.id IS NULL AND ST_Covers(c.geom, b.geom))
    ORDER BY c.code LIMIT 1) AS m ON TRUE
LEFT JOIN person AS p ON p.id = f.helper_person_id
LEFT JOIN LATERAL (SELECT {last_visit_sql("f")} AS last_visit) AS lv ON TRUE
WHERE {{where}}
"""


def state_of(row: Any) -> FocusState:
    """The rules' view of a household row."""
    return FocusState(
        category=parse_category(row["category"]), valid_from=row["valid_from"], valid_to=row["valid_to"],
        helper=row["helper_person_id"] is not None or row["helper_name"] is not None,
        paired_from=row["paired_from"], paired_to=row["paired_to"], cycle_days=row["cycle_days"],
        last_visit=row["last_visit"])


def household_json(row: Any, day: date) -> dict[str, Any]:
    """A household as the API shows it to those who may see who it is (gis/permissions.py FOCUS_KEEPERS)."""
    state = state_of(row)
    helper = None
    if state.helper:
        helper = {"person_id": row["helper_person_id"], "name": row["helper_person_name"] or row["helper_name"],
                  "phone": row["helper_phone"]}
    return {
        "id": row["id"], "household": row["household"], "person_name": row["person_name"], "phone": row["phone"],
        "category": row["category"], "cycle_days": cycle_of(state), "own_cycle_days": row["cycle_days"],
        "building": {"id": row["building_id"], "code": row["building_code"], "address": row["address"]},
        "grid_code": row["grid_code"], "grid_name": row["grid_name"], "community_code": row["community_code"],
        "helper": helper, "paired_from": _iso(row["paired_from"]), "paired_to": _iso(row["paired_to"]),
        "paired": is_paired(state, day), "valid_from": _iso(row["valid_from"]), "valid_to": _iso(row["valid_to"]),
        "on_register": on_register(state, day), "last_visit": _iso(row["last_visit"]),
        "next_visit_due": next_visit_due(state).isoformat(), "days_overdue": days_overdue(state, day),
        "gap": is_gap(state, day), "note": row["note"],
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def load_household(session: Session, household_id: int) -> dict[str, Any]:
    row = session.execute(text(HOUSEHOLD_SQL.format(where="f.id = :id")), {"id": household_id}).mappings().first()
    if row is None:
        raise NotFound(f"no focus household {household_id}")
    return dict(row)


def _keep(actor: Actor, row: dict[str, Any]) -> None:
    check_keep_focus(actor, row["building_code"], row["grid_code"], row["community_code"], row["street_code"])


# -- writes ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Helper:
    """A party member or volunteer: a person of the `person` table, or a name (someone with no person row)."""

    person_id: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class HouseholdInput:
    household: str
    person_name: str
    category: str
    building_code: str | None = None
    building_id: int | None = None
    phone: str | None = None
    cycle_days: int | None = None
    helper: Helper | None = None
    paired_from: date | None = None
    valid_from: date | None = None
    note: str = ""


def _required(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"{field} must not be empty", details={"field": field})
    return value.strip()


def _helper(session: Session, helper: Helper) -> tuple[int | None, str | None]:
    if (helper.person_id is None) == (helper.name is None or not helper.name.strip()):
        raise InvalidInput("helper names a person_id or a name (one of them)", details={"field": "helper"})
    if helper.person_id is not None:
        if session.execute(text("SELECT 1 FROM person WHERE id = :id"), {"id": helper.person_id}).first() is None:
            raise InvalidInput(f"helper.person_id {helper.person_id} is unknown", details={"field": "helper.person_id"})
        return helper.person_id, None
    return None, helper.name.strip()  # type: ignore[union-attr]


def create_household(session: Session, data: HouseholdInput, actor: Actor, *, today: date | None = None) -> int:
    """Put a household of a building on the register (with its helper, if one is named); returns its id."""
    day = today or district_today()
    try:
        building = building_of(session, data.building_code, data.building_id)
    except NotFound as error:
        raise InvalidInput(str(error), details={"field": "building_code"}) from None
    check_keep_focus(actor, building["code"], building["grid_code"], building["community_code"],
                     building["street_code"])
    category = parse_category(data.category)
    cycle = check_cycle(data.cycle_days)
    valid_from = check_day("valid_from", data.valid_from or day)
    person_id, name = _helper(session, data.helper) if data.helper else (None, None)
    paired_from = None
    if data.helper:
        paired_from = check_day("paired_from", data.paired_from or valid_from)
    elif data.paired_from is not None:
        raise InvalidInput("paired_from needs a helper", details={"field": "paired_from"})
    table = FocusHousehold.__table__
    return session.execute(pg_insert(table).values(
        building_id=building["id"], household=_required(data.household, "household"),
        person_name=_required(data.person_name, "person_name"), phone=(data.phone or "").strip() or None,
        category=category.value, cycle_days=cycle, helper_person_id=person_id, helper_name=name,
        paired_from=paired_from, valid_from=valid_from, note=data.note, created_by=actor.username,
        district_code=building["district_code"],
    ).returning(table.c.id)).scalar_one()


UPDATABLE = ("household", "person_name", "phone", "category", "cycle_days", "note")


def update_household(session: Session, household_id: int, changes: dict[str, Any], actor: Actor) -> None:
    """Change the fields given (`UPDATABLE`; `cycle_days` None goes back to the category's cycle)."""
    row = load_household(session, household_id)
    _keep(actor, row)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidInput(f"cannot change {unknown}; changeable: {', '.join(UPDATABLE)}",
                           details={"field": unknown[0]})
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("household", "person_name"):
            values[key] = _required(value, key)
        elif key == "category":
            values[key] = parse_category(value).value
        elif key == "cycle_days":
            values[key] = check_cycle(value)
        elif key == "phone":
            values[key] = (value or "").strip() or None
        else:
            values[key] = value or ""
    if values:
        _update(session, row, values)


def end_household(session: Session, household_id: int, actor: Actor, *, on: date | None = None,
                  reason: str = "") -> None:
    """Take the household off the register from `on` (default today); a pairing still open ends with it."""
    row = load_household(session, household_id)
    _keep(actor, row)
    day = check_day("on", on or district_today())
    if row["valid_to"] is not None:
        raise Conflict(f"focus household {household_id} left the register on {row['valid_to']}")
    if day < row["valid_from"]:
        raise InvalidInput(f"on {day} is before the household came on the register ({row['valid_from']})",
                           details={"field": "on"})
    values: dict[str, Any] = {"valid_to": day}
    if reason:
        values["note"] = f"{row['note']}\n{reason}".strip()
    if row["paired_from"] is not None and row["paired_to"] is None:
        values["paired_to"] = max(day, row["paired_from"])
    _update(session, row, values)


def pair(session: Session, household_id: int, helper: Helper, actor: Actor, *, on: date | None = None) -> None:
    """Pair a helper with the household from `on` (default today), replacing any helper before."""
    row = load_household(session, household_id)
    _keep(actor, row)
    if row["valid_to"] is not None:
        raise Conflict(f"focus household {household_id} is no longer on the register")
    day = check_day("on", on or district_today())
    person_id, name = _helper(session, helper)
    _update(session, row, {"helper_person_id": person_id, "helper_name": name, "paired_from": day, "paired_to": None})


def unpair(session: Session, household_id: int, actor: Actor, *, on: date | None = None) -> None:
    """End the household's pairing on `on` (default today); who it was stays on the row."""
    row = load_household(session, household_id)
    _keep(actor, row)
    day = check_day("on", on or district_today())
    if row["paired_from"] is None or row["paired_to"] is not None:
        raise Conflict(f"focus household {household_id} has no helper to unpair")
    if day < row["paired_from"]:
        raise InvalidInput(f"on {day} is before the pairing began ({row['paired_from']})", details={"field": "on"})
    _update(session, row, {"paired_to": day})


def _update(session: Session, row: dict[str, Any], values: dict[str, Any]) -> None:
    table = FocusHousehold.__table__
    session.execute(table.update().where(table.c.id == row["id"], table.c.district_code == row["district_code"])
                    .values(**values))


def record_focus_visit(session: Session, household_id: int, actor: Actor, *, visited_at: datetime | None = None,
                       note: str = "", idempotency_key: str | None = None,
                       now: datetime | None = None) -> tuple[int, bool]:
    """A visit to the household (a `visit` row at its building reaching one household); returns (visit id,
    created). A retry with the same idempotency key changes nothing and returns the first visit."""
    moment = now or datetime.now(UTC)
    key = f"{actor.username}:{idempotency_key}" if idempotency_key else None
    if key and (existing := _visit_with_key(session, key)) is not None:
        return existing, False
    row = load_household(session, household_id)
    _keep(actor, row)
    if row["valid_to"] is not None:
        raise Conflict(f"focus household {household_id} is no longer on the register")
    when = _visited_at(visited_at, moment)
    table = Visit.__table__
    visit_id = session.execute(pg_insert(table).values(
        building_id=row["building_id"], person_id=actor.person_id, user_id=actor.user_id, visited_at=when,
        note=note, district_code=row["district_code"], street_code=row["street_code"], households_reached=1,
        focus_household_id=row["id"], idempotency_key=key,
    ).on_conflict_do_nothing(index_elements=["idempotency_key", "district_code"]).returning(table.c.id)
    ).scalar_one_or_none()
    if visit_id is None:  # a concurrent retry won the race
        return _visit_with_key(session, key), False  # type: ignore[return-value]
    return visit_id, True


def _visited_at(value: datetime | None, now: datetime) -> datetime:
    """The same window as any visit (gis/store/visits.py): within MAX_BACKDATE, not in the future."""
    if value is None:
        return now
    if value.tzinfo is None:
        raise InvalidInput(f"visited_at {value.isoformat()} has no timezone", details={"field": "visited_at"})
    if value > now + CLOCK_SKEW or value < now - MAX_BACKDATE:
        raise InvalidInput(f"visited_at {value.isoformat()} must lie within the last {MAX_BACKDATE.days} days "
                           "and not in the future", details={"field": "visited_at"})
    return value


def _visit_with_key(session: Session, key: str | None) -> int | None:
    return session.execute(text("SELECT id FROM visit WHERE idempotency_key = :k ORDER BY id LIMIT 1"),
                           {"k": key}).scalar_one_or_none()
