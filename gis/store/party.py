"""Party organisation strength in the database: membership records (entered or imported), a branch's
members on a day, grades and pairings, and the strength per grid and building (rules in gis/party.py).

`branch_members_sql` and `branch_grade_sql` are the one SQL form of `gis.party.members_of` and
`gis.party.grade_on`: the wall's measures (gis/sql/measures_units.sql through gis/store/measures.py), the
planner's checks (gis/store/plan_review.py) and the 双公开 report read a branch's strength through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.errors import Conflict, InvalidInput, NotFound
from gis.party import MIN_MEMBERS, BranchGrade, check_pairing, needs_seconded_branch, parse_grade
from gis.periods import check_day
from gis.permissions import Actor, area_of, check_edit_party, check_party_reader, check_read_party
from gis.store.models import BranchGradeEntry, BranchPairing, PartyMembership
from gis.store.vocabulary import current_sql, serving_sql


def branch_members_sql(alias: str = "o", day: str = ":on") -> str:
    """SQL of `gis.party.members_of` for the party_org row `alias` on `day`: its records active that day
    when it has any record, else its declared member_count."""
    return (f"(SELECT CASE WHEN count(*) = 0 THEN {alias}.member_count "
            f"ELSE count(DISTINCT pm.person_id) FILTER (WHERE {serving_sql('pm', day)}) END "
            f"FROM party_membership AS pm "
            f"WHERE pm.branch_id = {alias}.id AND pm.district_code = {alias}.district_code)")


def branch_grade_sql(alias: str = "o", day: str = ":on") -> str:
    """SQL of `gis.party.grade_on`: the grade of the party_org row `alias` in force on `day` (or NULL)."""
    return (f"(SELECT bg.grade FROM branch_grade AS bg WHERE bg.branch_id = {alias}.id "
            f"AND bg.district_code = {alias}.district_code AND bg.graded_on <= {day} "
            f"ORDER BY bg.graded_on DESC, bg.id DESC LIMIT 1)")


def grid_party_sql() -> str:
    """Per grid with a current branch on :on: grid_code, party_members (its branch's members) and weak_branch
    (fewer than `MIN_MEMBERS` members, or graded weak on the day): the wall's counts, no name."""
    return (f"SELECT x.grid_code, x.members AS party_members, "
            f"(x.members < {MIN_MEMBERS} OR x.grade = '{BranchGrade.weak.value}') AS weak_branch "
            f"FROM (SELECT DISTINCT ON (o.place_code) o.place_code AS grid_code, {branch_members_sql('o')} AS members, "
            f"{branch_grade_sql('o')} AS grade FROM party_org AS o "
            f"WHERE o.level = 'grid_branch' AND {current_sql('o')} ORDER BY o.place_code, o.id) AS x")


def members_by_branch(session: Session, branch_ids: list[int], day: date) -> dict[int, int]:
    """Members of each branch on `day` (the planner's three-member check)."""
    rows = session.execute(text(f"SELECT o.id, {branch_members_sql('o')} AS members FROM party_org AS o "
                                "WHERE o.id = ANY(:ids)"), {"ids": list(branch_ids), "on": day}).mappings()
    return {r["id"]: int(r["members"]) for r in rows}


# -- branches ---------------------------------------------------------------------------------------

# A branch's place for the area rules: its own code, or for a building group the grid of its building.
_BRANCH_SQL = f"""
SELECT o.id, o.level, o.name, o.place_code, o.secretary, o.member_count AS declared_members, o.district_code,
       o.street_code, o.valid_from, o.valid_to,
       CASE WHEN o.level = 'building_group' THEN
           (SELECT g.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
            WHERE b.code = o.place_code ORDER BY b.district_code = o.district_code DESC LIMIT 1)
       ELSE o.place_code END AS area_code,
       {branch_members_sql('o')} AS members,
       EXISTS (SELECT 1 FROM party_membership AS pm WHERE pm.branch_id = o.id
               AND pm.district_code = o.district_code) AS recorded,
       {branch_grade_sql('o')} AS grade
FROM party_org AS o
WHERE {{where}}
ORDER BY o.place_code, o.level, o.id
"""


def branch_row(session: Session, branch_id: int, day: date, field: str = "branch_id") -> dict[str, Any]:
    row = session.execute(text(_BRANCH_SQL.format(where="o.id = :id")), {"id": branch_id, "on": day}
                          ).mappings().first()
    if row is None:
        raise NotFound(f"{field} {branch_id} is not a known party organisation", details={"field": field})
    return dict(row)


def _branch_json(row: dict[str, Any], pairings: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    members = int(row["members"])
    return {"id": row["id"], "level": row["level"], "name": row["name"], "place_code": row["place_code"],
            "secretary": row["secretary"], "members": members, "declared_members": row["declared_members"],
            "members_from": "records" if row["recorded"] else "declared",
            "needs_seconded_branch": needs_seconded_branch(members), "min_members": MIN_MEMBERS,
            "grade": row["grade"], "pairings": pairings.get(row["id"], [])}


def list_branches(session: Session, actor: Actor, day: date, place: str | None = None) -> list[dict[str, Any]]:
    """The branches current on `day` in the actor's area (under `place`, a street, community or grid code,
    if given): members, whether a seconded branch is needed, grade on the day and pairings."""
    check_party_reader(actor)
    check_day("day", day)
    where = f"{current_sql('o')} AND o.level = 'grid_branch'"
    params: dict[str, Any] = {"on": day}
    if place:
        where += " AND left(o.place_code, :n) = :place"
        params.update(place=place, n=len(place))
    rows = [dict(r) for r in session.execute(text(_BRANCH_SQL.format(where=where)), params).mappings()]
    area = area_of(actor)
    rows = [r for r in rows if r["area_code"] and area.covers_code(r["area_code"])]
    pairings = _pairings(session, [r["id"] for r in rows], day)
    return [_branch_json(r, pairings) for r in rows]


def _pairings(session: Session, ids: list[int], day: date) -> dict[int, list[dict[str, Any]]]:
    rows = session.execute(text(
        "SELECT p.id, p.weak_branch_id, p.strong_branch_id, p.from_date, p.to_date, w.name AS weak_name, "
        "s.name AS strong_name FROM branch_pairing AS p "
        "JOIN party_org AS w ON w.id = p.weak_branch_id AND w.district_code = p.district_code "
        "JOIN party_org AS s ON s.id = p.strong_branch_id AND s.district_code = p.district_code "
        f"WHERE (p.weak_branch_id = ANY(:ids) OR p.strong_branch_id = ANY(:ids)) AND {serving_sql('p', ':on')} "
        "ORDER BY p.id"), {"ids": ids, "on": day}).mappings()
    found: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        found.setdefault(r["weak_branch_id"], []).append(
            {"id": r["id"], "role": "weak", "partner_id": r["strong_branch_id"], "partner": r["strong_name"],
             "from_date": r["from_date"].isoformat()})
        found.setdefault(r["strong_branch_id"], []).append(
            {"id": r["id"], "role": "strong", "partner_id": r["weak_branch_id"], "partner": r["weak_name"],
             "from_date": r["from_date"].isoformat()})
    return found


# -- members ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberInput:
    person_name: str | None
    phone: str | None
    person_id: int | None
    branch_id: int
    building_code: str | None
    from_date: date
    to_date: date | None = None


def add_member(session: Session, data: MemberInput, actor: Actor, today: date) -> dict[str, Any]:
    """Record one party membership; returns the branch's strength afterwards (no name in the answer)."""
    branch = branch_row(session, data.branch_id, today)
    check_edit_party(actor, branch["area_code"] or branch["place_code"])
    _insert_member(session, data, branch, actor, "")
    return _branch_json(branch_row(session, data.branch_id, today), {})


def _insert_member(session: Session, data: MemberInput, branch: dict[str, Any], actor: Actor, where: str) -> None:
    check_day(f"{where}from_date", data.from_date)
    if data.to_date is not None and data.to_date < data.from_date:
        raise InvalidInput(f"{where}to_date {data.to_date} is before from_date {data.from_date}",
                           details={"field": "to_date"})
    person_id = _person(session, data, branch["district_code"], where)
    if data.building_code and session.execute(text("SELECT 1 FROM building WHERE code = :c"),
                                              {"c": data.building_code}).first() is None:
        raise InvalidInput(f"{where}building_code {data.building_code!r} is not a known building",
                           details={"field": "building_code"})
    inserted = session.execute(pg_insert(PartyMembership.__table__).values(
        person_id=person_id, branch_id=branch["id"], building_code=data.building_code or None,
        from_date=data.from_date, to_date=data.to_date, created_by=actor.username,
        district_code=branch["district_code"]).on_conflict_do_nothing()).rowcount
    if not inserted:
        raise Conflict(f"{where}this person is already recorded in branch {branch['id']} from {data.from_date}",
                       details={"field": "person"})


def _person(session: Session, data: MemberInput, district: str, where: str) -> int:
    if data.person_id is not None:
        if session.execute(text("SELECT 1 FROM person WHERE id = :id"), {"id": data.person_id}).first() is None:
            raise InvalidInput(f"{where}person_id {data.person_id} is unknown", details={"field": "person_id"})
        return data.person_id
    name = (data.person_name or "").strip()
    if not name:
        raise InvalidInput(f"{where}person_name is required (or person_id)", details={"field": "person_name"})
    phone = (data.phone or "").strip() or None
    found = session.execute(text("SELECT id FROM person WHERE district_code = :d AND name = :n "
                                 "AND phone IS NOT DISTINCT FROM :p"), {"d": district, "n": name, "p": phone}).first()
    if found is not None:
        return found[0]
    return session.execute(text("INSERT INTO person (name, phone, district_code) VALUES (:n, :p, :d) RETURNING id"),
                           {"n": name, "p": phone, "d": district}).scalar_one()


MEMBER_COLUMNS = ("person_name", "branch_code", "from_date")
"""Columns a membership file must have (phone, building_code, to_date optional). `branch_code` is the code
of the grid (its grid branch) or community (its community organisation)."""


def import_members(session: Session, rows: list[dict[str, str]], actor: Actor, today: date) -> dict[str, Any]:
    """Every row of a membership file, or none: the first bad row's error names it (numbered from 2)."""
    if not rows:
        raise InvalidInput("the file has no rows", details={"field": "file"})
    missing = [c for c in MEMBER_COLUMNS if c not in rows[0]]
    if missing:
        raise InvalidInput(f"the file lacks the column(s) {', '.join(missing)}; expected {', '.join(MEMBER_COLUMNS)} "
                           "(phone, building_code, to_date optional)", details={"missing": missing})
    touched: set[int] = set()
    with session.begin_nested():
        for number, row in enumerate(rows, start=2):
            where = f"row {number}: "
            branch = _branch_by_code(session, row.get("branch_code", ""), today, where)
            check_edit_party(actor, branch["place_code"])
            data = MemberInput(row.get("person_name"), row.get("phone"), None, branch["id"],
                               row.get("building_code") or None, _date(row.get("from_date"), f"{where}from_date"),
                               _date(row.get("to_date"), f"{where}to_date") if row.get("to_date") else None)
            _insert_member(session, data, branch, actor, where)
            touched.add(branch["id"])
    branches = [_branch_json(branch_row(session, b, today), {}) for b in sorted(touched)]
    return {"imported": len(rows), "branches": branches}


def _branch_by_code(session: Session, code: str, day: date, where: str) -> dict[str, Any]:
    code = (code or "").strip()
    level = {15: "grid_branch", 12: "community_org"}.get(len(code)) if code.isdigit() else None
    if level is None:
        raise InvalidInput(f"{where}branch_code {code!r} is not a grid (15 digits) or community (12 digits) code",
                           details={"field": "branch_code"})
    row = session.execute(text(f"SELECT o.id FROM party_org AS o WHERE o.level = :level AND o.place_code = :code "
                               f"AND {current_sql('o')}"), {"level": level, "code": code, "on": day}).first()
    if row is None:
        raise InvalidInput(f"{where}branch_code {code!r}: no current {level.replace('_', ' ')} there",
                           details={"field": "branch_code"})
    return branch_row(session, row[0], day)


def _date(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise InvalidInput(f"{field} {value!r} is not a date (YYYY-MM-DD)", details={"field": field}) from exc


# -- grades and pairings ----------------------------------------------------------------------------


def add_grade(session: Session, branch_id: int, grade: str, graded_on: date, note: str, actor: Actor,
              today: date) -> dict[str, Any]:
    branch = branch_row(session, branch_id, today)
    check_edit_party(actor, branch["area_code"] or branch["place_code"])
    value = parse_grade(grade)
    check_day("graded_on", graded_on)
    if graded_on > today:
        raise InvalidInput(f"graded_on {graded_on} is in the future", details={"field": "graded_on"})
    session.execute(pg_insert(BranchGradeEntry.__table__).values(
        branch_id=branch_id, grade=value.value, graded_on=graded_on, graded_by=actor.username, note=note,
        district_code=branch["district_code"]))
    return grade_history(session, branch_id, actor, today)


def grade_history(session: Session, branch_id: int, actor: Actor, day: date) -> dict[str, Any]:
    """Every grade of a branch (oldest first) and the one in force on `day`."""
    branch = branch_row(session, branch_id, day)
    check_read_party(actor, branch["area_code"] or branch["place_code"])
    rows = session.execute(text("SELECT grade, graded_on, graded_by, note FROM branch_grade WHERE branch_id = :id "
                                "ORDER BY graded_on, id"), {"id": branch_id}).mappings().all()
    history = [{"grade": r["grade"], "graded_on": r["graded_on"].isoformat(), "graded_by": r["graded_by"],
                "note": r["note"]} for r in rows]
    return {"branch_id": branch_id, "name": branch["name"], "day": day.isoformat(), "grade": branch["grade"],
            "history": history}


def pair(session: Session, weak_id: int, strong_id: int, from_date: date, actor: Actor,
         today: date) -> dict[str, Any]:
    """Pair a weak (后进) branch with an advanced (先进) one from `from_date` (both graded so that day)."""
    check_day("from_date", from_date)
    weak = branch_row(session, weak_id, from_date, "weak_branch_id")
    strong = branch_row(session, strong_id, from_date, "strong_branch_id")
    for branch in (weak, strong):
        check_edit_party(actor, branch["area_code"] or branch["place_code"])
    if weak["district_code"] != strong["district_code"]:
        raise InvalidInput("the two branches are in different districts", details={"field": "strong_branch_id"})
    check_pairing(_grade(weak), _grade(strong), weak_id == strong_id)
    pairing_id = session.execute(pg_insert(BranchPairing.__table__).values(
        weak_branch_id=weak_id, strong_branch_id=strong_id, from_date=from_date, created_by=actor.username,
        district_code=weak["district_code"]).returning(BranchPairing.__table__.c.id)).scalar_one()
    return {"id": pairing_id, "weak_branch_id": weak_id, "strong_branch_id": strong_id,
            "from_date": from_date.isoformat(), "weak": weak["name"], "strong": strong["name"]}


def _grade(branch: dict[str, Any]) -> BranchGrade | None:
    return BranchGrade(branch["grade"]) if branch["grade"] else None


# -- strength per grid and building -----------------------------------------------------------------

_BUILDINGS_SQL = f"""
SELECT b.code, b.address, b.households,
       (SELECT count(DISTINCT pm.person_id) FROM party_membership AS pm
        WHERE pm.building_code = b.code AND {serving_sql('pm')}) AS party_members,
       (SELECT count(DISTINCT pm.person_id) FROM party_membership AS pm
        WHERE pm.building_code = b.code AND {serving_sql('pm')}
          AND EXISTS (SELECT 1 FROM team_membership AS tm WHERE tm.person_id = pm.person_id
                      AND tm.role = 'central_household' AND {serving_sql('tm')})) AS central_households
FROM building AS b JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
WHERE g.code = :grid
ORDER BY b.code
"""

_CENTRAL_SQL = f"""
SELECT count(DISTINCT tm.person_id) FROM service_team AS t JOIN team_membership AS tm
  ON tm.team_id = t.id AND tm.district_code = t.district_code
WHERE t.grid_code = :grid AND {current_sql('t')} AND tm.role = 'central_household' AND {serving_sql('tm')}
"""


def grid_strength(session: Session, grid_code: str, actor: Actor, day: date) -> dict[str, Any]:
    """Party members and central households of a grid on `day`, per building (from the membership records'
    buildings) and for the grid (its branch's members; its team's central households)."""
    check_read_party(actor, grid_code)
    check_day("day", day)
    params = {"grid": grid_code, "on": day}
    buildings = [dict(r) for r in session.execute(text(_BUILDINGS_SQL), params).mappings()]
    branches = [b for b in list_branches(session, actor, day, grid_code) if b["level"] == "grid_branch"]
    branch = branches[0] if branches else None
    return {"grid_code": grid_code, "day": day.isoformat(),
            "party_members": branch["members"] if branch else 0,
            "central_households": int(session.execute(text(_CENTRAL_SQL), params).scalar_one()),
            "branch": branch, "buildings": buildings}
