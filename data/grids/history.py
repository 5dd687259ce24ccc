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
from collections.abc import Callable
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
from gis.workflow import (
    CLOCK_STATUSES,
    FIRST_ACTION_FIELD,
    Action,
    CaseStatus,
    Satisfaction,
    Source,
    check_transition,
)

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
SLOW_SHARE, STUCK_SHARE, STUCK_WORKING_DAYS = 0.03, 0.065, 150
HARD_CASES = {"illegal_structure": 4, "property_management_dispute": 3, "dangerous_building": 3, "complaint": 2.5,
              "neighbour_dispute": 2, "illegal_outdoor_advert": 2, "unpermitted_road_works": 2,
              "road_surface_damaged": 2, "noise_complaint": 1.5}
"""How much likelier than the rest (0.6) a category is to get stuck for months."""

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
    shapely.prepare([g.polygon for g in grids])
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
    odds = _Odds.build(places, categories)
    spots = _outside_points(rng, places)
    reports: list[Report] = []
    for number, (day, lam) in enumerate(zip(days, expected, strict=True)):
        count = int(rng.poisson(lam))
        if count:
            reports.extend(_draw_day(rng, odds, places, categories, spots, day, calendar.is_working_day(day), count,
                                     outside_share))
        if number + 1 == len(days) or days[number + 1].month != day.month:
            progress(f"history: drawn reports to the end of {day:%Y-%m}: {len(reports):,}")
    return [r for r in reports if start <= r.reported_at <= end]


