"""What a redraw plan would do, read before it is decided: its checks (with the team and branch rules
that need the database), the governance load of its grids, and what changes hands. Reads only; the plan's
life (make, edit, approve, apply) is gis/store/plans.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.plans.balance import RECENT_DAYS, balance
from gis.plans.checks import CheckContext, CheckKind, PlanProblem, check_plan
from gis.plans.impact import before_after, moves
from gis.plans.model import PlanGrid, Points
from gis.store.party import members_by_branch
from gis.store.plans import UNFINISHED, area_boundary, area_district, area_grids, check_area_code, plan_grids, plan_row
from gis.store.vocabulary import current_day, current_sql, open_case_sql, serving_sql


def _points(session: Session, sql: str, params: Mapping[str, Any], *, weights: bool = False) -> Points:
    rows = session.execute(text(sql), params).mappings().all()
    return Points(
        ids=np.array([r["id"] for r in rows], dtype=object),
        geometries=np.array([shapely.Point(r["lon"], r["lat"]) for r in rows], dtype=object),
        current_grids=np.array([r["grid_code"] for r in rows], dtype=object),
        households=np.array([r["households"] for r in rows], dtype=np.int64) if weights else None,
        residents=np.array([r["residents"] for r in rows], dtype=np.int64) if weights else None,
    )


def _area_points(session: Session, area_code: str, boundary: shapely.Geometry) -> dict[str, Points]:
    """Buildings, open cases and recent cases in the area (inside its outline or in one of its grids)."""
    params = {"area": area_code, "outline": shapely.to_wkb(boundary), "on": current_day(),
              "since": datetime.now(UTC) - timedelta(days=RECENT_DAYS)}
    inside = "(ST_Covers(ST_SetSRID(ST_GeomFromWKB(:outline), 4326), {geom}) OR left({code}, :n) = :area)"
    params["n"] = len(area_code)
    in_buildings = inside.format(geom="b.geom", code="coalesce(g.code, '')")
    buildings = _points(session, (
        "SELECT b.code AS id, ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat, g.code AS grid_code, b.households, "
        "b.residents FROM building AS b "
        "LEFT JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code "
        f"WHERE {in_buildings} ORDER BY b.code"), params, weights=True)
    in_cases = inside.format(geom="c.position", code="coalesce(c.grid_code, '')")
    cases = ("SELECT c.id, ST_X(c.position) AS lon, ST_Y(c.position) AS lat, c.grid_code FROM service_case AS c "
             f"WHERE {in_cases} AND {{more}} ORDER BY c.id")
    return {"buildings": buildings,
            "open_cases": _points(session, cases.format(more=open_case_sql("c")), params),
            "unfinished_cases": _points(session, cases.format(more=UNFINISHED), params),
            "recent_cases": _points(session, cases.format(more="c.reported_at >= :since"), params)}


def _earlier_versions(session: Session, codes: Sequence[str]) -> dict[str, shapely.Geometry]:
    rows = session.execute(text("SELECT code, ST_AsBinary(ST_Union(geom)) AS wkb FROM grid WHERE code = ANY(:codes) "
                                "GROUP BY code"), {"codes": list(codes)}).mappings()
    return {r["code"]: shapely.from_wkb(bytes(r["wkb"])) for r in rows}


def check(session: Session, plan_id: int, households_range: tuple[int, int] | None) -> list[PlanProblem]:
    plan = plan_row(session, plan_id)
    grids = plan_grids(session, plan_id)
    boundary = area_boundary(session, plan["area_code"])
    points = _area_points(session, plan["area_code"], boundary)
    context = CheckContext(area_code=plan["area_code"], boundary=boundary, buildings=points["buildings"],
                           earlier_versions=_earlier_versions(session, [g.code for g in grids]),
                           households_range=households_range,
                           branch_members=members_by_branch(session, [g.branch_id for g in grids if g.branch_id],
                                                            current_day()))
    problems = check_plan(grids, context)
    problems += _team_problems(session, grids)
    return problems


def _team_problems(session: Session, grids: Sequence[PlanGrid]) -> list[PlanProblem]:
    """A team or branch given to two grids; one that does not exist (now)."""
    problems = []
    for field, kind, table in (("team_id", CheckKind.no_team, "service_team"),
                               ("branch_id", CheckKind.no_branch, "party_org")):
        given = [getattr(g, field) for g in grids if getattr(g, field) is not None]
        known = set(session.execute(text(f"SELECT id FROM {table} AS t WHERE id = ANY(:ids) AND "
                                          f"{current_sql('t')}"), {"ids": given, "on": current_day()}).scalars())
        seen: dict[int, str] = {}
        for grid in grids:
            value = getattr(grid, field)
            if value is None:
                continue
            what = "team" if field == "team_id" else "branch"
            if value not in known:
                problems.append(PlanProblem(kind, f"grid {grid.code}: {what} {value} does not exist (today)",
                                            (grid.code,), grid.geometry, {field: value}))
            elif value in seen:
                problems.append(PlanProblem(kind, f"grids {seen[value]} and {grid.code} are given the same {what} "
                                            f"{value}", (seen[value], grid.code), grid.geometry, {field: value}))
            seen.setdefault(value, grid.code)
    return problems


def _workers_by_team(session: Session, team_ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(text(
        f"SELECT m.team_id, count(DISTINCT m.person_id) AS workers FROM team_membership AS m "
        f"WHERE m.team_id = ANY(:teams) AND m.role = 'grid_worker' AND {serving_sql('m', ':on')} GROUP BY m.team_id"
    ), {"teams": list(team_ids), "on": current_day()}).mappings()
    return {r["team_id"]: r["workers"] for r in rows}


def plan_balance(session: Session, plan_id: int, target: int) -> list[dict[str, Any]]:
    plan = plan_row(session, plan_id)
    return area_balance(session, plan["area_code"], plan_grids(session, plan_id), target)


def area_balance(session: Session, area_code: str, grids: Sequence[PlanGrid], target: int) -> list[dict[str, Any]]:
    """The governance load of `grids` (a plan's, or the area's current ones) over the area's points."""
    points = _area_points(session, area_code, area_boundary(session, area_code))
    workers = _workers_by_team(session, [g.team_id for g in grids if g.team_id is not None])
    loads = balance(grids, points["buildings"], points["open_cases"], points["recent_cases"], workers, target)
    return [load.as_dict() for load in loads]


