"""Redraw plans in the database: made from an area's current grids (or a file, or an earlier day's grids for
a rollback), edited, checked, approved by someone other than the author, and applied on an effective date
in one transaction. The rules themselves are pure (gis/plans/); this module reads what they need and
writes what they decide.

Applying: the area's changed or dropped grids end on the effective date and the plan's new versions start
on it (an unchanged grid keeps its version); a team or branch given to a grid of another code moves with
a new version of itself. When the date has come (at once, or later by the sweeper's `settle_due_plans`),
buildings are reassigned and the area's open cases re-homed to the grid, team and branch that now answer
for their position, with an event each. Visits and closed cases stay with the grid as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.codes import parse_community_code, parse_street_code
from gis.errors import Conflict, InvalidInput, NotFound
from gis.permissions import Actor, Forbidden
from gis.plans.checks import PlanProblem, blocking
from gis.plans.model import Lineage, PlanGrid, PlanStatus
from gis.store.assign import reassign_buildings
from gis.store.cases import rehome, responsible_for
from gis.store.vocabulary import OPEN_STATUSES, current_day, current_sql, sql_list

PLANNERS = frozenset({"admin", "planner"})
UNFINISHED = f"c.status IN {sql_list(OPEN_STATUSES)}"  # someone must still act: these move with the boundary
APPROVERS = frozenset({"admin", "planner"})  # never the plan's own author
EDITABLE = frozenset({PlanStatus.draft, PlanStatus.checked})


def check_may_plan(actor: Actor) -> None:
    if actor.role not in PLANNERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not make or change redraw plans")


# -- the area ---------------------------------------------------------------------------------------------


def _area_filter(area_code: str, alias: str = "g") -> str:
    return f"left({alias}.code, {len(area_code)}) = :area"


def check_area_code(area_code: str) -> str:
    """A plan redraws one community (12 digits) or one street (9)."""
    if len(area_code) == 12:
        return parse_community_code(area_code).code
    if len(area_code) == 9:
        return parse_street_code(area_code).code
    raise InvalidInput(f"area {area_code!r} must be a community code (12 digits) or a street code (9 digits)")


def area_boundary(session: Session, area_code: str) -> shapely.Geometry:
    table = "community" if len(area_code) == 12 else "street"
    row = session.execute(text(f"SELECT ST_AsBinary(geom) AS wkb, district_code FROM {table} WHERE code = :code"),
                          {"code": area_code}).mappings().first()
    if row is None:
        raise NotFound(f"unknown {table} {area_code}")
    if row["wkb"] is None:  # a street without its own outline: its communities'
        wkb = session.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM community WHERE street_code = :code"),
                              {"code": area_code}).scalar_one()
        return shapely.from_wkb(bytes(wkb))
    return shapely.from_wkb(bytes(row["wkb"]))


def area_district(session: Session, area_code: str) -> str:
    table = "community" if len(area_code) == 12 else "street"
    district = session.execute(text(f"SELECT district_code FROM {table} WHERE code = :code"),
                               {"code": area_code}).scalar_one_or_none()
    if district is None:
        raise NotFound(f"unknown {table} {area_code}")
    return district


_CURRENT_GRIDS_SQL = f"""
SELECT g.id, g.code, g.name, ST_AsBinary(g.geom) AS wkb,
       (SELECT t.id FROM service_team AS t WHERE t.grid_code = g.code AND {current_sql('t')}
        ORDER BY t.valid_from DESC LIMIT 1) AS team_id,
       (SELECT b.id FROM party_org AS b WHERE b.level = 'grid_branch' AND b.place_code = g.code
          AND {current_sql('b')} ORDER BY b.valid_from DESC LIMIT 1) AS branch_id
