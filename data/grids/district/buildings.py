"""Buildings: where they stand, how many households, their addresses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

import numpy as np
import shapely

from district.constants import DISTRICT_NAME, HOLE_BUILDINGS, ROADS, Geom
from district.places import Building, Community, Gaps, Grid, Names, Street, eastness_of, household_density
from district.shapes import TO_GEO, random_points_in, to_metric

# -- buildings ---------------------------------------------------------------------------------


def household_target(area_m2: float, eastness: float, rng: np.random.Generator) -> int:
    """Households a grid should hold, from the density gradient; kept in a plannable range."""
    value = area_m2 / 1e6 * household_density(eastness) * rng.uniform(0.85, 1.15)
    return int(np.clip(value, 330, 1450))


def building_profile(eastness: float, rng: np.random.Generator) -> tuple[int, int]:
    """(floors, households): old walk-ups dominate the west, high-rises the eastern peninsula."""
    p_high = 0.03 + 0.20 * eastness**1.5
    p_mid = 0.14 + 0.14 * eastness
    roll = rng.random()
    if roll < p_high:  # towers: one or two cores, some floors offices or shops
        floors = int(rng.integers(19, 46))
        per_floor = int(rng.choice([2, 4, 4, 6]))
        occupied = rng.uniform(0.6, 0.95)
    elif roll < p_high + p_mid:
        floors = int(rng.integers(10, 19))
        per_floor = int(rng.choice([2, 4, 4, 6]))
        occupied = rng.uniform(0.75, 1.0)
    else:  # walk-ups: 1-3 stairwells (单元) of two flats per floor
        floors = int(rng.choice([3, 4, 5, 6, 6, 7, 7, 7, 8, 9]))
        per_floor = 2 * int(rng.choice([1, 1, 2, 2, 3]))
        occupied = rng.uniform(0.8, 1.0)
    households = int(np.clip(round(floors * per_floor * occupied), 10, 200))
    return floors, households


class Spacing:
    """Minimum distance between building points, with a hash of 20 m cells for speed."""

    def __init__(self, minimum: float) -> None:
        self.minimum = minimum
        self.cells: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def accept(self, x: float, y: float) -> bool:
        cx, cy = int(x // 20), int(y // 20)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for ox, oy in self.cells.get((cx + dx, cy + dy), ()):
                    if (ox - x) ** 2 + (oy - y) ** 2 < self.minimum**2:
                        return False
        self.cells.setdefault((cx, cy), []).append((x, y))
        return True


def place_points(area: Geom, rng: np.random.Generator, spacing: Spacing) -> Iterable[tuple[float, float]]:
    """Random points in an area that keep the minimum spacing; gives up after many failures."""
    failures = 0
    while failures < 4000:
        for x, y in random_points_in(area, 64, rng):
            if spacing.accept(float(x), float(y)):
                failures = 0
                yield float(x), float(y)
            else:
                failures += 1


class Addresses:
    """Road + number addresses, numbered per road within a street so every address is unique."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.next_number: dict[tuple[str, str], int] = {}

    def make(self, street: str, community: str, road: str) -> str:
        key = (street, road)
        number = self.next_number.get(key, int(self.rng.integers(1, 12)))
        self.next_number[key] = number + int(self.rng.integers(1, 4))
        return f"{DISTRICT_NAME}{street}{community}{road}{number}号"


def build_buildings(
    streets: list[Street],
    communities: list[Community],
    grids: list[Grid],
    gaps: Gaps,
    names: Names,
    rng: np.random.Generator,
) -> list[Building]:
    """Buildings per grid until its household target is met; ~20 more in the hole, outside every grid."""
    bounds = to_metric(shapely.union_all([s.geo for s in streets])).bounds
    spacing = Spacing(11.0)
    addresses = Addresses(rng)
    buildings: list[Building] = []

    def add(x: float, y: float, grid: int, c_index: int, roads: Sequence[str], eastness: float) -> int:
        community = communities[c_index]
        street = streets[community.street].name
        floors, households = building_profile(eastness, rng)
        road = roads[int(rng.integers(len(roads)))]
        lon, lat = (round(v, 7) for v in TO_GEO.transform(x, y))
        buildings.append(
            Building(
                x=lon, y=lat, grid=grid, community=c_index,
                address=addresses.make(street, community.name, road),
                households=households,
                residents=int(round(households * rng.uniform(2.4, 2.9))),
                floors=floors,
            )
        )
        return households

    for g_index in sorted(range(len(grids)), key=lambda i: grids[i].code):
        grid = grids[g_index]
        metric = to_metric(grid.geo)
        eastness = eastness_of(metric, bounds)
        target = household_target(metric.area, eastness, rng)
        pool = ROADS[streets[communities[grid.community].street].name]
        roads = [pool[int(i)] for i in rng.choice(len(pool), size=min(3, len(pool)), replace=False)]
        area = metric.buffer(-6)
        if g_index in gaps.overlap_grids:
            area = area.difference(gaps.patch.buffer(6))  # no building inside the overlap itself
        total = 0
        for x, y in place_points(area, rng, spacing):
            total += add(x, y, g_index, grid.community, roads, eastness)
            if total >= target:
                break
        else:
            raise RuntimeError(f"grid {grid.code}: ran out of room at {total}/{target} households")

    hole_pool = ROADS[streets[communities[gaps.hole_community].street].name]
    hole_roads = [hole_pool[0]]
    for x, y in islice(place_points(gaps.hole.buffer(-8), rng, Spacing(16.0)), HOLE_BUILDINGS):
        add(x, y, -1, gaps.hole_community, hole_roads, 0.1)

    def sort_key(b: Building) -> tuple[str, str, float]:
        return (communities[b.community].code, grids[b.grid].code if b.grid >= 0 else "~", b.x)

    buildings.sort(key=sort_key)
    for number, building in enumerate(buildings, start=1):
        building.code = f"B{number:06d}"
        if rng.random() < 0.5:
            building.party_group = f"{building.address.split('社区', 1)[1]}楼栋党小组"
            building.party_group_leader = names.person()
        if building.grid >= 0:
            grid = grids[building.grid]
            grid.households += building.households
            grid.residents += building.residents
            grid.buildings += 1
    return buildings
