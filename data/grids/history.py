"""Add a year of seeded, realistic case history and household visits to the loaded district.

    .venv/bin/gridmap sample
    .venv/bin/python data/grids/history.py [--seed N] [--days D] [--end ISO] [--rate R] [--replace]

Reports are drawn near the buildings of each grid (hotline, patrol, app … in plausible proportions, a
weekly rhythm, a seasonal swing), routed by the real rule (`CurrentGrids.assign`), then walked through
the workflow with plausible delays. Every step goes through `gis.workflow.check_transition` and is
written as one `case_event`, so the ledger can be rebuilt from the events alone. Deadlines are
`Category.deadline(first dispatch, default_calendar())`; late cases get the flags the overdue sweeper
would have set, with its events. About 1% of reports lie outside every grid (the sample's hole, just
outside the district edge): they stay unrouted (`grid_code` NULL) and are declined, filed by hand for
the community, or still waiting in the unrouted queue.

Generated cases carry the idempotency key `gridmap-history:<seed>:<n>`, generated visits a note starting
with `入户走访：`; `--replace` deletes exactly those before writing again.
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
import prcoords
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assignment import UNASSIGNED, assign_points
from gis.categories import Category, CategoryKind, HandlingRule
from gis.coords import to_wgs84_arrays
from gis.errors import Conflict
from gis.store.assign import CurrentGrids
from gis.store.bulk import copy_frame, ewkb_hex
from gis.store.distribution import UNPLACED_DISTRICT
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
Progress = Callable[[str], None]

# -- how many, when, from where --------------------------------------------------------------------

SOURCE_WEIGHTS: dict[Source, float] = {
    Source.hotline: 40, Source.patrol: 30, Source.resident: 15, Source.reception_day: 4,
    Source.work_day_visit: 4, Source.video: 4, Source.referral: 3,
}
OFF_DAY_SOURCE = {Source.patrol: 0.5, Source.reception_day: 0.0, Source.work_day_visit: 0.0,
                  Source.referral: 0.3, Source.resident: 1.3}
"""Source weights on days off: no reception days or work-day visits, fewer patrols, more app reports."""
OUTSIDE_SOURCES = (Source.hotline, Source.resident, Source.video, Source.referral)
WEEKDAY_VOLUME = (1.12, 1.02, 1.0, 1.0, 0.98, 0.6, 0.55)  # Monday … Sunday
HOLIDAY_VOLUME, MAKEUP_DAY_VOLUME = 0.5, 0.95
SEASON_SWING, SEASON_PEAK_DAY = 0.18, 205  # ±18 %, highest in late July (heat, noise, storms)
JITTER_DEG = 0.0001  # ~10 m around the building

HOURS: dict[Source, tuple[float, ...]] = {  # relative weight of each hour of the day, 0 … 23
    Source.hotline: (1, 0, 0, 0, 0, 0, 1, 3, 7, 10, 10, 9, 6, 6, 8, 9, 9, 8, 6, 6, 6, 5, 3, 2),
    Source.patrol: (0,) * 8 + (3, 9, 10, 8, 3, 2, 6, 9, 9, 6, 1) + (0,) * 5,
    Source.resident: (1, 1, 0, 0, 0, 0, 1, 3, 5, 6, 6, 5, 5, 5, 5, 5, 5, 5, 6, 8, 9, 8, 5, 2),
    Source.reception_day: (0,) * 9 + (8, 10, 7, 0, 0, 6, 8, 7, 3) + (0,) * 6,
    Source.work_day_visit: (0,) * 9 + (7, 10, 8, 0, 0, 5, 9, 8, 4) + (0,) * 6,
    Source.video: (1, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 4, 3, 2),
    Source.referral: (0,) * 9 + (8, 10, 8, 2, 1, 8, 10, 8, 3) + (0,) * 6,
}

CATEGORY_WEIGHTS: dict[str, float] = {  # per mille before the source affinity; unlisted categories: 10
    "exposed_rubbish": 90, "accumulated_waste": 40, "street_uncleanliness": 60, "green_space_litter": 30,
    "abandoned_furniture": 30, "illegal_structure": 20, "illegal_flyers": 50, "illegal_outdoor_advert": 15,
    "construction_nuisance": 30, "construction_dust": 15, "unpermitted_road_works": 10,
    "street_vending": 40, "out_of_shop_trading": 40, "sidewalk_clutter": 40, "road_collapse": 2,
    "burst_water_main": 3, "street_flooding": 4, "fallen_tree": 3, "animal_carcass": 5,
    "manhole_cover_missing": 3, "manhole_cover_damaged": 15, "street_light_out": 30,
    "road_surface_damaged": 20, "traffic_sign_damaged": 8, "litter_bin_damaged": 10,
    "public_toilet_fault": 8, "street_tree_damaged": 10, "dangerous_building": 5, "neighbour_dispute": 70,
    "property_management_dispute": 50, "elderly_assistance": 30, "hardship_assistance": 20,
    "policy_consultation": 80, "complaint": 50, "noise_complaint": 60,
}
SUMMER = {"street_flooding": 3.5, "fallen_tree": 3.0, "noise_complaint": 1.4, "construction_nuisance": 1.3}
"""Extra weight from May to September (storms, heat, open windows)."""
_U, _C, _L = CategoryKind.urban_event, CategoryKind.component, CategoryKind.livelihood
AFFINITY: dict[Source, dict[CategoryKind, float]] = {
    Source.hotline: {_U: 0.7, _C: 0.9, _L: 1.8},
    Source.patrol: {_U: 2.2, _C: 1.4, _L: 0.25},
    Source.resident: {_U: 1.1, _C: 1.2, _L: 1.0},
    Source.reception_day: {_U: 0.3, _C: 0.3, _L: 3.5},
    Source.work_day_visit: {_U: 0.4, _C: 0.5, _L: 3.0},
    Source.video: {_U: 3.0, _C: 0.6, _L: 0.0},
    Source.referral: {_U: 0.6, _C: 0.8, _L: 2.0},
}
"""What each channel mostly brings: patrols and cameras see the street, hotline and reception days hear
disputes, consultations and complaints."""

# -- how cases go ----------------------------------------------------------------------------------

DECLINE_SHARE, REJECT_SHARE, REASSIGN_SHARE = 0.03, 0.008, 0.02  # reassign: of component cases
RATED_SHARE, RERATED_SHARE = 0.72, 0.4
UNSATISFIED_FIRST, UNSATISFIED_AGAIN, BASICALLY_SATISFIED = 0.055, 0.25, 0.13
SLOW_SHARE, STUCK_SHARE, STUCK_WORKING_DAYS = 0.03, 0.055, 150
HARD_CASES = {"illegal_structure": 4, "property_management_dispute": 3, "dangerous_building": 3,
              "complaint": 2.5, "neighbour_dispute": 2, "illegal_outdoor_advert": 2,
              "unpermitted_road_works": 2, "road_surface_damaged": 2, "noise_complaint": 1.5}
"""How much likelier than the rest (0.6) a category is to get stuck for months."""
STRUGGLING_SHARE, STRUGGLING_LOAD = 0.04, 500  # besides grids with a gap: households per worker over 500
STRUGGLING_SLOWER, STRUGGLING_STUCK, STRUGGLING_UNSATISFIED = 2.5, 2.5, 2.5

SURNAMES = "陈李张刘王杨黄周罗谭何吴邓唐彭蒋徐胡赵冉"
DEPARTMENTS = {"公用设施": "utilities", "道路交通": "roads", "市容环境": "sanitation",
               "园林绿化": "greening", "房屋土地": "housing"}
DECLINE_REASONS = ("重复上报，已并入同一位置的在办案件", "经现场核实，反映的问题不存在",
                   "不属于网格受理范围，已告知反映人通过司法途径解决",
                   "信息不全且无法联系反映人，无法核实")
OUTSIDE_DECLINE = "位置不在本区范围内，已告知反映人向所在区反映"
REJECT_REASONS = ("核查发现问题仍存在，退回重新处置", "处置照片与现场不符，退回返工",
                  "反馈内容不完整，退回补充处置")
UNSATISFIED_NOTE = "反映人对处理结果不满意，重新处置"
HANDLE_NOTES = {_U: "已清理整改完毕，已向反映人反馈", _C: "权属单位已修复，已向反映人反馈",
                _L: "已上门沟通协调，已向反映人反馈"}
VISIT_TOPICS = ("了解家庭情况", "政策宣传", "独居老人关怀", "安全隐患排查", "矛盾纠纷排查",
                "人口信息核对", "反诈宣传", "垃圾分类宣传", "困难家庭回访", "征求意见建议")


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
    """Everything read from the database, in a fixed order (so a seed gives the same history)."""

    grids: list[GridInfo]
    buildings: pd.DataFrame  # code, address, households, grid_code, lon, lat, id, district/street code
    communities: pd.DataFrame  # code, name, street_code, district_code, polygon
    workers: pd.DataFrame  # grid_code, person_id, from_date, to_date of every grid worker
    current: CurrentGrids
    by_id: dict[int, GridInfo] = field(init=False)
    by_code: dict[str, GridInfo] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {g.id: g for g in self.grids}
        self.by_code = {g.code: g for g in self.grids}


def _frame_of(session: Session, sql: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(text(sql)).all(), columns=columns)


def _load_places(session: Session) -> Places:
    grids = [
        GridInfo(*r[:7], shapely.from_wkb(bytes(r[7]))) for r in session.execute(text(
            "SELECT g.id, g.code, c.code, g.street_code, g.district_code, t.id, b.id, ST_AsBinary(g.geom) "
            "FROM grid AS g JOIN community AS c ON c.id = g.community_id "
            "LEFT JOIN service_team AS t ON t.grid_code = g.code AND t.valid_to IS NULL "
            "LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code "
            "AND b.valid_to IS NULL WHERE g.valid_to IS NULL ORDER BY g.code"))
    ]
    shapely.prepare([g.polygon for g in grids])
    buildings = _frame_of(
        session, "SELECT b.code, b.address, b.households, g.code, ST_X(b.geom), ST_Y(b.geom), b.id, "
        "b.district_code, b.street_code FROM building AS b LEFT JOIN grid AS g ON g.id = b.grid_id "
        "ORDER BY b.code",
        ["code", "address", "households", "grid_code", "lon", "lat", "id", "district_code", "street_code"])
    communities = _frame_of(
        session, "SELECT code, name, street_code, district_code, ST_AsBinary(geom) FROM community "
        "ORDER BY code", ["code", "name", "street_code", "district_code", "polygon"])
    communities["polygon"] = shapely.from_wkb([bytes(g) for g in communities["polygon"]])
    workers = _frame_of(
        session, "SELECT t.grid_code, m.person_id, m.from_date, m.to_date FROM team_membership AS m "
        "JOIN service_team AS t ON t.id = m.team_id WHERE m.role = 'grid_worker' "
        "ORDER BY t.grid_code, m.from_date, m.person_id",
        ["grid_code", "person_id", "from_date", "to_date"])
    return Places(grids, buildings, communities, workers, CurrentGrids.load(session))


# -- drawing reports -------------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    """A case as reported, before it is routed and walked."""

    reported_at: datetime
    source: Source
    category: Category
    intended: str | None  # the grid it was drawn for (whose worker patrolled); None when drawn outside
    address: str
    lon: float  # where it is, WGS84
    lat: float


def _weights(values: list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def _pick(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One index per row of `cdf` (cumulative weights ending in 1)."""
    return np.minimum((rng.random(cdf.shape[0])[:, None] >= cdf).sum(axis=1), cdf.shape[1] - 1)


