"""Reading the focus register (关爱对象): the households by name for those who keep them, overdue first, and
the counts per grid for every reader of the area (no name, door or phone in them).

Both add the caller's area in SQL (gis/store/area.py) on the building's grid, community and street; who may
call which is gis/permissions.py (`check_read_focus_people`, `check_read_focus_counts`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.focus import Category, priority
from gis.periods import district_today
from gis.permissions import Actor, Forbidden, area_of, check_read_focus_counts, check_read_focus_people
from gis.store.area import area_sql
from gis.store.focus import HOUSEHOLD_SQL, due_sql, household_json, load_household, paired_sql, state_of
from gis.store.vocabulary import current_sql

MAX_LIST = 2000
"""Households listed at once (a grid has a few dozen)."""


def _area(actor: Actor) -> tuple[str, dict[str, Any]]:
    return area_sql(area_of(actor), grid="g.code", community="m.code", street="coalesce(b.street_code, m.street_code)")


def list_households(session: Session, actor: Actor, *, grid: str | None = None, building: str | None = None,
                    gaps_only: bool = False, include_ended: bool = False, day: date | None = None,
                    limit: int = MAX_LIST) -> list[dict[str, Any]]:
    """The households in the caller's area (of one grid or building if given) by name: overdue first
    (longest overdue first), then unpaired, then by the next visit's due date (`gis.focus.priority`)."""
    check_read_focus_people(actor)
    today = day or district_today()
    where, params = _area(actor)
    conditions = [where]
    if not include_ended:
        conditions.append(current_sql("f"))
    if grid is not None:
        conditions.append("g.code = :grid")
    if building is not None:
        conditions.append("b.code = :building")
    rows = session.execute(text(HOUSEHOLD_SQL.format(where=" AND ".join(conditions)) + " ORDER BY f.id LIMIT :limit"),
                           {**params, "on": today, "grid": grid, "building": building, "limit": limit}
                           ).mappings().all()
    ranked = sorted(rows, key=lambda r: (priority(state_of(r), today), r["id"]))
    items = [household_json(r, today) for r in ranked]
    return [i for i in items if i["gap"]] if gaps_only else items


def read_household(session: Session, household_id: int, actor: Actor, *, day: date | None = None) -> dict[str, Any]:
    """One household by name, for a keeper whose area holds its building (else Forbidden)."""
    check_read_focus_people(actor)
    row = load_household(session, household_id)
    if not area_of(actor).covers(row["grid_code"], row["community_code"], row["street_code"]):
        raise Forbidden(f"focus household {household_id} is outside {actor.username!r}'s area")
    return household_json(row, day or district_today())


_SUMMARY_SQL = """
WITH households AS (
    SELECT g.code AS grid_code, f.category, {paired} AS paired, :on > {due} AS overdue
    FROM focus_household AS f
    JOIN building AS b ON b.id = f.building_id AND b.district_code = f.district_code
    JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code
    JOIN community AS m ON m.id = g.community_id
    LEFT JOIN LATERAL (SELECT max((v.visited_at AT TIME ZONE 'Asia/Shanghai')::date) AS last_visit FROM visit AS v
                       WHERE v.focus_household_id = f.id AND v.district_code = f.district_code) AS lv ON TRUE
    WHERE {current_f} AND {area}
)
SELECT grid_code, category, count(*) AS households, count(*) FILTER (WHERE NOT paired) AS unpaired,
       count(*) FILTER (WHERE overdue) AS overdue, count(*) FILTER (WHERE NOT paired OR overdue) AS gaps
FROM households
GROUP BY grid_code, category
ORDER BY grid_code, category
"""

COUNTS = ("households", "unpaired", "overdue", "gaps")


def summary(session: Session, actor: Actor, *, day: date | None = None) -> dict[str, Any]:
    """Per grid of the caller's area with focus households: households on the register, unpaired, overdue and
    gaps (unpaired or overdue, once each: the wall's `focus_gap`), and households per category. Counts only."""
    check_read_focus_counts(actor)
    today = day or district_today()
    where, params = area_sql(area_of(actor), grid="g.code", community="m.code", street="g.street_code")
    sql = _SUMMARY_SQL.format(paired=paired_sql("f"), due=due_sql("f"), current_f=current_sql("f"), area=where)
    grids: dict[str, dict[str, Any]] = {}
    for row in session.execute(text(sql), {**params, "on": today}).mappings():
        grid = grids.setdefault(row["grid_code"], {"grid_code": row["grid_code"], **dict.fromkeys(COUNTS, 0),
                                                   "categories": dict.fromkeys((c.value for c in Category), 0)})
        for key in COUNTS:
            grid[key] += int(row[key])
        grid["categories"][row["category"]] = int(row["households"])
    totals = {key: sum(g[key] for g in grids.values()) for key in COUNTS}
    return {"date": today.isoformat(), "grids": list(grids.values()), "totals": totals}