FROM grid AS g WHERE {{area}} AND {current_sql('g')} ORDER BY g.code
"""


def area_grids(session: Session, area_code: str, on: date) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(text(_CURRENT_GRIDS_SQL.format(area=_area_filter(area_code))),
                                             {"area": area_code, "on": on}).mappings()]


# -- making and editing -------------------------------------------------------------------------------------


def create_plan(session: Session, area_code: str, name: str, actor: Actor, *, restores: date | None = None,
                grids: Sequence[PlanGrid] | None = None) -> int:
    """A draft for the area, from its current grids (or the given grids, or those valid on `restores`)."""
    check_may_plan(actor)
    area_code = check_area_code(area_code)
    district = area_district(session, area_code)
    today = current_day()
    base = [g["id"] for g in area_grids(session, area_code, today)]
    if grids is None:
        source = area_grids(session, area_code, restores or today)
        grids = [PlanGrid(g["code"], g["name"], shapely.from_wkb(bytes(g["wkb"])), g["branch_id"], g["team_id"],
                          (g["code"],)) for g in source]
    plan_id = session.execute(text(
        "INSERT INTO redraw_plan (district_code, area_code, name, status, base_grid_ids, author, restores_date) "
        "VALUES (:district, :area, :name, 'draft', :base, :author, :restores) RETURNING id"
    ), {"district": district, "area": area_code, "name": name, "base": base, "author": actor.username,
        "restores": restores}).scalar_one()
    _write_grids(session, plan_id, district, grids)
    return plan_id


def _write_grids(session: Session, plan_id: int, district: str, grids: Sequence[PlanGrid]) -> None:
    session.execute(text("DELETE FROM plan_grid WHERE plan_id = :plan"), {"plan": plan_id})
    for grid in grids:
        session.execute(text(
            "INSERT INTO plan_grid (plan_id, district_code, code, name, branch_id, team_id, sources, geom) "
            "VALUES (:plan, :district, :code, :name, :branch, :team, :sources, "
            "ST_SetSRID(ST_GeomFromWKB(:wkb), 4326))"
        ), {"plan": plan_id, "district": district, "code": grid.code, "name": grid.name, "branch": grid.branch_id,
            "team": grid.team_id, "sources": list(grid.sources),
            "wkb": None if grid.geometry is None else shapely.to_wkb(grid.geometry)})


def plan_row(session: Session, plan_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = session.execute(text("SELECT * FROM redraw_plan WHERE id = :id" + (" FOR UPDATE" if lock else "")),
                          {"id": plan_id}).mappings().first()
    if row is None:
        raise NotFound(f"unknown plan {plan_id}")
    return dict(row)


def plan_grids(session: Session, plan_id: int) -> list[PlanGrid]:
    rows = session.execute(text(
        "SELECT code, name, branch_id, team_id, sources, ST_AsBinary(geom) AS wkb FROM plan_grid "
        "WHERE plan_id = :plan ORDER BY code, id"), {"plan": plan_id}).mappings()
    return [PlanGrid(r["code"], r["name"], None if r["wkb"] is None else shapely.from_wkb(bytes(r["wkb"])),
                     r["branch_id"], r["team_id"], tuple(r["sources"] or ())) for r in rows]


def replace_grids(session: Session, plan_id: int, grids: Sequence[PlanGrid], actor: Actor) -> None:
    """The editor's autosave: the plan's grids as now drawn. An edited plan is a draft again."""
    check_may_plan(actor)
    plan = plan_row(session, plan_id, lock=True)
    if PlanStatus(plan["status"]) not in EDITABLE:
        raise Conflict(f"plan {plan_id} is {plan['status']}: only a draft or checked plan can be edited")
    _write_grids(session, plan_id, plan["district_code"], grids)
    session.execute(text("UPDATE redraw_plan SET status = 'draft', checked_at = NULL, updated_at = now() "
                         "WHERE id = :id"), {"id": plan_id})


# -- the workflow: check, accept, approve, apply, discard -----------------------------------------------


def mark_checked(session: Session, plan_id: int, problems: Sequence[PlanProblem], actor: Actor) -> str:
    """A draft whose errors are all fixed becomes checked (warnings may still wait for a reason)."""
    check_may_plan(actor)
    plan = plan_row(session, plan_id, lock=True)
    if PlanStatus(plan["status"]) not in EDITABLE:
        raise Conflict(f"plan {plan_id} is {plan['status']}: only a draft is checked")
    errors = [p for p in problems if p.severity.value == "error"]
    status = "draft" if errors else "checked"
    session.execute(text("UPDATE redraw_plan SET status = :status, checked_at = CASE WHEN :checked THEN now() END, "
                         "updated_at = now() WHERE id = :id"),
                    {"status": status, "checked": status == "checked", "id": plan_id})
    return status


def accept_warning(session: Session, plan_id: int, key: str, reason: str, actor: Actor) -> None:
    check_may_plan(actor)
    if not reason.strip():
        raise InvalidInput("a warning is accepted with a reason: say why the plan may go ahead")
    plan = plan_row(session, plan_id, lock=True)
    if PlanStatus(plan["status"]) not in EDITABLE:
        raise Conflict(f"plan {plan_id} is {plan['status']}: its warnings are settled")
    accepted = {**plan["accepted_warnings"], key: {"reason": reason.strip(), "by": actor.username}}
    session.execute(text("UPDATE redraw_plan SET accepted_warnings = CAST(:accepted AS jsonb), updated_at = now() "
                         "WHERE id = :id"), {"accepted": json.dumps(accepted, ensure_ascii=False), "id": plan_id})


def approve(session: Session, plan_id: int, problems: Sequence[PlanProblem], actor: Actor) -> None:
    """Approval needs a checked plan with nothing blocking, by someone other than its author."""
    if actor.role not in APPROVERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not approve redraw plans")
    plan = plan_row(session, plan_id, lock=True)
    if plan["author"] == actor.username:
        raise Forbidden(f"plan {plan_id} was made by {actor.username!r}: someone else must approve it")
    if plan["status"] != PlanStatus.checked:
        raise Conflict(f"plan {plan_id} is {plan['status']}: only a checked plan can be approved")
    reasons = {key: value["reason"] for key, value in plan["accepted_warnings"].items()}
    stopping = blocking(problems, reasons)
    if stopping:
        raise Conflict(f"plan {plan_id} cannot be approved: {len(stopping)} problem(s), first: {stopping[0].message}",
                       details={"problems": [p.as_dict() for p in stopping[:20]]})
    session.execute(text("UPDATE redraw_plan SET status = 'approved', approved_by = :who, approved_at = now(), "
                         "updated_at = now() WHERE id = :id"), {"who": actor.username, "id": plan_id})


def discard(session: Session, plan_id: int, actor: Actor) -> None:
    check_may_plan(actor)
    plan = plan_row(session, plan_id, lock=True)
    if plan["status"] in (PlanStatus.applied, PlanStatus.discarded):
        raise Conflict(f"plan {plan_id} is {plan['status']}: it cannot be discarded")
    session.execute(text("UPDATE redraw_plan SET status = 'discarded', discarded_at = now(), updated_at = now() "
                         "WHERE id = :id"), {"id": plan_id})


def apply(session: Session, plan_id: int, effective: date, actor: Actor) -> dict[str, int]:
    """Make the plan the area's grids from `effective` on, in the caller's transaction."""
    if actor.role not in APPROVERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not apply redraw plans")
    plan = plan_row(session, plan_id, lock=True)
    if plan["status"] != PlanStatus.approved:
        raise Conflict(f"plan {plan_id} is {plan['status']}: only an approved plan can be applied")
    today = current_day()
    if effective < today:
        raise InvalidInput(f"effective date {effective} is in the past: a plan takes effect today or later")
    area = plan["area_code"]
    session.execute(text("SELECT id FROM grid AS g WHERE " + _area_filter(area) + " FOR UPDATE"), {"area": area})
    current = area_grids(session, area, today)
    if sorted(g["id"] for g in current) != sorted(plan["base_grid_ids"]):
        raise Conflict(f"the grids of {area} have changed since plan {plan_id} was made: make the plan again from "
                       "the current grids", details={"area": area})
    if any(g["valid_from"] > today for g in _future_versions(session, area)):
        raise Conflict(f"{area} already has grid versions starting after today: apply one plan at a time")
    grids = plan_grids(session, plan_id)
    by_code = {g["code"]: g for g in current}
    ended = started = 0
    moving: list[tuple[str, str, int, str]] = []  # (table, code column, id, new code)
    for grid in grids:
        old = by_code.get(grid.code)
        if old is not None and _unchanged(session, old, grid):
            continue
        if old is not None:
            ended += _end_grid(session, old["id"], effective)
        session.execute(text(
            "INSERT INTO grid (code, name, community_id, district_code, street_code, valid_from, geom, plan_id, "
            "lineage, sources) SELECT CAST(:code AS text), :name, c.id, c.district_code, c.street_code, :from, "
            "ST_Multi(ST_SetSRID(ST_GeomFromWKB(:wkb), 4326)), :plan, :lineage, :sources FROM community AS c "
            "WHERE c.code = left(CAST(:code AS text), 12)"
        ), {"code": grid.code, "name": grid.name, "from": effective, "wkb": shapely.to_wkb(grid.geometry),
            "plan": plan_id, "lineage": _lineage(grid, old, by_code), "sources": list(grid.sources)})
        started += 1
        moving += [("service_team", "grid_code", grid.team_id, grid.code)] if grid.team_id else []
        moving += [("party_org", "place_code", grid.branch_id, grid.code)] if grid.branch_id else []
    kept = {g.code for g in grids}
    for code, old in by_code.items():
        if code not in kept:
            ended += _end_grid(session, old["id"], effective)
    _move_organisations(session, moving, effective)
    session.execute(text("UPDATE redraw_plan SET status = 'applied', effective_date = :effective, applied_by = :who, "
                         "applied_at = now(), updated_at = now() WHERE id = :id"),
                    {"effective": effective, "who": actor.username, "id": plan_id})
    result = {"grids_ended": ended, "grids_started": started, "buildings_changed": 0, "cases_rehomed": 0}
    if effective <= today:
        result.update(_settle(session, plan_id, area, actor.username))
    return result


def _future_versions(session: Session, area: str) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(text(
        "SELECT id, valid_from FROM grid AS g WHERE " + _area_filter(area) + " AND g.valid_from > :today"),
        {"area": area, "today": current_day()}).mappings()]


def _unchanged(session: Session, old: Mapping[str, Any], grid: PlanGrid) -> bool:
    same_shape = session.execute(text("SELECT ST_Equals(g.geom, ST_Multi(ST_SetSRID(ST_GeomFromWKB(:wkb), 4326))) "
                                      "FROM grid AS g WHERE g.id = :id"),
                                 {"wkb": shapely.to_wkb(grid.geometry), "id": old["id"]}).scalar_one()
    return bool(same_shape) and old["name"] == grid.name and old["team_id"] == grid.team_id \
        and old["branch_id"] == grid.branch_id


def _end_grid(session: Session, grid_id: int, effective: date) -> int:
    return session.execute(text("UPDATE grid SET valid_to = :to WHERE id = :id AND valid_to IS NULL"),
                           {"to": effective, "id": grid_id}).rowcount


def _lineage(grid: PlanGrid, old: Mapping[str, Any] | None, current: Mapping[str, Any]) -> str:
    sources = [s for s in grid.sources if s in current]
    if len(sources) > 1:
        return Lineage.merged.value
    if old is not None:
        return Lineage.reshaped.value
    if sources:
        return Lineage.split_from.value
    return Lineage.new.value


def _move_organisations(session: Session, moving: Sequence[tuple[str, str, int, str]], effective: date) -> None:
    """Teams (and branches) given to a grid of another code: each version ends on the effective date and a
    new one with the same name starts then for the new code; a team's serving members move with it. All
    end first, so two grids may swap teams."""
    rows = []
    for table, column, org_id, code in moving:
        row = session.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": org_id}).mappings().one()
        if row[column] != code:
            rows.append((table, dict(row), code))
            session.execute(text(f"UPDATE {table} SET valid_to = :from WHERE id = :id"),
                            {"from": effective, "id": org_id})
    for table, row, code in rows:
        params = {"code": code, "name": row["name"], "district": row["district_code"], "from": effective,
                  "old": row["id"]}
        if table == "service_team":
            params["new"] = session.execute(text(
                "INSERT INTO service_team (grid_code, name, district_code, street_code, valid_from) "
                "VALUES (:code, :name, :district, left(:code, 9), :from) RETURNING id"), params).scalar_one()
            session.execute(text(
                "INSERT INTO team_membership (team_id, person_id, role, from_date, to_date, district_code, "
                "street_code) SELECT :new, person_id, role, greatest(from_date, :from), to_date, district_code, "
                "left(:code, 9) FROM team_membership AS m WHERE team_id = :old "
                "AND (m.to_date IS NULL OR m.to_date >= :from)"), params)
            session.execute(text(
                "UPDATE team_membership SET to_date = greatest(from_date, CAST(:from AS date) - 1) "
                "WHERE team_id = :old AND (to_date IS NULL OR to_date >= :from)"), params)
        else:
            session.execute(text(
                "INSERT INTO party_org (level, name, place_code, secretary, member_count, district_code, "
                "street_code, valid_from) VALUES ('grid_branch', :name, :code, :secretary, :members, :district, "
                "left(:code, 9), :from)"), {**params, "secretary": row["secretary"], "members": row["member_count"]})


def _settle(session: Session, plan_id: int, area: str, actor: str) -> dict[str, int]:
    """The plan's day has come: buildings follow the new grids, open cases go to whoever answers now."""
    before = _building_grids(session, area)
    reassign_buildings(session)
    after = _building_grids(session, area)
    moved = sum(1 for code in set(before) | set(after) if before.get(code) != after.get(code))
    at = datetime.now(UTC)
    rows = session.execute(text(
        "SELECT c.id, ST_X(c.position) AS lon, ST_Y(c.position) AS lat, c.grid_code FROM service_case AS c "
        f"WHERE {UNFINISHED} AND (left(coalesce(c.grid_code, ''), :n) = :area OR c.grid_code IS NULL) "
        "ORDER BY c.id"), {"n": len(area), "area": area}).mappings().all()
    rehomed = 0
    for row in rows:
        who = responsible_for(session, row["lon"], row["lat"])
        in_area = (row["grid_code"] or "").startswith(area) or (who.grid_code or "").startswith(area)
        if who.grid_code != row["grid_code"] and in_area:
            rehome(session, row["id"], who, actor, f"redraw plan {plan_id} took effect", {"plan": plan_id}, at)
            rehomed += 1
    session.execute(text("UPDATE redraw_plan SET settled_at = now() WHERE id = :id"), {"id": plan_id})
    return {"buildings_changed": moved, "cases_rehomed": rehomed}