@dataclass(frozen=True)
class Odds:
    """Cumulative weights of sources (working day or not), hours and categories per source (summer or
    not) and grids; with each grid's buildings as arrays."""

    sources: list[Source]
    source_cdf: dict[bool, np.ndarray]
    hour_cdf: np.ndarray
    category_cdf: dict[bool, np.ndarray]
    grid_cdf: np.ndarray
    buildings: list[tuple[np.ndarray, np.ndarray, list[str]]]

    @classmethod
    def build(cls, places: Places, categories: list[Category]) -> Odds:
        sources = list(SOURCE_WEIGHTS)
        source_cdf = {working: np.cumsum(_weights(
            [SOURCE_WEIGHTS[s] * (1 if working else OFF_DAY_SOURCE.get(s, 1)) for s in sources]))
            for working in (True, False)}
        hour_cdf = np.cumsum([_weights(list(HOURS[s])) for s in sources], axis=1)
        category_cdf = {summer: np.cumsum([_weights([
            CATEGORY_WEIGHTS.get(c.code, 10) * AFFINITY[s][c.kind] * (SUMMER.get(c.code, 1) if summer else 1)
            for c in categories]) for s in sources], axis=1) for summer in (True, False)}
        frame = places.buildings
        by_grid = dict(tuple(frame[frame["grid_code"].notna()].groupby("grid_code")))
        households = [float(by_grid[g.code]["households"].sum()) if g.code in by_grid else 0.0
                      for g in places.grids]
        mean = max(float(np.mean(households)), 1.0)
        grid_cdf = np.cumsum(_weights([0.3 + (h / mean) ** 0.7 for h in households]))  # busier, sublinearly
        empty: tuple[np.ndarray, np.ndarray, list[str]] = (np.empty(0), np.empty(0), [])
        buildings = [(by_grid[g.code]["lon"].to_numpy(float), by_grid[g.code]["lat"].to_numpy(float),
                      list(by_grid[g.code]["address"])) if g.code in by_grid else empty for g in places.grids]
        return cls(sources, source_cdf, hour_cdf, category_cdf, grid_cdf, buildings)


