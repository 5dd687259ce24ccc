"""Drawing reports: how many a day, when, from which channel, of which category, near which building."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import shapely

from gis.categories import Category, CategoryKind
from gis.sample import Progress
from gis.sample.places import Places
from gis.workcalendar import SHANGHAI, WorkCalendar
from gis.workflow import (
    Source,
)

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


def draw_reports(
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