def _building_grids(session: Session, area: str) -> dict[str, str | None]:
    """Building code → the code of its grid, for the buildings in or around the area's grids."""
    rows = session.execute(text(
        "SELECT b.code, g.code AS grid_code FROM building AS b "
        "LEFT JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code "
        "WHERE left(coalesce(g.code, ''), :n) = :area OR b.grid_id IS NULL"), {"n": len(area), "area": area})
    return {r.code: r.grid_code for r in rows}


def settle_due_plans(session: Session) -> int:
    """Plans applied with a date still to come, whose day is here (run by the sweeper)."""
    due = session.execute(text(
        "SELECT id, area_code, applied_by FROM redraw_plan WHERE status = 'applied' AND settled_at IS NULL "
        "AND effective_date <= :today ORDER BY effective_date, id FOR UPDATE SKIP LOCKED"),
        {"today": current_day()}).mappings().all()
    for plan in due:
        _settle(session, plan["id"], plan["area_code"], plan["applied_by"])
    return len(due)


def rollback_plan(session: Session, plan_id: int, actor: Actor) -> int:
    """A new draft restoring the grids the area had the day before `plan_id` took effect."""
    check_may_plan(actor)  # before the plan's state: a role that may not plan learns nothing of it
    plan = plan_row(session, plan_id)
    if plan["status"] != PlanStatus.applied:
        raise Conflict(f"plan {plan_id} is {plan['status']}: only an applied plan can be rolled back")
    before = plan["effective_date"] - timedelta(days=1)
    return create_plan(session, plan["area_code"], f"撤回 {plan['name']}", actor, restores=before)