def _pick(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One index per row of `cdf` (cumulative weights, last column 1), or per draw for a single row."""
    u = rng.random(cdf.shape[0] if cdf.ndim == 2 else 1)
    if cdf.ndim == 1:
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    return np.minimum((u[:, None] >= cdf).sum(axis=1), cdf.shape[1] - 1)


@dataclass(frozen=True)
class _Odds:
    """Cumulative weights: sources (working day / day off), hours per source, categories per source and
    season, grids; and each grid's buildings as arrays."""

    sources: list[Source]
    source_cdf: dict[bool, np.ndarray]
    hour_cdf: np.ndarray
    category_cdf: dict[bool, np.ndarray]
    grid_cdf: np.ndarray
    buildings: list[tuple[np.ndarray, np.ndarray, list[str]]]

    @classmethod
    def build(cls, places: Places, categories: list[Category]) -> _Odds:
        sources = list(SOURCE_WEIGHTS)
        source_cdf = {
            working: np.cumsum(_weights([SOURCE_WEIGHTS[s] * (1 if working else OFF_DAY_SOURCE.get(s, 1))
                                         for s in sources]))
            for working in (True, False)
        }
        hour_cdf = np.cumsum([_weights(list(HOURS[s])) for s in sources], axis=1)
        category_cdf = {
            summer: np.cumsum([_weights([
                CATEGORY_WEIGHTS.get(c.code, 10) * AFFINITY[s][c.kind] * (SUMMER.get(c.code, 1) if summer else 1)
                for c in categories]) for s in sources], axis=1)
            for summer in (True, False)
        }
        frame = places.buildings
        by_grid = {code: part for code, part in frame[frame["grid_code"].notna()].groupby("grid_code")}
        households = [float(by_grid[g.code]["households"].sum()) if g.code in by_grid else 0.0
                      for g in places.grids]
        mean = max(float(np.mean(households)), 1.0)
        grid_cdf = np.cumsum(_weights([0.3 + (h / mean) ** 0.7 for h in households]))  # busier grids, sublinearly
        empty = (np.empty(0), np.empty(0), [])
        buildings = [
            (by_grid[g.code]["lon"].to_numpy(float), by_grid[g.code]["lat"].to_numpy(float),
             list(by_grid[g.code]["address"])) if g.code in by_grid else empty
            for g in places.grids
        ]
        return cls(sources, source_cdf, hour_cdf, category_cdf, grid_cdf, buildings)


def _draw_day(
    rng: np.random.Generator, odds: _Odds, places: Places, categories: list[Category],
    spots: list[tuple[float, float, str]], day: date, working: bool, count: int, outside_share: float,
) -> list[Report]:
    """`count` reports of one day. Positions: a random building of the grid plus ~10 m of jitter (kept only
    if it stays in the grid); a grid without buildings reports from a point inside it."""
    source = _pick(rng, np.tile(odds.source_cdf[working], (count, 1)))
    outside = (rng.random(count) < outside_share) & (len(spots) > 0)
    swap = np.array([odds.sources.index(s) for s in OUTSIDE_SOURCES])
    source = np.where(outside, swap[rng.integers(len(swap), size=count)], source)
    hour = _pick(rng, odds.hour_cdf[source])
    second = rng.integers(3600, size=count)
    category = _pick(rng, odds.category_cdf[5 <= day.month <= 9][source])
    grid = _pick(rng, np.tile(odds.grid_cdf, (count, 1)))
    which, jitter = rng.random(count), rng.normal(0, JITTER_DEG, size=(count, 2))
    spot = rng.integers(max(len(spots), 1), size=count)
    midnight = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    reports = []
    for i in range(count):
        at = midnight + timedelta(hours=int(hour[i]), seconds=int(second[i]))
        src, cat = odds.sources[source[i]], categories[category[i]]
        if outside[i]:
            lon, lat, address = spots[spot[i]]
            reports.append(Report(at, src, cat, None, address, lon, lat, True))
            continue
        info = places.grids[grid[i]]
        lons, lats, addresses = odds.buildings[grid[i]]
        if len(lons):
            b = int(which[i] * len(lons))
            lon, lat, address = lons[b] + jitter[i, 0], lats[b] + jitter[i, 1], f"{addresses[b]}附近"
            if not shapely.intersects_xy(info.polygon, lon, lat):  # for a point: covered by
                lon, lat, address = lons[b], lats[b], addresses[b]
        else:
            inner = shapely.point_on_surface(info.polygon)
            lon, lat, address = inner.x, inner.y, ""
        reports.append(Report(at, src, cat, info.code, address, float(lon), float(lat), False))
    return reports


def _outside_points(rng: np.random.Generator, places: Places) -> list[tuple[float, float, str]]:
    """Buildings outside every grid (the hole), and 40 points 20–150 m outside the edge of all grids."""
    points = [(float(r.lon), float(r.lat), str(r.address))
              for r in places.buildings[places.buildings["grid_code"].isna()].itertuples()]
    union = shapely.union_all([g.polygon for g in places.grids])
    edges = shapely.get_exterior_ring(shapely.get_parts(union))
    ring = shapely.union_all(edges)
    wanted = len(points) + 40
    while len(points) < wanted:
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
    grid_ids = places.current.assign(points)["grid_id"].to_numpy(dtype=float, na_value=np.nan)
    around = assign_points(points, places.communities["polygon"].to_numpy(), list(places.communities["code"]))
    communities = list(places.communities[["code", "street_code", "district_code", "name"]].itertuples(index=False))
    routed = []
    for i in range(len(reports)):
        grid = None if np.isnan(grid_ids[i]) else places.grid_by_id[int(grid_ids[i])]
        community = communities[around[i]] if around[i] != UNASSIGNED else None
        if grid is not None:
            keys = (grid.community_code, grid.street_code, grid.district_code)
        else:
            keys = (community.code, community.street_code, community.district_code) if community else (None,) * 3
        routed.append(Routed(crs[i], float(given[i, 0]), float(given[i, 1]), float(lon[i]), float(lat[i]), grid,
                             *keys, community.name if community else None))
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
        """`hours` after `at`; outside 08:00–22:00 the centre picks it up early next morning."""
        done = at + timedelta(hours=hours)
        local = done.astimezone(SHANGHAI)
        if emergency or 8 <= local.hour < 22:
            return done
        morning = (local if local.hour < 8 else local + timedelta(days=1)).replace(hour=8, minute=0, second=0)
        return morning + timedelta(minutes=self.rng.uniform(0, 40))

    def work(self, at: datetime, hours: float, emergency: bool) -> datetime:
        if emergency:
            return at + timedelta(hours=hours)
        return self.calendar.add_working_time(at, TimeLimit(max(hours, 0.02), LimitUnit.working_hours))

    def limit_hours(self, dispatched: datetime, deadline: datetime, emergency: bool) -> float:
        """The time the limit allows, in the unit handlers work in (clock hours for emergencies)."""
        if emergency:
            return (deadline - dispatched).total_seconds() / 3600
        return self.calendar.working_time_between(dispatched, deadline).total_seconds() / 3600


def _handling_hours(rng: random.Random, category: Category, allowed: float, speed: float) -> float:
    """How long handling takes: mostly well inside the limit, some late, and a few hard cases (illegal
    structures, property disputes …) stuck for months, some still open a year on."""
    draw = rng.random()
    stuck = 0.0 if category.emergency else STUCK_SHARE * HARD_CASES.get(category.code, 0.6)
    if draw < stuck:
        return min(STUCK_WORKING_DAYS * 7 * math.exp(rng.gauss(0, 1.2)), 400 * 7.0)
    if draw < stuck + SLOW_SHARE:
        return 1.4 * math.exp(rng.gauss(0, 0.45)) * allowed
    return 0.3 * math.exp(rng.gauss(0, 0.55)) * speed * allowed


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
    first_work = _handling_hours(rng, report.category, allowed, speed)
    evaluations = 0
    for round_ in range(4):
        delay = rng.uniform(0.08, 0.35) if emergency else clock.lognormal(min(0.5, 0.12 * allowed), 0.8)
        if not ledger.step(Action.accept, clock.work(ledger.last, delay, emergency), handler):
            return
        work = first_work if round_ == 0 else 0.5 * allowed * math.exp(rng.gauss(0, 0.5))
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
# -- one case --------------------------------------------------------------------------------------


def _case_row(n: int, seed: int, report: Report, routed: Routed, places: Places, rng: random.Random) -> dict:
    """The service_case row as reported (the walk fills in the rest)."""
    grid, category = routed.grid, report.category
    intended = next((g for g in places.grids if g.code == report.intended), None) if report.intended else None
    first_contact = {
        Source.hotline: f"hotline-operator-{rng.randint(1, 12)}",
        Source.patrol: f"worker-{report.intended}",
        Source.work_day_visit: f"worker-{report.intended}",
        Source.resident: "resident-app",
        Source.reception_day: f"community-{intended.community_code if intended else routed.community_code}",
        Source.video: "video-centre",
        Source.referral: "district-referral",
    }[report.source]
    person = report.source in (Source.hotline, Source.resident, Source.reception_day, Source.work_day_visit)
    where = report.address or "辖区内"
    description = (f"居民反映：{category.name_zh}（{where}）" if category.kind is CategoryKind.livelihood
                   else f"{where}{category.name_zh}，请尽快处理")
    row: dict[str, Any] = dict.fromkeys(CASE_COLUMNS)
    row.update(
        source=report.source.value, category_code=category.code, description=description, address=report.address,
        reporter_name=f"{rng.choice(SURNAMES)}{rng.choice(('先生', '女士'))}" if person else None,
        reporter_contact=f"1390000{rng.randint(0, 9999):04d}" if person else None,
        position=(routed.lon, routed.lat), given_crs=routed.given_crs, given_lon=routed.given_lon,
        given_lat=routed.given_lat, grid_id=grid.id if grid else None, grid_code=grid.code if grid else None,
        community_code=routed.community_code, street_code=routed.street_code, district_code=routed.district_code,
        team_id=grid.team_id if grid else None, branch_id=grid.branch_id if grid else None,
        department=f"{category.group_zh}权属单位" if category.handling_rule is HandlingRule.owner_first else None,
        first_contact=first_contact, created_by=first_contact, idempotency_key=f"{KEY_PREFIX}{seed}:{n}",
        status=CaseStatus.reported.value, reported_at=report.reported_at, rework_count=0,
    )
    return row


def _walk_all(
    reports: list[Report], routed: list[Routed], places: Places, calendar: WorkCalendar, *, seed: int,
    end: datetime, grace: timedelta, progress: Callable[[str], None],
) -> tuple[list[dict], list[dict]]:
    """Walk every case; returns the case rows and, per case, its events (with the case's index)."""
    rng = random.Random(seed)
    clock = Clock(rng, calendar)
    speed = {g.code: math.exp(rng.gauss(0, 0.3)) for g in places.grids}  # some teams are slower
    rows: list[dict] = []
    events: list[dict] = []
    for n, (report, where) in enumerate(zip(reports, routed, strict=True)):
        row = _case_row(n, seed, report, where, places, rng)
        ledger = Ledger(row, end, calendar, report.category)
        code = row["grid_code"]
        ledger.event(report.reported_at, row["first_contact"], "create", None, CaseStatus.reported,
                     f"routed to grid {code}" if code else "outside every grid: waiting in the unrouted queue",
                     {"source": row["source"], "category": row["category_code"], "grid_code": code,
                      "given": {"crs": where.given_crs, "lon": where.given_lon, "lat": where.given_lat}},
                     (where.lon, where.lat))
        _walk(ledger, report, where, clock, speed[code] if code else 1.0)
        _flag_overdue(ledger, grace)
        row["updated_at"] = ledger.events[-1]["at"]
        rows.append(row)
        events.extend({**event, "case": n} for event in ledger.events)
        if (n + 1) % 10000 == 0:
            progress(f"history: walked {n + 1:,} of {len(reports):,} cases")
    return rows, events


# -- household visits ------------------------------------------------------------------------------


def _draw_visits(
    rng: np.random.Generator, places: Places, calendar: WorkCalendar, start: datetime, end: datetime
) -> pd.DataFrame:
    """Each building gets its grid workers' visits on a cycle of its own (~12 days; a minority much longer:
    gated towers, busy workers); a day with no worker in the grid has no visit."""
    workers: dict[str, list[tuple[int, date, date | None]]] = {}
    for w in places.workers.itertuples():
        workers.setdefault(w.grid_code, []).append((int(w.person_id), w.from_date, w.to_date))
    inside = places.buildings[places.buildings["grid_code"].notna()]
    households = inside.groupby("grid_code")["households"].sum()
    working = {start.date() + timedelta(days=i) for i in range((end - start).days + 2)}
    working = {d for d in working if calendar.is_working_day(d)}
    out: dict[str, list] = {"building_id": [], "person_id": [], "visited_at": [], "note": [],
                            "district_code": [], "street_code": []}
    span = (end - start).total_seconds() / 86400
    for index, b in enumerate(inside.itertuples()):
        staff = workers.get(b.grid_code, [])
        if not staff:
            continue
        active_now = sum(1 for _, _, left in staff if left is None) or 1
        load = max(float(households[b.grid_code]) / (active_now * 400), 0.5)
        cycle = 12 * math.exp(rng.normal(0, 0.45)) * (3.5 if rng.random() < 0.2 else 1) * load ** 0.7
        gaps = rng.gamma(3, cycle / 3, size=int(span / cycle * 2) + 6)
        offsets = np.cumsum(gaps) - rng.uniform(0, cycle)
        for offset in offsets[(offsets >= 0) & (offsets < span)]:
            day = (start + timedelta(days=float(offset))).date()
            while day not in working and rng.random() > 0.1 and day < end.date():
                day += timedelta(days=1)
            active = [p for p, since, left in staff if since <= day and (left is None or day <= left)]
            if not active:
                continue
            minute = int(rng.choice((rng.integers(9 * 60, 11 * 60 + 45), rng.integers(14 * 60, 17 * 60 + 15))))
            at = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(minutes=minute)
            if not start <= at <= end:
                continue
            out["building_id"].append(int(b.id))
            out["person_id"].append(active[index % len(active)])
            out["visited_at"].append(at)
            out["note"].append(VISIT_NOTE_PREFIX + VISIT_TOPICS[rng.integers(len(VISIT_TOPICS))])
            out["district_code"].append(b.district_code)
            out["street_code"].append(b.street_code)
    return pd.DataFrame(out)


# -- writing ---------------------------------------------------------------------------------------

_TS = "timestamptz"
CASE_COLUMNS: dict[str, str] = {
    "id": "bigint", "source": "text", "category_code": "text", "description": "text", "address": "text",
    "reporter_name": "text", "reporter_contact": "text", "position": "geometry", "given_crs": "text",
    "given_lon": "float8", "given_lat": "float8", "grid_id": "integer", "grid_code": "text",
    "community_code": "text", "street_code": "text", "district_code": "text", "team_id": "integer",
    "branch_id": "integer", "department": "text", "first_contact": "text", "created_by": "text",
    "idempotency_key": "text", "status": "text", "reported_at": _TS, "filed_at": _TS, "declined_at": _TS,
    "dispatched_at": _TS, "accepted_at": _TS, "handled_at": _TS, "closed_at": _TS, "reworked_at": _TS,
    "evaluated_at": _TS, "first_action_at": _TS, "deadline": _TS, "supervised_at": _TS, "escalated_at": _TS,
    "decline_reason": "text", "rework_count": "integer", "satisfaction": "text", "updated_at": _TS,
}
EVENT_COLUMNS: dict[str, str] = {
    "seq": "bigint", "case_id": "bigint", "at": _TS, "actor": "text", "action": "text", "from_status": "text",
    "to_status": "text", "note": "text", "position": "geometry", "data": "jsonb", "district_code": "text",
    "street_code": "text",
}
VISIT_COLUMNS: dict[str, str] = {"building_id": "bigint", "person_id": "integer", "visited_at": _TS,
                                 "note": "text", "district_code": "text", "street_code": "text"}


def _frame(columns: dict[str, str], values: dict[str, list]) -> pd.DataFrame:
    """Object columns, so integers stay integers and None becomes an empty (NULL) CSV field."""
    return pd.DataFrame({name: pd.Series(values[name], dtype=object) for name in columns})


def _points_hex(positions: list[tuple[float, float] | None]) -> list[str | None]:
    present = [i for i, p in enumerate(positions) if p is not None]
    hexes: list[str | None] = [None] * len(positions)
    if present:
        encoded = ewkb_hex(shapely.points([positions[i] for i in present]))
        for i, value in zip(present, encoded, strict=True):
            hexes[i] = value
    return hexes


def _copy_insert(session: Session, table: str, columns: dict[str, str], frame: pd.DataFrame,
                 order: str | None = None, skip: tuple[str, ...] = ()) -> None:
    """COPY into a staging table, then one INSERT … SELECT (text NOT NULL columns take '' for empty)."""
    stage = f"history_{table}_stage"
    copy_frame(session, stage, ", ".join(f"{name} {kind}" for name, kind in columns.items()), frame)
    names = [name for name in columns if name not in skip]
    select = [f"COALESCE({n}, '')" if n in ("note", "description", "address") else n for n in names]
    session.execute(text(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(select)} FROM {stage}"
        + (f" ORDER BY {order}" if order else "")
    ))