def _day_volume(day: date, calendar: WorkCalendar) -> float:
    if day in calendar.holidays:
        weekly = HOLIDAY_VOLUME
    elif day in calendar.makeup_workdays:
        weekly = MAKEUP_DAY_VOLUME
    else:
        weekly = WEEKDAY_VOLUME[day.weekday()]
    phase = 2 * math.pi * (day.timetuple().tm_yday - SEASON_PEAK_DAY) / 365.25
    return weekly * (1 + SEASON_SWING * math.cos(phase))


def _draw_reports(
    rng: np.random.Generator, places: Places, categories: list[Category], calendar: WorkCalendar,
    start: datetime, end: datetime, rate: float, outside_share: float, progress: Progress,
) -> list[Report]:
    """Poisson counts per day, scaled so the mean is `rate` per grid per day; reported time order."""
    days = [start.date() + timedelta(days=i) for i in range((end.date() - start.date()).days + 1)]
    volume = np.array([_day_volume(d, calendar) for d in days])
    expected = rate * len(places.grids) * volume / volume.mean()
    odds = Odds.build(places, categories)
    spots = _outside_spots(rng, places)
    reports: list[Report] = []
    for number, (day, mean) in enumerate(zip(days, expected, strict=True)):
        count = int(rng.poisson(mean))
        if count:
            working = calendar.is_working_day(day)
            reports += _draw_day(rng, odds, places, categories, spots, day, working, count, outside_share)
        if number + 1 == len(days) or days[number + 1].month != day.month:
            progress(f"history: reports drawn to the end of {day:%Y-%m}: {len(reports):,}")
    reports.sort(key=lambda r: r.reported_at)
    return [r for r in reports if start <= r.reported_at <= end]


def _draw_day(
    rng: np.random.Generator, odds: Odds, places: Places, categories: list[Category],
    spots: list[tuple[float, float, str]], day: date, working: bool, count: int, outside_share: float,
) -> list[Report]:
    """`count` reports of one day. A report comes from a random building of its grid plus ~10 m of jitter
    (kept only if it stays in the grid), or from a point inside a grid without buildings."""
    source = _pick(rng, np.tile(odds.source_cdf[working], (count, 1)))
    outside = (rng.random(count) < outside_share) & bool(spots)
    swap = np.array([odds.sources.index(s) for s in OUTSIDE_SOURCES])
    source = np.where(outside, swap[rng.integers(len(swap), size=count)], source)
    hour, second = _pick(rng, odds.hour_cdf[source]), rng.integers(3600, size=count)
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
            reports.append(Report(at, src, cat, None, spots[spot[i]][2], *spots[spot[i]][:2]))
            continue
        info = places.grids[grid[i]]
        lons, lats, addresses = odds.buildings[grid[i]]
        if len(lons):
            b = int(which[i] * len(lons))
            lon, lat, address = lons[b] + jitter[i, 0], lats[b] + jitter[i, 1], f"{addresses[b]}附近"
            if not shapely.intersects_xy(info.polygon, lon, lat):  # for a point: not covered by the grid
                lon, lat, address = lons[b], lats[b], addresses[b]
        else:
            inner = shapely.point_on_surface(info.polygon)
            lon, lat, address = inner.x, inner.y, ""
        reports.append(Report(at, src, cat, info.code, address, float(lon), float(lat)))
    return reports


def _outside_spots(rng: np.random.Generator, places: Places) -> list[tuple[float, float, str]]:
    """Buildings outside every grid (the hole), and 40 points 20–150 m outside the outer edge of all grids."""
    hole = places.buildings[places.buildings["grid_code"].isna()]
    spots = [(float(r.lon), float(r.lat), str(r.address)) for r in hole.itertuples()]
    union = shapely.union_all([g.polygon for g in places.grids])
    edge = shapely.get_exterior_ring(max(shapely.get_parts(union), key=lambda part: part.area))
    wanted = len(spots) + 40
    while len(spots) < wanted:
        base = shapely.line_interpolate_point(edge, rng.random(), normalized=True)
        distance, angle = rng.uniform(0.0002, 0.0015), rng.uniform(0, 2 * math.pi)
        lon, lat = base.x + distance * math.cos(angle), base.y + distance * math.sin(angle)
        if not shapely.intersects(union, shapely.Point(lon, lat).buffer(0.00015)):
            spots.append((lon, lat, "区界附近，位置待核实"))
    return spots