def plan_summary(session: Session, plan_id: int) -> dict[str, Any]:
    plan = plan_row(session, plan_id)
    grids = plan_grids(session, plan_id)
    features = [{"type": "Feature", "id": g.code, "properties": {
        "code": g.code, "name": g.name, "branch_id": g.branch_id, "team_id": g.team_id, "sources": list(g.sources)},
        "geometry": None if g.geometry is None else shapely.geometry.mapping(g.geometry)} for g in grids]
    dates = ("created_at", "updated_at", "checked_at", "approved_at", "applied_at", "settled_at", "discarded_at")
    return {**{k: v for k, v in plan.items() if k not in dates and k not in ("effective_date", "restores_date")},
            **{k: plan[k].isoformat() if plan[k] else None for k in (*dates, "effective_date", "restores_date")},
            "grids": {"type": "FeatureCollection", "features": features}}


def list_plans(session: Session, area_code: str | None = None) -> list[dict[str, Any]]:
    rows = session.execute(text(
        "SELECT id, area_code, name, status, author, approved_by, effective_date, updated_at FROM redraw_plan "
        "WHERE (CAST(:area AS text) IS NULL OR area_code = :area) ORDER BY updated_at DESC, id DESC"),
        {"area": area_code}).mappings()
    return [{**r, "effective_date": r["effective_date"].isoformat() if r["effective_date"] else None,
             "updated_at": r["updated_at"].isoformat()} for r in rows]