def _write_cases(session: Session, rows: list[dict], events: list[dict]) -> None:
    ids = session.execute(text(
        "SELECT nextval(pg_get_serial_sequence('service_case', 'id')) FROM generate_series(1, :n)"
    ), {"n": len(rows)}).scalars().all()
    for row, case_id in zip(rows, sorted(ids), strict=True):
        row["id"] = case_id
    values = {name: [row[name] for row in rows] for name in CASE_COLUMNS}
    values["position"] = _points_hex(values["position"])
    _copy_insert(session, "service_case", CASE_COLUMNS, _frame(CASE_COLUMNS, values))
    event_values = {name: [e.get(name) for e in events] for name in EVENT_COLUMNS}
    event_values["seq"] = list(range(len(events)))
    event_values["case_id"] = [rows[e["case"]]["id"] for e in events]
    event_values["position"] = _points_hex(event_values["position"])
    _copy_insert(session, "case_event", EVENT_COLUMNS, _frame(EVENT_COLUMNS, event_values), order="seq",
                 skip=("seq",))


def _make_room(session: Session, replace: bool, progress: Callable[[str], None]) -> None:
    """Refuse to write over existing cases unless asked to replace the generated history."""
    cases = session.execute(text("SELECT count(*) FROM service_case")).scalar_one()
    visits = session.execute(text("SELECT count(*) FROM visit WHERE note LIKE :p"),
                             {"p": VISIT_NOTE_PREFIX + "%"}).scalar_one()
    if not (cases or visits):
        return
    if not replace:
        raise Conflict(
            f"the database already holds {cases:,} cases and {visits:,} generated visits; pass --replace "
            f"(replace=True) to delete the generated history (cases keyed '{KEY_PREFIX}…', visits noted "
            f"'{VISIT_NOTE_PREFIX}…') and write it again",
            details={"cases": cases, "visits": visits},
        )
    deleted = session.execute(text("DELETE FROM service_case WHERE idempotency_key LIKE :p"),
                              {"p": KEY_PREFIX + "%"}).rowcount
    removed = session.execute(text("DELETE FROM visit WHERE note LIKE :p"), {"p": VISIT_NOTE_PREFIX + "%"}).rowcount
    progress(f"history: replaced: deleted {deleted:,} generated cases (with their events) and {removed:,} visits")