# -- routing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Routed:
    """A report as stored: the position as given (apps use GCJ-02 or BD-09) and in WGS84, and who answers."""

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
    """Shift app positions into the app's datum and back as intake does, then route by the real rule;
    unrouted points keep the community around them, if any, else the nearest district (as
    `responsible_for` does; distances here in degrees, there geodesic: they differ only on near-ties)."""
    crs = np.where([r.source is Source.resident for r in reports],
                   np.where(rng.random(len(reports)) < 0.7, "gcj02", "bd09"), "wgs84")
    given = np.empty((len(reports), 2))
    for i, (report, system) in enumerate(zip(reports, crs, strict=True)):
        if system == "wgs84":
            given[i] = (report.lon, report.lat)
        else:
            forward = prcoords.wgs_gcj if system == "gcj02" else prcoords.wgs_bd
            shifted = forward(prcoords.Coords(report.lat, report.lon))
            given[i] = (shifted.lon, shifted.lat)
    given = np.round(given, 7)
    lon, lat = given[:, 0].copy(), given[:, 1].copy()
    for system in ("gcj02", "bd09"):
        mask = crs == system
        if mask.any():
            lon[mask], lat[mask] = to_wgs84_arrays(given[mask, 0], given[mask, 1], system)
    points = shapely.points(lon, lat)
    grid_ids = places.current.assign(points)["grid_id"].to_numpy(dtype=float, na_value=np.nan)
    around = assign_points(points, places.communities["polygon"].to_numpy(), list(places.communities["code"]))
    communities = list(places.communities[["code", "street_code", "district_code", "name"]].itertuples())
    routed = []
    for i in range(len(reports)):
        grid = None if np.isnan(grid_ids[i]) else places.by_id[int(grid_ids[i])]
        near = communities[around[i]] if around[i] != UNASSIGNED else None
        if grid is not None:
            keys = (grid.community_code, grid.street_code, grid.district_code)
        elif near is not None:
            keys = (near.code, near.street_code, near.district_code)
        else:
            keys = (None, None, _nearest_district(places, points[i]))
        routed.append(Routed(str(crs[i]), float(given[i, 0]), float(given[i, 1]), float(lon[i]),
                             float(lat[i]), grid, *keys, near.name if near else None))
    return routed


def _nearest_district(places: Places, point: shapely.Point) -> str:
    """The district of the community nearest to the point (a district is the union of its communities), ties
    to the smallest code; UNPLACED_DISTRICT without communities."""
    if places.communities.empty:
        return UNPLACED_DISTRICT
    distance = shapely.distance(places.communities["polygon"].to_numpy(), point)
    order = np.lexsort((places.communities["district_code"].to_numpy(), distance))
    return str(places.communities["district_code"].iloc[order[0]])


# -- walking the workflow --------------------------------------------------------------------------


@dataclass
class Ledger:
    """One case's row and events, moved only through `check_transition`; nothing happens after `end`."""

    row: dict[str, Any]
    end: datetime
    calendar: WorkCalendar
    category: Category
    status: CaseStatus = CaseStatus.reported
    events: list[dict[str, Any]] = field(default_factory=list)
    last: datetime = datetime.min.replace(tzinfo=UTC)

    def record(self, at: datetime, actor: str, action: str, before: CaseStatus | None, after: CaseStatus,
               note: str = "", data: dict | None = None, position: tuple[float, float] | None = None) -> dict:
        event = {"at": at, "actor": actor, "action": action, "from_status": before.value if before else None,
                 "to_status": after.value, "note": note, "position": position,
                 "data": json.dumps(data, ensure_ascii=False) if data else None,
                 "district_code": self.row["district_code"], "street_code": self.row["street_code"]}
        self.events.append(event)
        self.last = max(self.last, at)
        return event

    def step(self, action: Action, at: datetime, actor: str, *, reason: str | None = None,
             satisfaction: Satisfaction | None = None, note: str = "", data: dict | None = None,
             position: tuple[float, float] | None = None) -> bool:
        """Take `action` at `at` (at least a minute after the previous event); False after `end`."""
        at = max(at, self.last + timedelta(minutes=1)).replace(microsecond=0)
        if at > self.end:
            return False
        move = check_transition(self.status, action, reason=reason, satisfaction=satisfaction)
        row = self.row
        row[move.timestamp_field] = at
        if move.counts_as_first_action and row[FIRST_ACTION_FIELD] is None:
            row[FIRST_ACTION_FIELD] = at
        if move.starts_clock and row["deadline"] is None:
            row["deadline"] = self.category.deadline(at, self.calendar)
        if move.increments_rework:
            row["rework_count"] += 1
        if move.satisfaction is not None:
            row["satisfaction"] = move.satisfaction.value
        if action is Action.decline:
            row["decline_reason"] = move.reason
        row["status"] = move.target.value
        self.record(at, actor, action.value, self.status, move.target,
                    " — ".join(p for p in (move.reason or "", note) if p), data, position)
        self.status = move.target
        return True


@dataclass
class Clock:
    """Delays. The command centre works 08:00–22:00 daily; handlers count working time (emergencies: 24×7)."""

    rng: random.Random
    calendar: WorkCalendar
    end: datetime

    def hours(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rng.gauss(0, sigma))

    def centre(self, at: datetime, hours: float, emergency: bool) -> datetime:
        """`hours` after `at`; what would fall in the night is picked up early next morning."""
        done = at + timedelta(hours=hours)
        local = done.astimezone(SHANGHAI)
        if emergency or 8 <= local.hour < 22:
            return done
        morning = (local if local.hour < 8 else local + timedelta(days=1)).replace(hour=8, minute=0, second=0)
        return morning + timedelta(minutes=self.rng.uniform(0, 90))

    def work(self, at: datetime, hours: float, emergency: bool) -> datetime:
        if emergency:
            return at + timedelta(hours=hours)
        earliest = at + timedelta(days=hours / 7)  # at most 7 working hours a day
        if earliest > self.end:  # beyond the history: no need to walk the calendar
            return earliest
        return self.calendar.add_working_time(at, TimeLimit(max(hours, 0.02), LimitUnit.working_hours))

    def allowed(self, dispatched: datetime, deadline: datetime, emergency: bool) -> float:
        """The hours the limit leaves, counted as the handler works (clock hours for emergencies)."""
        if emergency:
            return (deadline - dispatched).total_seconds() / 3600
        return self.calendar.working_time_between(dispatched, deadline).total_seconds() / 3600


