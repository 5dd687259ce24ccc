"""Add a year of seeded, realistic case history and household visits to the loaded district.

Run after `gridmap sample`:  .venv/bin/python data/grids/history.py [--seed N] [--days D] [--end ISO] [--replace]

Every case is drawn near a building of a grid (hotline, patrol, app … in plausible proportions, with a
weekly rhythm and a seasonal swing), routed to its grid by the real rule (`CurrentGrids.assign`), then
walked through the workflow with plausible delays: every step is checked by `gis.workflow.check_transition`
and written as one `case_event`, so the ledger can be rebuilt from the events alone. Deadlines come from
`Category.deadline(dispatched_at, default_calendar())`; overdue cases get the flags the sweeper would set.
About 1% of reports lie outside every grid (the sample's hole, just outside the district edge): they are
kept unrouted (`grid_code` NULL), handled by hand or still waiting in the unrouted queue.

Generated cases carry the idempotency key `gridmap-history:<seed>:<n>` and generated visits a note
starting with `入户走访：`; `--replace` deletes exactly those before writing again.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assignment import UNASSIGNED, assign_points
from gis.categories import Category, CategoryKind, HandlingRule
from gis.coords import to_wgs84_arrays
from gis.errors import Conflict
from gis.store.assign import CurrentGrids
from gis.store.bulk import copy_frame, ewkb_hex
from gis.store.reference import all_categories
from gis.workcalendar import SHANGHAI, LimitUnit, TimeLimit, WorkCalendar, default_calendar
from gis.workflow import CLOCK_STATUSES, FIRST_ACTION_FIELD, Action, CaseStatus, Satisfaction, Source, check_transition

KEY_PREFIX = "gridmap-history:"
VISIT_NOTE_PREFIX = "入户走访："
CENTRE = "command-centre"
SYSTEM = "system"

# -- how much, when, from where --------------------------------------------------------------------

SOURCE_WEIGHTS: dict[Source, float] = {
    Source.hotline: 40, Source.patrol: 30, Source.resident: 15, Source.reception_day: 4,
    Source.work_day_visit: 4, Source.video: 4, Source.referral: 3,
}
OFF_DAY_SOURCE = {Source.patrol: 0.5, Source.reception_day: 0.0, Source.work_day_visit: 0.0,
                  Source.referral: 0.3, Source.resident: 1.3}
"""Source weight multipliers on days off: no reception days or work-day visits, fewer patrols."""
WEEKDAY_VOLUME = (1.12, 1.02, 1.0, 1.0, 0.98, 0.6, 0.55)  # Monday … Sunday
HOLIDAY_VOLUME, MAKEUP_DAY_VOLUME = 0.5, 0.95
SEASON_SWING, SEASON_PEAK_DAY = 0.18, 205  # ±18 %, highest in late July (heat, noise, storms)

HOURS: dict[Source, tuple[float, ...]] = {  # relative weight of each hour of the day, 0 … 23
    Source.hotline: (1, 0, 0, 0, 0, 0, 1, 3, 7, 10, 10, 9, 6, 6, 8, 9, 9, 8, 6, 6, 6, 5, 3, 2),
    Source.patrol: (0,) * 8 + (3, 9, 10, 8, 3, 2, 6, 9, 9, 6, 1) + (0,) * 5,
    Source.resident: (1, 1, 0, 0, 0, 0, 1, 3, 5, 6, 6, 5, 5, 5, 5, 5, 5, 5, 6, 8, 9, 8, 5, 2),
    Source.reception_day: (0,) * 9 + (8, 10, 7, 0, 0, 6, 8, 7, 3) + (0,) * 6,
    Source.work_day_visit: (0,) * 9 + (7, 10, 8, 0, 0, 5, 9, 8, 4) + (0,) * 6,
    Source.video: (1, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 4, 3, 2),
    Source.referral: (0,) * 9 + (8, 10, 8, 2, 1, 8, 10, 8, 3) + (0,) * 6,
}

CATEGORY_WEIGHTS: dict[str, float] = {  # per mille, before the source affinity below
    "exposed_rubbish": 90, "accumulated_waste": 40, "street_uncleanliness": 60, "green_space_litter": 30,
    "abandoned_furniture": 30, "illegal_structure": 20, "illegal_flyers": 50, "illegal_outdoor_advert": 15,
    "construction_nuisance": 30, "construction_dust": 15, "unpermitted_road_works": 10, "street_vending": 40,
    "out_of_shop_trading": 40, "sidewalk_clutter": 40, "road_collapse": 2, "burst_water_main": 3,
    "street_flooding": 4, "fallen_tree": 3, "animal_carcass": 5, "manhole_cover_missing": 3,
    "manhole_cover_damaged": 15, "street_light_out": 30, "road_surface_damaged": 20, "traffic_sign_damaged": 8,
    "litter_bin_damaged": 10, "public_toilet_fault": 8, "street_tree_damaged": 10, "dangerous_building": 5,
    "neighbour_dispute": 70, "property_management_dispute": 50, "elderly_assistance": 30,
    "hardship_assistance": 20, "policy_consultation": 80, "complaint": 50, "noise_complaint": 60,
}
SUMMER = {"street_flooding": 3.5, "fallen_tree": 3.0, "noise_complaint": 1.4, "construction_nuisance": 1.3}
"""Extra weight from May to September (storms, heat, open windows)."""
AFFINITY: dict[Source, dict[CategoryKind, float]] = {
    Source.hotline: {CategoryKind.urban_event: 0.7, CategoryKind.component: 0.9, CategoryKind.livelihood: 1.8},
    Source.patrol: {CategoryKind.urban_event: 2.2, CategoryKind.component: 1.4, CategoryKind.livelihood: 0.25},
    Source.resident: {CategoryKind.urban_event: 1.1, CategoryKind.component: 1.2, CategoryKind.livelihood: 1.0},
    Source.reception_day: {CategoryKind.urban_event: 0.3, CategoryKind.component: 0.3,
                           CategoryKind.livelihood: 3.5},
    Source.work_day_visit: {CategoryKind.urban_event: 0.4, CategoryKind.component: 0.5,
                            CategoryKind.livelihood: 3.0},
    Source.video: {CategoryKind.urban_event: 3.0, CategoryKind.component: 0.6, CategoryKind.livelihood: 0.0},
    Source.referral: {CategoryKind.urban_event: 0.6, CategoryKind.component: 0.8, CategoryKind.livelihood: 2.0},
}
OUTSIDE_SOURCES = (Source.hotline, Source.resident, Source.video, Source.referral)
JITTER_DEG = 0.0001  # ~10 m around the building

# -- how cases go ----------------------------------------------------------------------------------

DECLINE_SHARE = 0.03
REJECT_SHARE = 0.008
REASSIGN_SHARE = 0.02  # of component cases: wrong owner, passed on
RATED_SHARE, RERATED_SHARE = 0.72, 0.4
UNSATISFIED_FIRST, UNSATISFIED_AGAIN, BASICALLY_SATISFIED = 0.065, 0.25, 0.13
SLOW_SHARE, STUCK_SHARE = 0.06, 0.035
"""Handling takes a fraction of the time limit: most well inside it, some late, a few stuck for long."""

SURNAMES = "陈李张刘王杨黄周罗谭何吴邓唐彭蒋徐胡赵冉"
DEPARTMENTS = {"公用设施": "utilities", "道路交通": "roads", "市容环境": "sanitation", "园林绿化": "greening",
               "房屋土地": "housing"}
DECLINE_REASONS = ("重复上报，已并入同一位置的在办案件", "经现场核实，反映的问题不存在",
                   "不属于网格受理范围，已告知反映人通过司法途径解决", "信息不全且无法联系反映人，无法核实")
OUTSIDE_DECLINE = "位置不在本区范围内，已告知反映人向所在区反映"
REJECT_REASONS = ("核查发现问题仍存在，退回重新处置", "处置照片与现场不符，退回返工", "反馈内容不完整，退回补充处置")
HANDLE_NOTES = {CategoryKind.urban_event: "已清理整改完毕，已向反映人反馈",
                CategoryKind.component: "权属单位已修复，已向反映人反馈",
                CategoryKind.livelihood: "已上门沟通协调，已向反映人反馈"}
VISIT_TOPICS = ("了解家庭情况", "政策宣传", "独居老人关怀", "安全隐患排查", "矛盾纠纷排查", "人口信息核对",
                "反诈宣传", "垃圾分类宣传", "困难家庭回访", "征求意见建议")


# -- places ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridInfo:
    """A current grid with who answers for it."""

    id: int
    code: str
    community_code: str
    street_code: str
    district_code: str
    team_id: int | None
    branch_id: int | None
    polygon: shapely.Geometry


@dataclass
class Places:
    """Everything the generator reads from the database, in a fixed order."""

    grids: list[GridInfo]
    grid_by_id: dict[int, GridInfo]
    buildings: pd.DataFrame  # code, address, households, grid_code, lon, lat, id
    communities: pd.DataFrame  # code, name, street_code, district_code, polygon
    workers: pd.DataFrame  # grid_code, person_id, from_date, to_date
    current: CurrentGrids


def _load_places(session: Session) -> Places:
    grids = [
        GridInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], shapely.from_wkb(bytes(r[7])))
        for r in session.execute(text(
            "SELECT g.id, g.code, c.code, g.street_code, g.district_code, t.id, b.id, ST_AsBinary(g.geom) "
            "FROM grid AS g JOIN community AS c ON c.id = g.community_id "
            "LEFT JOIN service_team AS t ON t.grid_code = g.code AND t.valid_to IS NULL "
            "LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code AND b.valid_to IS NULL "
            "WHERE g.valid_to IS NULL ORDER BY g.code"
        ))
    ]
    buildings = pd.DataFrame(session.execute(text(
        "SELECT b.code, b.address, b.households, g.code, ST_X(b.geom), ST_Y(b.geom), b.id, b.district_code, "
        "b.street_code FROM building AS b LEFT JOIN grid AS g ON g.id = b.grid_id ORDER BY b.code"
    )).all(), columns=["code", "address", "households", "grid_code", "lon", "lat", "id", "district_code",
                       "street_code"])
    communities = pd.DataFrame(session.execute(text(
        "SELECT code, name, street_code, district_code, ST_AsBinary(geom) FROM community ORDER BY code"
    )).all(), columns=["code", "name", "street_code", "district_code", "polygon"])
    communities["polygon"] = shapely.from_wkb([bytes(g) for g in communities["polygon"]])
    workers = pd.DataFrame(session.execute(text(
        "SELECT t.grid_code, m.person_id, m.from_date, m.to_date FROM team_membership AS m "
        "JOIN service_team AS t ON t.id = m.team_id WHERE m.role = 'grid_worker' "
        "ORDER BY t.grid_code, m.from_date, m.person_id"
    )).all(), columns=["grid_code", "person_id", "from_date", "to_date"])
    return Places(grids, {g.id: g for g in grids}, buildings, communities, workers, CurrentGrids.load(session))


# -- drawing reports -------------------------------------------------------------------------------


@dataclass
class Report:
    """A case as reported, before it is routed and walked."""

    reported_at: datetime
    source: Source
    category: Category
    intended: str | None  # the grid the report was drawn for (the patrolling worker's grid)
    address: str
    lon: float  # where it is, WGS84
    lat: float
    outside: bool


def _day_volume(day: date, calendar: WorkCalendar) -> float:
    if day in calendar.holidays:
        weekly = HOLIDAY_VOLUME
    elif day in calendar.makeup_workdays:
        weekly = MAKEUP_DAY_VOLUME
    else:
        weekly = WEEKDAY_VOLUME[day.weekday()]
    season = 1 + SEASON_SWING * math.cos(2 * math.pi * (day.timetuple().tm_yday - SEASON_PEAK_DAY) / 365.25)
    return weekly * season


def _weights(values: list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def _draw_reports(
    rng: np.random.Generator, places: Places, categories: list[Category], calendar: WorkCalendar,
    start: datetime, end: datetime, rate: float, outside_share: float, progress: Callable[[str], None],
) -> list[Report]:
    """Daily counts with a weekly rhythm and a seasonal swing; per report a source, hour, category, place."""
    days = [start.date() + timedelta(days=i) for i in range((end.date() - start.date()).days + 1)]
    volume = np.array([_day_volume(d, calendar) for d in days])
    expected = rate * len(places.grids) * volume / volume.mean()
    sources = list(SOURCE_WEIGHTS)
    grid_weights, grid_buildings = _grid_weights(places)
    outside_points = _outside_points(rng, places)
    reports: list[Report] = []
    month = None
    for day, lam in zip(days, expected, strict=True):
        working = calendar.is_working_day(day)
        source_p = _weights([SOURCE_WEIGHTS[s] * (1 if working else OFF_DAY_SOURCE.get(s, 1)) for s in sources])
        for _ in range(rng.poisson(lam)):
            source = sources[rng.choice(len(sources), p=source_p)]
            hour = rng.choice(24, p=_weights(list(HOURS[source])))
            at = datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI) + timedelta(
                seconds=int(rng.integers(3600)))
            if not start <= at <= end:
                continue
            outside = bool(rng.random() < outside_share) and len(outside_points) > 0
            if outside:
                source = OUTSIDE_SOURCES[rng.choice(len(OUTSIDE_SOURCES))]
            category = _pick_category(rng, categories, source, day)
            if outside:
                lon, lat, address = outside_points[rng.choice(len(outside_points))]
                intended = None
            else:
                grid = places.grids[rng.choice(len(places.grids), p=grid_weights)]
                lon, lat, address = _near_building(rng, grid, grid_buildings[grid.code])
                intended = grid.code
            reports.append(Report(at, source, category, intended, address, lon, lat, outside))
        if month != (day.year, day.month):
            if month is not None:
                progress(f"history: drawn reports up to {day:%Y-%m}: {len(reports):,}")
            month = (day.year, day.month)
    return reports


def _grid_weights(places: Places) -> tuple[np.ndarray, dict[str, pd.DataFrame]]:
    """Busier grids (more households) report more, sublinearly."""
    by_grid = {code: frame for code, frame in places.buildings.groupby("grid_code", sort=True)}
    households = [float(by_grid[g.code]["households"].sum()) if g.code in by_grid else 0.0 for g in places.grids]
    mean = max(np.mean(households), 1.0)
    weights = _weights([0.3 + (h / mean) ** 0.7 for h in households])
    empty = places.buildings.iloc[0:0]
    return weights, {g.code: by_grid.get(g.code, empty) for g in places.grids}


def _pick_category(rng: np.random.Generator, categories: list[Category], source: Source, day: date) -> Category:
    summer = 5 <= day.month <= 9
    weights = [
        CATEGORY_WEIGHTS.get(c.code, 10) * AFFINITY[source][c.kind] * (SUMMER.get(c.code, 1) if summer else 1)
        for c in categories
    ]
    return categories[rng.choice(len(categories), p=_weights(weights))]


def _near_building(rng: np.random.Generator, grid: GridInfo, buildings: pd.DataFrame) -> tuple[float, float, str]:
    """A random building of the grid plus ~10 m of jitter; a grid without buildings gets a point inside it."""
    if len(buildings):
        row = buildings.iloc[rng.choice(len(buildings))]
        lon, lat = row["lon"] + rng.normal(0, JITTER_DEG), row["lat"] + rng.normal(0, JITTER_DEG)
        if shapely.covers(grid.polygon, shapely.Point(lon, lat)):
            return float(lon), float(lat), f"{row['address']}附近"
        return float(row["lon"]), float(row["lat"]), str(row["address"])
    point = shapely.point_on_surface(grid.polygon)
    return point.x, point.y, ""


def _outside_points(rng: np.random.Generator, places: Places) -> list[tuple[float, float, str]]:
    """Buildings outside every grid (the hole), and 40 points 20–150 m outside the edge of all grids."""
    points = [(float(r.lon), float(r.lat), str(r.address))
              for r in places.buildings[places.buildings["grid_code"].isna()].itertuples()]
    union = shapely.union_all([g.polygon for g in places.grids])
    edges = shapely.get_exterior_ring(shapely.get_parts(union))
    ring = shapely.union_all(edges)
    while len(points) < 40 + len(places.buildings["grid_code"].isna().nonzero()[0]):
        base = shapely.line_interpolate_point(ring, rng.random(), normalized=True)
        if not isinstance(base, shapely.Point):
            base = shapely.get_point(base, 0)
        distance, angle = rng.uniform(0.0002, 0.0015), rng.uniform(0, 2 * math.pi)
        lon, lat = base.x + distance * math.cos(angle), base.y + distance * math.sin(angle)
        if not shapely.intersects(union, shapely.Point(lon, lat).buffer(0.00015)):
            points.append((lon, lat, "位置不详（区界附近）"))
    return points


# -- routing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routed:
    """Where a report ended up: its stored position (after the reporter's datum) and who answers."""

    given_crs: str
    given_lon: float
    given_lat: float
    lon: float
    lat: float
    grid: GridInfo | None
    community_code: str | None
    street_code: str | None
    district_code: str | None
    community_name: str | None


def _route(rng: np.random.Generator, places: Places, reports: list[Report]) -> list[Routed]:
    """Give each report the datum its channel uses (apps: GCJ-02 or BD-09), convert back as intake does, and
    route by the real rule; unrouted points keep the community around them when there is one."""
    import prcoords

    crs = []
    for report in reports:
        if report.source is Source.resident:
            crs.append("gcj02" if rng.random() < 0.7 else "bd09")
        else:
            crs.append("wgs84")
    given = np.empty((len(reports), 2))
    for i, (report, system) in enumerate(zip(reports, crs, strict=True)):
        if system == "wgs84":
            given[i] = (report.lon, report.lat)
        else:
            forward = prcoords.wgs_gcj if system == "gcj02" else prcoords.wgs_bd
            shifted = forward(prcoords.Coords(report.lat, report.lon))
            given[i] = (shifted.lon, shifted.lat)
    given = np.round(given, 7)
    lon, lat = np.empty(len(reports)), np.empty(len(reports))
    for system in ("wgs84", "gcj02", "bd09"):
        mask = np.array([c == system for c in crs], dtype=bool)
        if mask.any():
            lon[mask], lat[mask] = to_wgs84_arrays(given[mask, 0], given[mask, 1], system)
    points = shapely.points(lon, lat)
    grid_ids = places.current.assign(points)["grid_id"]
    around = assign_points(points, places.communities["polygon"].to_numpy(), list(places.communities["code"]))
    routed = []
    for i in range(len(reports)):
        grid = None if pd.isna(grid_ids[i]) else places.grid_by_id[int(grid_ids[i])]
        community = places.communities.iloc[around[i]] if around[i] != UNASSIGNED else None
        keys = (grid.community_code, grid.street_code, grid.district_code) if grid else (
            (community["code"], community["street_code"], community["district_code"])
            if community is not None else (None, None, None))
        name = str(community["name"]) if community is not None else None
        routed.append(Routed(crs[i], float(given[i, 0]), float(given[i, 1]), float(lon[i]), float(lat[i]), grid,
                             *keys, name))
    return routed


# -- walking the workflow --------------------------------------------------------------------------


@dataclass
class Ledger:
    """One case's row and its events, advanced only through `check_transition`; stops at `end`."""

    row: dict[str, Any]
    end: datetime
    calendar: WorkCalendar
    category: Category
    status: CaseStatus = CaseStatus.reported
    events: list[dict[str, Any]] = field(default_factory=list)
    last: datetime | None = None

    def event(self, at: datetime, actor: str, action: str, from_status: CaseStatus | None,
              to_status: CaseStatus | None, note: str = "", data: dict | None = None,
              position: tuple[float, float] | None = None) -> None:
        self.events.append({
            "at": at, "actor": actor, "action": action, "from_status": from_status.value if from_status else None,
            "to_status": to_status.value if to_status else None, "note": note, "position": position,
            "data": json.dumps(data, ensure_ascii=False) if data else None,
            "district_code": self.row["district_code"], "street_code": self.row["street_code"],
        })
        self.last = at

    def step(self, action: Action, at: datetime, actor: str, *, reason: str | None = None,
             satisfaction: Satisfaction | None = None, note: str = "", data: dict | None = None,
             position: tuple[float, float] | None = None) -> bool:
        """Take `action` at `at` (never before the previous event); False, and nothing done, after `end`."""
        at = max(at, self.last + timedelta(minutes=1)).replace(microsecond=0)
        if at > self.end:
            return False
        move = check_transition(self.status, action, reason=reason, satisfaction=satisfaction)
        self.row[move.timestamp_field] = at
        if move.counts_as_first_action and self.row[FIRST_ACTION_FIELD] is None:
            self.row[FIRST_ACTION_FIELD] = at
        if move.starts_clock and self.row["deadline"] is None:
            self.row["deadline"] = self.category.deadline(at, self.calendar)
        if move.increments_rework:
            self.row["rework_count"] += 1
        if move.satisfaction is not None:
            self.row["satisfaction"] = move.satisfaction.value
        if action is Action.decline:
            self.row["decline_reason"] = move.reason
        self.row["status"] = move.target.value
        self.event(at, actor, action.value, self.status, move.target,
                   " — ".join(p for p in (move.reason or "", note) if p), data, position)
        self.status = move.target
        return True


@dataclass
class Clock:
    """Delays: the command centre works 08:00–22:00 every day, handlers in working time (emergencies 24×7)."""

    rng: random.Random
    calendar: WorkCalendar

    def lognormal(self, median_hours: float, sigma: float) -> float:
        return median_hours * math.exp(self.rng.gauss(0, sigma))

    def centre(self, at: datetime, hours: float, emergency: bool) -> datetime:
        if not emergency:
            local = at.astimezone(SHANGHAI)
            if local.hour < 8:
                at = local.replace(hour=8, minute=0, second=0)
            elif local.hour >= 22:
                at = (local + timedelta(days=1)).replace(hour=8, minute=0, second=0)
        return at + timedelta(hours=hours)

    def work(self, at: datetime, hours: float, emergency: bool) -> datetime:
        if emergency:
            return at + timedelta(hours=hours)
        return self.calendar.add_working_time(at, TimeLimit(max(hours, 0.02), LimitUnit.working_hours))

    def limit_hours(self, dispatched: datetime, deadline: datetime, emergency: bool) -> float:
        """The time the limit allows, in the unit handlers work in (clock hours for emergencies)."""
        if emergency:
            return (deadline - dispatched).total_seconds() / 3600
        return self.calendar.working_time_between(dispatched, deadline).total_seconds() / 3600


def _share_of_limit(rng: random.Random, speed: float) -> float:
    """How much of its time limit handling takes: mostly well inside, some late, a few stuck for long."""
    draw = rng.random()
    if draw < STUCK_SHARE:
        return 6 * math.exp(rng.gauss(0, 0.9))
    if draw < STUCK_SHARE + SLOW_SHARE:
        return 1.4 * math.exp(rng.gauss(0, 0.45))
    return 0.33 * math.exp(rng.gauss(0, 0.55)) * speed


def _walk(ledger: Ledger, report: Report, routed: Routed, clock: Clock, speed: float) -> None:
    """The case's life from report to wherever it stands at `end`."""
    rng, emergency = clock.rng, report.category.emergency
    if routed.grid is None:
        _walk_unrouted(ledger, report, routed, clock)
        return
    decided = clock.centre(report.reported_at, clock.lognormal(0.35, 0.8), emergency) if not emergency else (
        report.reported_at + timedelta(minutes=rng.uniform(3, 15)))
    if rng.random() < DECLINE_SHARE:
        ledger.step(Action.decline, decided, CENTRE, reason=rng.choice(DECLINE_REASONS))
        return
    if not ledger.step(Action.file, decided, CENTRE):
        return
    delay = rng.uniform(0.03, 0.15) if emergency else clock.lognormal(0.3, 0.8)
    if not ledger.step(Action.dispatch, clock.centre(ledger.last, delay, emergency), CENTRE):
        return
    if report.category.handling_rule is HandlingRule.owner_first:
        handler = f"department-{DEPARTMENTS.get(report.category.group_zh, 'owner')}"
        if rng.random() < REASSIGN_SHARE:
            department = f"{report.category.group_zh}养护单位"
            reassigned = ledger.step(
                Action.reassign, clock.centre(ledger.last, clock.lognormal(2, 0.6), emergency), CENTRE,
                reason=f"权属单位有误，改派至{department}",
                data={"from_grid": routed.grid.code, "to_department": department})
            if not reassigned:
                return
            ledger.row["department"] = department
    else:
        handler = f"worker-{routed.grid.code}"
    _handle(ledger, report, routed, clock, handler, speed)


def _walk_unrouted(ledger: Ledger, report: Report, routed: Routed, clock: Clock) -> None:
    """Unrouted reports wait for someone in the district's queue: outside the district they are declined,
    inside a community (the hole) they are filed by hand and sent to the residents' committee."""
    picked = clock.centre(report.reported_at, clock.lognormal(48, 1.1), False)
    if routed.community_code is None:
        ledger.step(Action.decline, picked, CENTRE, reason=OUTSIDE_DECLINE)
        return
    if not ledger.step(Action.file, picked, CENTRE, note="人工立案：位置不在任何网格内，交社区处置"):
        return
    department = f"{routed.community_name}居委会"
    dispatched = ledger.step(Action.dispatch, clock.centre(ledger.last, clock.lognormal(0.5, 0.6), False), CENTRE,
                             data={"from_grid": None, "to_department": department})
    if dispatched:
        ledger.row["department"] = department
        _handle(ledger, report, routed, clock, f"community-{routed.community_code}", 1.0)


def _handle(ledger: Ledger, report: Report, routed: Routed, clock: Clock, handler: str, speed: float) -> None:
    """Accept, handle, verify (or send back), evaluate (or reopen), until closed for good or `end`."""
    rng, emergency = clock.rng, report.category.emergency
    kind = report.category.kind
    start = ledger.row["dispatched_at"]
    allowed = clock.limit_hours(start, ledger.row["deadline"], emergency)
    share = _share_of_limit(rng, speed)
    evaluations = 0
    for round_ in range(4):
        delay = rng.uniform(0.08, 0.35) if emergency else clock.lognormal(min(0.5, 0.12 * allowed), 0.8)
        if not ledger.step(Action.accept, clock.work(ledger.last, delay, emergency), handler):
            return
        work = share * allowed if round_ == 0 else 0.5 * allowed * math.exp(rng.gauss(0, 0.5))
        handled = max(clock.work(start, work, emergency), ledger.last + timedelta(minutes=10))
        if not ledger.step(Action.handle, handled, handler, note=HANDLE_NOTES[kind],
                           position=(routed.lon, routed.lat)):
            return
        check = rng.uniform(0.15, 0.6) if emergency else clock.lognormal(min(0.6, 0.12 * allowed), 0.8)
        checked = clock.centre(ledger.last, check, emergency)
        if round_ == 0 and rng.random() < REJECT_SHARE:
            if not ledger.step(Action.reject, checked, CENTRE, reason=rng.choice(REJECT_REASONS)):
                return
            start = ledger.last
            continue
        if not ledger.step(Action.verify, checked, CENTRE):
            return
        if evaluations >= 2 or rng.random() >= (RATED_SHARE if evaluations == 0 else RERATED_SHARE):
            return
        evaluations += 1
        rated = clock.centre(ledger.last, clock.lognormal(20, 0.8), False)
        evaluator = ledger.row["first_contact"] if report.source is Source.hotline else CENTRE
        if rng.random() < (UNSATISFIED_FIRST if evaluations == 1 else UNSATISFIED_AGAIN):
            if not ledger.step(Action.evaluate_unsatisfied, rated, evaluator, satisfaction=Satisfaction.unsatisfied,
                               note="反映人对处理结果不满意，重新处置"):
                return
            start = ledger.last
            continue
        rating = Satisfaction.basically_satisfied if rng.random() < BASICALLY_SATISFIED else Satisfaction.satisfied
        ledger.step(Action.evaluate_satisfied, rated, evaluator, satisfaction=rating)
        return


def _flag_overdue(ledger: Ledger, grace: timedelta) -> None:
    """The sweeper's flags: supervised when first seen open (clock running) past the deadline, escalated when
    still so `grace` later. Each flag is one event with the status it found."""
    deadline = ledger.row["deadline"]
    if deadline is None:
        return
    supervised = _first_running(ledger, deadline)
    if supervised is None:
        return
    at, status, index = supervised
    ledger.row["supervised_at"] = at
    ledger.events.insert(index, _flag_event(ledger, at, "supervise", status,
                                            f"overdue since {deadline.isoformat()}: flagged for supervision"))
    escalated = _first_running(ledger, max(deadline + grace, at))
    if escalated is None:
        return
    at, status, index = escalated
    ledger.row["escalated_at"] = at
    community = ledger.row["community_code"]
    ledger.events.insert(index, _flag_event(
        ledger, at, "escalate", status,
        f"still open {grace} after its deadline: escalated to community {community or '-'}",
        {"community_code": community}))


def _first_running(ledger: Ledger, since: datetime) -> tuple[datetime, CaseStatus, int] | None:
    """The first moment ≥ `since` (and ≤ end) the case is in a clock status, that status, and the index
    where an event at that moment goes."""
    events, status = ledger.events, CaseStatus.reported
    for index, event in enumerate(events):
        if event["to_status"]:
            status = CaseStatus(event["to_status"])
        if status not in CLOCK_STATUSES:
            continue
        at = max(event["at"], since)
        last = index + 1 == len(events)
        if (at <= ledger.end) if last else (at < events[index + 1]["at"]):
            return at, status, index + 1
    return None


def _flag_event(ledger: Ledger, at: datetime, action: str, status: CaseStatus, note: str,
                data: dict | None = None) -> dict[str, Any]:
    return {"at": at, "actor": SYSTEM, "action": action, "from_status": status.value, "to_status": status.value,
            "note": note, "position": None, "data": json.dumps(data, ensure_ascii=False) if data else None,
            "district_code": ledger.row["district_code"], "street_code": ledger.row["street_code"]}