def current_grids(session: Session, area_code: str) -> list[PlanGrid]:
    """The area's grids today, as a plan would hold them (with their team and branch)."""
    area_code = check_area_code(area_code)
    area_district(session, area_code)
    return [PlanGrid(g["code"], g["name"], shapely.from_wkb(bytes(g["wkb"])), g["branch_id"], g["team_id"],
                     (g["code"],)) for g in area_grids(session, area_code, current_day())]


def impact(session: Session, plan_id: int, target: int) -> dict[str, Any]:
    """Per grid before and after, and each building and open case that would change grid."""
    plan = plan_row(session, plan_id)
    grids = plan_grids(session, plan_id)
    points = _area_points(session, plan["area_code"], area_boundary(session, plan["area_code"]))
    today = current_grids(session, plan["area_code"])
    teams = [g.team_id for g in [*grids, *today] if g.team_id is not None]
    workers = _workers_by_team(session, teams)
    before = {x.code: x.as_dict() for x in balance(today, points["buildings"], points["open_cases"],
                                                 points["recent_cases"], workers, target)}
    after = {x.code: x.as_dict() for x in balance(grids, points["buildings"], points["open_cases"],
                                                points["recent_cases"], workers, target)}
    team_of = {g.code: g.team_id for g in grids}
    building_moves = [m.as_dict("building") for m in moves(grids, points["buildings"])]
    case_moves = [{**m.as_dict("case"), "to_team": team_of.get(m.after)}
                  for m in moves(grids, points["unfinished_cases"])]
    households = dict(zip(points["buildings"].ids, points["buildings"].households, strict=True))
    return {"plan": plan_id, "grids": before_after(before, after), "buildings": building_moves,
            "open_cases": case_moves, "households_moving": int(sum(households[m["id"]] for m in building_moves))}