@dataclass(frozen=True)
class Team:
    """How a grid's team works: its pace (1 = typical) and whether it struggles (late, stuck, disliked)."""

    speed: float = 1.0
    struggling: bool = False


def _teams(rng: random.Random, places: Places, end: datetime) -> dict[str | None, Team]:
    """Every grid's team; the grids with an organisational gap (no team, no branch, no serving grid worker,
    over 500 households per worker) and ~4% of the others struggle, so the grades spread."""
    day = end.date()
    serving: dict[str, int] = {}
    for w in places.workers.itertuples():
        if w.from_date <= day and (w.to_date is None or day <= w.to_date):
            serving[w.grid_code] = serving.get(w.grid_code, 0) + 1
    households = places.buildings.groupby("grid_code")["households"].sum()
    teams: dict[str | None, Team] = {None: Team()}
    for grid in places.grids:
        workers = serving.get(grid.code, 0)
        gap = (grid.team_id is None or grid.branch_id is None or not workers
               or households.get(grid.code, 0) > STRUGGLING_LOAD * workers)
        struggling = gap or rng.random() < STRUGGLING_SHARE
        speed = math.exp(rng.gauss(0, 0.3)) * (STRUGGLING_SLOWER if struggling else 1)
        teams[grid.code] = Team(speed, struggling)
    return teams


def _handling_hours(rng: random.Random, category: Category, allowed: float, team: Team) -> float:
    """Mostly well inside the limit (slower teams take longer), some late, and a few hard cases (illegal
    structures, property disputes …) stuck for months, some still open a year on."""
    draw = rng.random()
    stuck = 0.0 if category.emergency else STUCK_SHARE * HARD_CASES.get(category.code, 0.6)
    stuck *= STRUGGLING_STUCK if team.struggling else 1
    if draw < stuck:
        return min(STUCK_WORKING_DAYS * 7 * math.exp(rng.gauss(0, 1.2)), 400 * 7.0)
    if draw < stuck + SLOW_SHARE:
        return 1.4 * math.exp(rng.gauss(0, 0.45)) * allowed
    return 0.27 * math.exp(rng.gauss(0, 0.55)) * team.speed * allowed


def _walk(ledger: Ledger, report: Report, routed: Routed, clock: Clock, team: Team) -> None:
    """The case's life from report to wherever it stands at `end`."""
    rng, category, grid = clock.rng, report.category, routed.grid
    if grid is None:
        _walk_unrouted(ledger, report, routed, clock)
        return
    emergency = category.emergency
    if emergency:
        decided = report.reported_at + timedelta(minutes=rng.uniform(3, 15))
    else:
        decided = clock.centre(report.reported_at, clock.hours(0.35, 0.8), False)
    if rng.random() < DECLINE_SHARE:
        ledger.step(Action.decline, decided, CENTRE, reason=rng.choice(DECLINE_REASONS))
        return
    if not ledger.step(Action.file, decided, CENTRE):
        return
    delay = rng.uniform(0.03, 0.15) if emergency else clock.hours(0.3, 0.8)
    if not ledger.step(Action.dispatch, clock.centre(ledger.last, delay, emergency), CENTRE):
        return
    handler = f"worker-{grid.code}"
    if category.handling_rule is HandlingRule.owner_first:
        handler = f"department-{DEPARTMENTS.get(category.group_zh, 'owner')}"
        if rng.random() < REASSIGN_SHARE:
            department = f"{category.group_zh}养护单位"
            later = clock.centre(ledger.last, clock.hours(2, 0.6), emergency)
            if not ledger.step(Action.reassign, later, CENTRE, reason=f"权属单位有误，改派至{department}",
                               data={"from_grid": grid.code, "to_department": department}):
                return
            ledger.row["department"] = department
    _handle(ledger, report, routed, clock, handler, team)


def _walk_unrouted(ledger: Ledger, report: Report, routed: Routed, clock: Clock) -> None:
    """Unrouted reports wait in the district's queue (~2 days): outside the district they are declined,
    inside a community (the hole) they are filed by hand and dispatched to its residents' committee."""
    picked = clock.centre(report.reported_at, clock.hours(48, 1.1), False)
    if routed.community_code is None:
        ledger.step(Action.decline, picked, CENTRE, reason=OUTSIDE_DECLINE)
        return
    if not ledger.step(Action.file, picked, CENTRE, note="人工立案：位置不在任何网格内，交社区处置"):
        return
    committee = f"{routed.community_name}居委会"
    if ledger.step(Action.dispatch, clock.centre(ledger.last, clock.hours(0.5, 0.6), False), CENTRE,
                   data={"from_grid": None, "to_department": committee}):
        ledger.row["department"] = committee
        _handle(ledger, report, routed, clock, f"community-{routed.community_code}", Team())