# -- the whole run ---------------------------------------------------------------------------------


def generate_history(
    session: Session, *, seed: int = 2026, end: datetime | None = None, days: int = 365,
    progress: Callable[[str], None] = print, cases_per_grid_day: float = 0.4, outside_share: float = 0.01,
    escalation_grace: timedelta = timedelta(hours=24), replace: bool = False,
) -> dict[str, Any]:
    """Write `days` of case history ending at `end` (default now) and the visits of the same period.

    Deterministic for a seed, an end and the places in the database. Returns counts and shares.
    """
    started = time.perf_counter()
    end = (end or datetime.now(UTC)).astimezone(SHANGHAI).replace(microsecond=0)
    start = end - timedelta(days=days)
    _make_room(session, replace, progress)
    places = _load_places(session)
    if not places.grids:
        raise Conflict("no current grids: load a district first (gridmap sample)")
    calendar = default_calendar()
    rng = np.random.default_rng(seed)
    progress(f"history: {days} days to {end:%Y-%m-%d %H:%M}, {len(places.grids)} grids, seed {seed}")
    reports = _draw_reports(rng, places, all_categories(session), calendar, start, end, cases_per_grid_day,
                            outside_share, progress)
    reports.sort(key=lambda r: r.reported_at)
    routed = _route(rng, places, reports)
    rows, events = _walk_all(reports, routed, places, calendar, seed=seed, end=end, grace=escalation_grace,
                             progress=progress)
    progress(f"history: writing {len(rows):,} cases and {len(events):,} events")
    _write_cases(session, rows, events)
    visits = _draw_visits(rng, places, calendar, start, end)
    progress(f"history: writing {len(visits):,} household visits")
    _copy_insert(session, "visit", VISIT_COLUMNS, _frame(VISIT_COLUMNS, visits.to_dict("list")))
    summary = _summary(rows, len(events), visits, places, end)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    progress(f"history: done in {summary['seconds']} s")
    return summary