def _handle(ledger: Ledger, report: Report, routed: Routed, clock: Clock, handler: str, team: Team) -> None:
    """Accept, handle, verify (or send back once), evaluate (or reopen), until done for good or `end`."""
    rng, category = clock.rng, report.category
    emergency = category.emergency
    start = ledger.row["dispatched_at"]
    allowed = clock.allowed(start, ledger.row["deadline"], emergency)
    first_work = _handling_hours(rng, category, allowed, team)
    unsatisfied = UNSATISFIED_FIRST * (STRUGGLING_UNSATISFIED if team.struggling else 1)
    evaluator = ledger.row["first_contact"] if report.source in (Source.hotline, Source.resident) else CENTRE
    evaluations = 0
    for round_ in range(4):  # at most: rejected once, then reopened by two evaluations
        delay = rng.uniform(0.08, 0.35) if emergency else clock.hours(min(0.5, 0.12 * allowed), 0.8)
        if not ledger.step(Action.accept, clock.work(ledger.last, delay, emergency), handler):
            return
        work = first_work if round_ == 0 else 0.5 * allowed * math.exp(rng.gauss(0, 0.5))
        handled = max(clock.work(start, work, emergency), ledger.last + timedelta(minutes=10))
        if not ledger.step(Action.handle, handled, handler, note=HANDLE_NOTES[category.kind],
                           position=(routed.lon, routed.lat)):
            return
        check = rng.uniform(0.15, 0.6) if emergency else clock.hours(min(0.6, 0.12 * allowed), 0.8)
        checked = clock.centre(ledger.last, check, emergency)
        if round_ == 0 and rng.random() < REJECT_SHARE:
            if not ledger.step(Action.reject, checked, CENTRE, reason=rng.choice(REJECT_REASONS)):
                return
            start = ledger.last
            continue
        if not ledger.step(Action.verify, checked, CENTRE):
            return
        if evaluations == 2 or rng.random() >= (RERATED_SHARE if evaluations else RATED_SHARE):
            return
        evaluations += 1
        rated = clock.centre(ledger.last, clock.hours(20, 0.8), False)
        if rng.random() < (UNSATISFIED_AGAIN if evaluations == 2 else unsatisfied):
            if not ledger.step(Action.evaluate_unsatisfied, rated, evaluator, note=UNSATISFIED_NOTE,
                               satisfaction=Satisfaction.unsatisfied):
                return
            start = ledger.last
            continue
        basic = rng.random() < BASICALLY_SATISFIED
        rating = Satisfaction.basically_satisfied if basic else Satisfaction.satisfied
        ledger.step(Action.evaluate_satisfied, rated, evaluator, satisfaction=rating)
        return


def _flag_overdue(ledger: Ledger, grace: timedelta) -> None:
    """What the overdue sweeper would have done: supervise when first open with the clock running past the
    deadline, escalate when still so `grace` later; each flag one event, as `sweep_overdue` writes it."""
    deadline = ledger.row["deadline"]
    found = _first_running(ledger, deadline) if deadline else None
    if found is None:
        return
    at, status, index = found
    ledger.row["supervised_at"] = at
    note = f"overdue since {deadline.isoformat()}: flagged for supervision"
    ledger.events.insert(index, _flag(ledger, at, "supervise", status, note))
    found = _first_running(ledger, max(deadline + grace, at))
    if found is None:
        return
    at, status, index = found
    ledger.row["escalated_at"] = at
    community = ledger.row["community_code"]
    note = f"still open {grace} after its deadline: escalated to community {community or '-'}"
    ledger.events.insert(index, _flag(ledger, at, "escalate", status, note, {"community_code": community}))


def _first_running(ledger: Ledger, since: datetime) -> tuple[datetime, CaseStatus, int] | None:
    """The first moment ≥ `since` (and ≤ end) the case is in a clock status; that status; the index where an
    event at that moment belongs."""
    events, status = ledger.events, CaseStatus.reported
    for index, event in enumerate(events):
        status = CaseStatus(event["to_status"])
        if status not in CLOCK_STATUSES:
            continue
        at = max(event["at"], since)
        if (at < events[index + 1]["at"]) if index + 1 < len(events) else (at <= ledger.end):
            return at, status, index + 1
    return None


def _flag(ledger: Ledger, at: datetime, action: str, status: CaseStatus, note: str,
          data: dict | None = None) -> dict[str, Any]:
    return {"at": at, "actor": "system", "action": action, "from_status": status.value,
            "to_status": status.value, "note": note, "position": None,
            "data": json.dumps(data, ensure_ascii=False) if data else None,
            "district_code": ledger.row["district_code"], "street_code": ledger.row["street_code"]}


def _case_row(n: int, seed: int, report: Report, routed: Routed, places: Places, rng: random.Random) -> dict:
    """The service_case row as reported; the walk fills in the rest."""
    grid, category, source = routed.grid, report.category, report.source
    intended = places.by_code.get(report.intended or "")
    first_contact = {
        Source.hotline: f"hotline-operator-{rng.randint(1, 12)}",
        Source.patrol: f"worker-{report.intended}",
        Source.work_day_visit: f"worker-{report.intended}",
        Source.resident: "resident-app",
        Source.reception_day: f"community-{intended.community_code if intended else routed.community_code}",
        Source.video: "video-centre",
        Source.referral: "district-referral",
    }[source]
    person = source in (Source.hotline, Source.resident, Source.reception_day, Source.work_day_visit)
    where = report.address or "辖区内"
    if category.kind is CategoryKind.livelihood:
        description = f"居民反映{category.name_zh}问题（{where}）"
    else:
        description = f"{category.name_zh}：{where}，请尽快处理"
    owner = category.handling_rule is HandlingRule.owner_first
    row: dict[str, Any] = dict.fromkeys(CASE_COLUMNS)
    row.update(
        source=source.value, category_code=category.code, description=description, address=report.address,
        reporter_name=f"{rng.choice(SURNAMES)}{rng.choice(('先生', '女士'))}" if person else None,
        reporter_contact=f"1390000{rng.randint(0, 9999):04d}" if person else None,
        position=(routed.lon, routed.lat), given_crs=routed.given_crs, given_lon=routed.given_lon,
        given_lat=routed.given_lat, grid_id=grid and grid.id, grid_code=grid and grid.code,
        community_code=routed.community_code, street_code=routed.street_code,
        district_code=routed.district_code, team_id=grid and grid.team_id, branch_id=grid and grid.branch_id,
        department=f"{category.group_zh}权属单位" if owner else None,  # as intake sets it
        first_contact=first_contact, created_by=first_contact, idempotency_key=f"{KEY_PREFIX}{seed}:{n}",
        status=CaseStatus.reported.value, reported_at=report.reported_at, rework_count=0,
    )
    return row


def _walk_all(
    reports: list[Report], routed: list[Routed], places: Places, calendar: WorkCalendar, *, seed: int,
    end: datetime, grace: timedelta, progress: Progress,
) -> tuple[list[dict], list[dict]]:
    """Every case's row, and all events in order (each with `case`, the index of its row)."""
    rng = random.Random(seed)
    clock = Clock(rng, calendar, end)
    teams = _teams(rng, places, end)
    rows: list[dict] = []
    events: list[dict] = []
    for n, (report, where) in enumerate(zip(reports, routed, strict=True)):
        row = _case_row(n, seed, report, where, places, rng)
        ledger = Ledger(row, end, calendar, report.category)
        code = row["grid_code"]
        note = f"routed to grid {code}" if code else "outside every grid: waiting in the unrouted queue"
        given = {"crs": where.given_crs, "lon": where.given_lon, "lat": where.given_lat}
        ledger.record(report.reported_at, row["first_contact"], "create", None, CaseStatus.reported, note,
                      {"source": row["source"], "category": row["category_code"], "grid_code": code,
                       "given": given}, (where.lon, where.lat))
        _walk(ledger, report, where, clock, teams[code])
        _flag_overdue(ledger, grace)
        row["updated_at"] = ledger.events[-1]["at"]  # the last event, a sweeper flag included
        rows.append(row)
        for event in ledger.events:
            event["case"] = n
        events += ledger.events
        if (n + 1) % 10000 == 0:
            progress(f"history: walked {n + 1:,} of {len(reports):,} cases")
    return rows, events


# -- household visits ------------------------------------------------------------------------------


def _draw_visits(
    rng: np.random.Generator, places: Places, calendar: WorkCalendar, start: datetime, end: datetime
) -> dict[str, list]:
    """Each building in a grid gets visits on a cycle of its own (~12 days; longer where workers carry more
    households, and much longer for a fifth of buildings: gated towers, absent owners), on working days,
    by a grid worker serving that day; a grid with no worker serving gets none."""
    staff: dict[str, list[tuple[int, date, date | None]]] = {}
    for w in places.workers.itertuples():
        staff.setdefault(w.grid_code, []).append((int(w.person_id), w.from_date, w.to_date))
    inside = places.buildings[places.buildings["grid_code"].notna()]
    households = inside.groupby("grid_code")["households"].sum()
    days = (start.date() + timedelta(days=i) for i in range((end - start).days + 2))
    working = {d for d in days if calendar.is_working_day(d)}
    span = (end - start).total_seconds() / 86400
    visits: dict[str, list] = {name: [] for name in VISIT_COLUMNS}
    for index, b in enumerate(inside.itertuples()):
        workers = staff.get(b.grid_code, [])
        if not workers:
            continue
        serving = sum(1 for *_, left in workers if left is None) or 1
        load = max(float(households[b.grid_code]) / (serving * 400), 0.5)
        cycle = 12 * math.exp(rng.normal(0, 0.45)) * (3.5 if rng.random() < 0.2 else 1) * load ** 0.7
        offsets = np.cumsum(rng.gamma(3, cycle / 3, size=int(span / cycle * 2) + 6)) - rng.uniform(0, cycle)
        for offset in offsets[(offsets >= 0) & (offsets < span)]:
            day = (start + timedelta(days=float(offset))).date()
            while day not in working and day < end.date() and rng.random() > 0.1:
                day += timedelta(days=1)
            active = [p for p, since, left in workers if since <= day and (left is None or day <= left)]
            morning = rng.random() < 0.5
            minute = int(rng.integers(9 * 60, 11 * 60 + 45) if morning else rng.integers(14 * 60, 17 * 60))
            at = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(minutes=minute)
            if not active or not start <= at <= end:
                continue
            visits["building_id"].append(int(b.id))
            visits["person_id"].append(active[index % len(active)])
            visits["visited_at"].append(at)
            visits["note"].append(VISIT_NOTE_PREFIX + VISIT_TOPICS[int(rng.integers(len(VISIT_TOPICS)))])
            visits["district_code"].append(b.district_code)
            visits["street_code"].append(b.street_code)
    return visits


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
    "evaluated_at": _TS, "first_action_at": _TS, "deadline": _TS, "supervised_at": _TS,
    "escalated_at": _TS, "decline_reason": "text", "rework_count": "integer", "satisfaction": "text",
    "updated_at": _TS,
}
EVENT_COLUMNS: dict[str, str] = {
    "seq": "bigint", "case_id": "bigint", "at": _TS, "actor": "text", "action": "text",
    "from_status": "text", "to_status": "text", "note": "text", "position": "geometry", "data": "jsonb",
    "district_code": "text", "street_code": "text",
}
VISIT_COLUMNS: dict[str, str] = {"building_id": "bigint", "person_id": "integer", "visited_at": _TS,
                                 "note": "text", "district_code": "text", "street_code": "text"}


def _points_hex(positions: list[tuple[float, float] | None]) -> list[str | None]:
    """Hex EWKB per position; None stays None (an empty CSV field, so NULL)."""
    present = [i for i, p in enumerate(positions) if p is not None]
    hexes: list[str | None] = [None] * len(positions)
    if present:
        for i, value in zip(present, ewkb_hex(shapely.points([positions[i] for i in present])), strict=True):
            hexes[i] = value
    return hexes


def _copy_insert(session: Session, table: str, columns: dict[str, str], values: dict[str, list],
                 order: str | None = None) -> None:
    """COPY into a staging table (object columns: ints stay ints, None is NULL), then one INSERT … SELECT;
    NOT NULL text columns take '' for an empty field, `seq` only orders the rows."""
    frame = pd.DataFrame({name: pd.Series(values[name], dtype=object) for name in columns})
    stage = f"history_{table}_stage"
    copy_frame(session, stage, ", ".join(f"{name} {kind}" for name, kind in columns.items()), frame)
    names = [name for name in columns if name != "seq"]
    select = [f"COALESCE({n}, '')" if n in ("note", "description", "address") else n for n in names]
    session.execute(text(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(select)} FROM {stage}"
                         + (f" ORDER BY {order}" if order else "")))


def _write_cases(session: Session, rows: list[dict], events: list[dict]) -> None:
    """Case ids come from the table's sequence, in report order; events keep their order through `seq`."""
    ids = session.execute(text("SELECT nextval(pg_get_serial_sequence('service_case', 'id')) "
                               "FROM generate_series(1, :n)"), {"n": len(rows)}).scalars().all()
    for row, case_id in zip(rows, sorted(ids), strict=True):
        row["id"] = case_id
    values = {name: [row[name] for row in rows] for name in CASE_COLUMNS}
    values["position"] = _points_hex(values["position"])
    _copy_insert(session, "service_case", CASE_COLUMNS, values)
    values = {name: [e.get(name) for e in events] for name in EVENT_COLUMNS}
    values["seq"] = list(range(len(events)))
    values["case_id"] = [rows[e["case"]]["id"] for e in events]
    values["position"] = _points_hex(values["position"])
    _copy_insert(session, "case_event", EVENT_COLUMNS, values, order="seq")