def _summary(rows: list[dict], events: int, visits: pd.DataFrame, places: Places, end: datetime) -> dict:
    """Counts and the measures DOMAIN.md names, over the generated cases (due = deadline passed by `end`)."""
    closed = {CaseStatus.closed.value, CaseStatus.evaluated.value}
    due = [r for r in rows if r["deadline"] is not None and r["deadline"] <= end]
    closed_due = [r for r in due if r["status"] in closed]
    on_time = [r for r in closed_due if r["closed_at"] <= r["deadline"]]
    rated = [r for r in rows if r["satisfaction"]]
    satisfied = [r for r in rated if r["satisfaction"] != Satisfaction.unsatisfied.value]
    handled = [r for r in rows if r["handled_at"]]
    recent = visits[visits["visited_at"] > end - timedelta(days=30)]["building_id"].nunique()
    in_grids = int(places.buildings["grid_code"].notna().sum())

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    return {
        "cases": len(rows), "events": events, "visits": len(visits),
        "unrouted": sum(1 for r in rows if r["grid_code"] is None),
        "unrouted_waiting": sum(1 for r in rows if r["grid_code"] is None and r["status"] == "reported"),
        "declined": sum(1 for r in rows if r["status"] == CaseStatus.declined.value),
        "open": sum(1 for r in rows if r["status"] not in closed | {CaseStatus.declined.value}),
        "due": len(due), "closure_rate": share(len(closed_due), len(due)),
        "on_time_closure_rate": share(len(on_time), len(due)),
        "rework_rate": share(sum(1 for r in handled if r["rework_count"]), len(handled)),
        "rated_share": share(len(rated), sum(1 for r in rows if r["closed_at"])),
        "satisfaction": share(len(satisfied), len(rated)),
        "supervised": sum(1 for r in rows if r["supervised_at"]),
        "escalated": sum(1 for r in rows if r["escalated_at"]),
        "buildings_visited_30d": share(recent, in_grids),
    }


# -- command line ----------------------------------------------------------------------------------


def _parse_end(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """`python data/grids/history.py`: generate into the configured database (GRIDMAP_DATABASE_URL or embedded)."""
    from gis.errors import GridmapError
    from gis.settings import Settings
    from gis.store.database import open_database

    parser = argparse.ArgumentParser(description="Add a year of seeded case history and visits to the district")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--end", type=_parse_end, help="last moment, ISO (naive = Asia/Shanghai); default now")
    parser.add_argument("--rate", type=float, default=0.4, help="cases per grid per day on average")
    parser.add_argument("--replace", action="store_true", help="delete the previously generated history first")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    database = open_database(settings)
    try:
        with database.session() as session:
            summary = generate_history(
                session, seed=args.seed, end=args.end, days=args.days, progress=_progress,
                cases_per_grid_day=args.rate, replace=args.replace,
                escalation_grace=timedelta(hours=settings.escalation_grace_hours))
    except GridmapError as error:
        print(f"history: {error}", file=sys.stderr)
        return 2
    finally:
        database.close()
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