def _make_room(session: Session, replace: bool, progress: Progress) -> None:
    """Refuse to add to existing cases or generated visits unless replacing the generated history."""
    cases = session.execute(text("SELECT count(*) FROM service_case")).scalar_one()
    visits = session.execute(text("SELECT count(*) FROM visit WHERE note LIKE :p"),
                             {"p": VISIT_NOTE_PREFIX + "%"}).scalar_one()
    if not (cases or visits):
        return
    if not replace:
        raise Conflict(
            f"the database already holds {cases:,} cases and {visits:,} generated visits; pass --replace "
            f"(replace=True) to delete the generated history (cases keyed '{KEY_PREFIX}…', visits noted "
            f"'{VISIT_NOTE_PREFIX}…') and write it again", details={"cases": cases, "visits": visits})
    deleted = session.execute(text("DELETE FROM service_case WHERE idempotency_key LIKE :p"),
                              {"p": KEY_PREFIX + "%"}).rowcount
    removed = session.execute(text("DELETE FROM visit WHERE note LIKE :p"),
                              {"p": VISIT_NOTE_PREFIX + "%"}).rowcount
    progress(f"history: replacing: deleted {deleted:,} generated cases (with events), {removed:,} visits")


# -- the whole run ---------------------------------------------------------------------------------


def generate_history(
    session: Session, *, seed: int = 2026, end: datetime | None = None, days: int = 365,
    progress: Progress = print, cases_per_grid_day: float = 0.4, outside_share: float = 0.01,
    escalation_grace: timedelta = timedelta(hours=24), replace: bool = False,
) -> dict[str, Any]:
    """Write `days` of cases (with their events) ending at `end` (default now), and the visits of the same
    period, into the district already loaded. Same seed, end and places: same history. Returns counts and
    the DOMAIN.md measures over what was written (see `_summary`)."""
    started = time.perf_counter()
    end = (end or datetime.now(UTC)).astimezone(SHANGHAI).replace(microsecond=0)
    start = end - timedelta(days=days)
    _make_room(session, replace, progress)
    places = _load_places(session)
    if not places.grids:
        raise Conflict("no current grids: load a district first (gridmap sample)")
    calendar, rng = default_calendar(), np.random.default_rng(seed)
    progress(f"history: {days} days to {end:%Y-%m-%d %H:%M}, {len(places.grids)} grids, seed {seed}")
    reports = _draw_reports(rng, places, all_categories(session), calendar, start, end, cases_per_grid_day,
                            outside_share, progress)
    routed = _route(rng, places, reports)
    rows, events = _walk_all(reports, routed, places, calendar, seed=seed, end=end, grace=escalation_grace,
                             progress=progress)
    progress(f"history: writing {len(rows):,} cases and {len(events):,} events")
    _write_cases(session, rows, events)
    visits = _draw_visits(rng, places, calendar, start, end)
    progress(f"history: writing {len(visits['building_id']):,} household visits")
    _copy_insert(session, "visit", VISIT_COLUMNS, visits)
    summary = _summary(rows, len(events), visits, places, end)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    progress(f"history: done in {summary['seconds']} s")
    return summary


def _summary(rows: list[dict], events: int, visits: dict[str, list], places: Places, end: datetime) -> dict:
    """Counts and shares. Due = deadline passed by `end`; closure and on-time closure are over due cases;
    rework over handled; satisfaction = satisfied or basically satisfied / rated (latest rating)."""
    closed = {CaseStatus.closed.value, CaseStatus.evaluated.value}
    due = [r for r in rows if r["deadline"] is not None and r["deadline"] <= end]
    closed_due = [r for r in due if r["status"] in closed]
    rated = [r["satisfaction"] for r in rows if r["satisfaction"]]
    handled = [r for r in rows if r["handled_at"]]
    recent = {b for b, at in zip(visits["building_id"], visits["visited_at"], strict=True)
              if at > end - timedelta(days=30)}
    unrouted = [r for r in rows if r["grid_code"] is None]

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    return {
        "cases": len(rows), "events": events, "visits": len(visits["building_id"]),
        "unrouted": len(unrouted), "unrouted_waiting": sum(r["status"] == "reported" for r in unrouted),
        "declined": sum(r["status"] == CaseStatus.declined.value for r in rows),
        "open": sum(r["status"] not in closed and r["status"] != CaseStatus.declined.value for r in rows),
        "due": len(due), "closure_rate": share(len(closed_due), len(due)),
        "on_time_closure_rate": share(sum(r["closed_at"] <= r["deadline"] for r in closed_due), len(due)),
        "rework_rate": share(sum(r["rework_count"] > 0 for r in handled), len(handled)),
        "rated_share": share(len(rated), sum(r["closed_at"] is not None for r in rows)),
        "satisfaction": share(sum(s != Satisfaction.unsatisfied.value for s in rated), len(rated)),
        "supervised": sum(r["supervised_at"] is not None for r in rows),
        "escalated": sum(r["escalated_at"] is not None for r in rows),
        "buildings_visited_30d": share(len(recent), int(places.buildings["grid_code"].notna().sum())),
    }


# -- command line ----------------------------------------------------------------------------------


def _parse_end(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Generate into the configured database (GRIDMAP_DATABASE_URL, else the embedded cluster)."""
    from gis.errors import GridmapError
    from gis.settings import Settings
    from gis.store.database import open_database

    parser = argparse.ArgumentParser(description="Add seeded case history and household visits")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--end", type=_parse_end, help="last moment, ISO 8601 (naive: Asia/Shanghai)")
    parser.add_argument("--rate", type=float, default=0.4, help="cases per grid per day on average")
    parser.add_argument("--replace", action="store_true", help="delete the generated history first")
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
