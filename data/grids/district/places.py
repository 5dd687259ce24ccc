"""Streets, communities and grids: the data model, cutting them, the deliberate gaps, numbering."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from district.constants import (
    COLUMN_WIDTH_DEG,
    COMMUNITY_NAMES,
    DISTRICT_CODE,
    GIVEN,
    SEGMENT_M,
    SNAP_DEG,
    STREETS,
    SURNAMES,
    TARGET_GRIDS,
    Geom,
    log,
)
from district.shapes import TO_METRIC, lloyd, merge_fragments, random_points_in, to_geo, voronoi_partition

# -- data model ---------------------------------------------------------------------------------


@dataclass
class Grid:
    """A grid while it is being built; `clean` is the metric cell, `geo` the final lon/lat polygon."""

    community: int
    clean: Geom
    geo: Geom = Polygon()
    code: str = ""
    name: str = ""
    seq: int = 0
    households: int = 0
    residents: int = 0
    buildings: int = 0


@dataclass
class Community:
    """A community; `grids` holds indexes into the global grid list."""

    street: int
    clean: Geom
    geo: Geom = Polygon()
    code: str = ""
    name: str = ""
    grids: list[int] = field(default_factory=list)
    party_secretary: str = ""
    party_members: int = 0


@dataclass
class Street:
    """A street (街道) with its real name and its communities (indexes into the global list)."""

    name: str
    code: str
    clean: Geom
    geo: Geom = Polygon()
    communities: list[int] = field(default_factory=list)


@dataclass
class Building:
    """A building point with its attributes; `grid` is -1 for a building outside every grid."""

    x: float
    y: float
    grid: int
    community: int
    address: str
    households: int
    residents: int
    floors: int
    party_group: str | None = None
    party_group_leader: str | None = None
    code: str = ""


class Names:
    """Unique synthetic Chinese personal names and clearly fake phone numbers (1380000xxxx)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.phones = 0

    def person(self) -> str:
        while True:
            surname = SURNAMES[int(self.rng.integers(len(SURNAMES)))]
            size = 2 if self.rng.random() < 0.72 else 1
            given = "".join(GIVEN[int(self.rng.integers(len(GIVEN)))] for _ in range(size))
            name = surname + given
            if name not in self.used:
                self.used.add(name)
                return name

    def phone(self) -> str:
        self.phones += 1
        if self.phones > 9999:
            raise RuntimeError("fake phone pattern exhausted")
        return f"1380000{self.phones:04d}"


# -- building the places ------------------------------------------------------------------------


def build_streets(outline_m: Geom) -> list[Street]:
    """The 12 streets: Voronoi of hand-placed seeds (real relative positions) clipped to the outline."""
    lonlat = np.array([(lon, lat) for _, lon, lat, _ in STREETS])
    x, y = TO_METRIC.transform(lonlat[:, 0], lonlat[:, 1])
    seeds = np.column_stack([x, y])
    if not all(outline_m.contains(Point(p)) for p in seeds):
        raise RuntimeError("a street seed lies outside the outline")
    cells = merge_fragments(voronoi_partition(outline_m, seeds))
    return [
        Street(name=name, code=f"{DISTRICT_CODE}{i + 1:03d}", clean=cell)
        for i, ((name, _, _, _), cell) in enumerate(zip(STREETS, cells, strict=True))
    ]


def build_communities(streets: list[Street], rng: np.random.Generator) -> list[Community]:
    """Communities per street: seeded points relaxed with Lloyd iterations, Voronoi clipped to the street."""
    communities: list[Community] = []
    for s_index, (street, (_, _, _, count)) in enumerate(zip(streets, STREETS, strict=True)):
        seeds = lloyd(street.clean, random_points_in(street.clean, count, rng), iterations=8)
        for cell in merge_fragments(voronoi_partition(street.clean, seeds)):
            street.communities.append(len(communities))
            communities.append(Community(street=s_index, clean=cell))
    return communities


def household_density(eastness: float) -> float:
    """Households per km²: ~3,500 on the western hills, ~20,000 in the 解放碑 CBD at the eastern tip."""
    return 3500 + 16500 * eastness**1.5


def eastness_of(geom: Geom, bounds: tuple[float, float, float, float]) -> float:
    """0 at the western end of the district, 1 at 朝天门 (metric x of the centroid)."""
    xmin, _, xmax, _ = bounds
    return float(np.clip((geom.centroid.x - xmin) / (xmax - xmin), 0, 1))


def grid_counts(communities: list[Community], bounds: tuple[float, float, float, float]) -> list[int]:
    """Grids per community (2..5) from its area weighted by household density, ~TARGET_GRIDS in all.

    Planners size grids by the households they serve, so a dense eastern community gets more, smaller
    grids than a hillside one of the same area.
    """
    weight = np.array([c.clean.area * household_density(eastness_of(c.clean, bounds)) for c in communities])
    low, high = weight.min() / 10, weight.max()
    for _ in range(60):  # bisection on the weight one grid stands for
        unit = (low + high) / 2
        if np.clip(np.rint(weight / unit), 2, 5).sum() > TARGET_GRIDS:
            low = unit
        else:
            high = unit
    return [int(n) for n in np.clip(np.rint(weight / high), 2, 5)]


def build_grids(
    communities: list[Community], bounds: tuple[float, float, float, float], rng: np.random.Generator
) -> list[Grid]:
    """Grids per community: the same seeded Voronoi + Lloyd recipe inside each community."""
    grids: list[Grid] = []
    counts = grid_counts(communities, bounds)
    for c_index, (community, count) in enumerate(zip(communities, counts, strict=True)):
        seeds = lloyd(community.clean, random_points_in(community.clean, count, rng), iterations=10)
        for cell in merge_fragments(voronoi_partition(community.clean, seeds)):
            community.grids.append(len(grids))
            grids.append(Grid(community=c_index, clean=cell))
    return grids


def shared_edges(grids: list[Grid], members: Sequence[int]) -> list[tuple[float, int, int, Geom]]:
    """Borders between pairs of grids of one community, longest first: (length, a, b, line)."""
    edges = []
    for pos, a in enumerate(members):
        for b in members[pos + 1 :]:
            line = shapely.intersection(grids[a].clean.buffer(0.01), grids[b].clean.boundary)
            line = shapely.line_merge(shapely.intersection(line, grids[a].clean.boundary.buffer(0.02)))
            if line.length > 1:
                edges.append((line.length, a, b, line))
    return sorted(edges, key=lambda e: (-e[0], e[1], e[2]))


def ring(centre: Point, radius: float, vertices: int, rng: np.random.Generator | None = None) -> Polygon:
    """A regular (or, with rng, slightly irregular) polygon around a centre."""
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    radii = np.full(vertices, radius) if rng is None else radius * rng.uniform(0.85, 1.12, vertices)
    return Polygon(np.column_stack([centre.x + radii * np.cos(angles), centre.y + radii * np.sin(angles)]))


@dataclass
class Gaps:
    """The deliberate spatial gaps, in metric coordinates."""

    hole: Polygon
    hole_community: int
    hole_grids: tuple[int, int]
    patch: Polygon
    overlap_grids: tuple[int, int]  # (grows, is overlapped)


def choose_gaps(
    streets: list[Street], communities: list[Community], grids: list[Grid], rng: np.random.Generator
) -> Gaps:
    """Place the hole (an unassigned hillside park, ~3 ha) and the small overlap (~300 m²).

    The hole goes on the border of two grids of a large western community, well inside it and touching
    no third grid; the overlap goes on the longest grid border of a community in 两路口街道.
    """
    west = {"化龙桥街道", "大坪街道", "石油路街道"}
    hole_candidates = sorted(
        (i for i, c in enumerate(communities) if streets[c.street].name in west and len(c.grids) >= 3),
        key=lambda i: -communities[i].clean.area,
    )
    hole: tuple[Polygon, int, int, int] | None = None
    for c_index in hole_candidates:
        community = communities[c_index]
        inner = community.clean.buffer(-60)
        for _, a, b, line in shared_edges(grids, community.grids):
            centre = line.interpolate(0.5, normalized=True)
            shape_ = ring(centre, 100.0, 14, rng)
            others = [g for g in community.grids if g not in (a, b)]
            clear = not any(shape_.buffer(25).intersects(grids[g].clean) for g in others)
            if inner.contains(shape_) and clear:
                hole = (shape_, c_index, a, b)
                break
        if hole:
            break
    if hole is None:
        raise RuntimeError("no place for the deliberate hole")
    overlap_candidates = [
        i for i, c in enumerate(communities) if streets[c.street].name == "两路口街道" and len(c.grids) >= 2
    ]
    _, a, b, line = shared_edges(grids, communities[overlap_candidates[0]].grids)[0]
    patch = ring(line.interpolate(0.5, normalized=True), 14.0, 16)
    return Gaps(hole[0], hole[1], (hole[2], hole[3]), patch, (a, b))


def snap_faces(outline: Geom, grids: list[Grid], gaps: Gaps) -> list[Polygon]:
    """Node every boundary on the 1e-7 degree grid (snap rounding) and polygonize into faces.

    This is what makes shared edges identical: a vertex where one grid's border meets another's
    straight edge becomes a vertex of both.
    """
    lines = [shapely.boundary(outline)]
    lines += [to_geo(shapely.segmentize(shapely.boundary(g.clean), SEGMENT_M)) for g in grids]
    lines += [to_geo(gaps.hole.exterior), to_geo(gaps.patch.exterior)]
    noded = shapely.union_all(lines, grid_size=SNAP_DEG)
    faces = list(shapely.polygonize(list(getattr(noded, "geoms", [noded]))).geoms)
    return [f for f in faces if outline.covers(f.point_on_surface())]


def assemble(
    outline: Geom, streets: list[Street], communities: list[Community], grids: list[Grid], gaps: Gaps
) -> None:
    """Give each face to its grid (none in the hole, two in the overlap) and union faces per place."""
    faces = snap_faces(outline, grids, gaps)
    clean_geo = [to_geo(g.clean) for g in grids]
    tree = shapely.STRtree(clean_geo)
    hole_geo, patch_geo = to_geo(gaps.hole), to_geo(gaps.patch)
    grid_faces: list[list[Polygon]] = [[] for _ in grids]
    community_faces: list[list[Polygon]] = [[] for _ in communities]
    for face in faces:
        probe = face.point_on_surface()
        hits = [int(i) for i in tree.query(probe, predicate="intersects")]
        if len(hits) != 1:
            candidates = [int(i) for i in tree.query(face)] or list(range(len(grids)))
            hits = [max(candidates, key=lambda i: shapely.intersection(clean_geo[i], face).area)]
        base = hits[0]
        community_faces[grids[base].community].append(face)
        if hole_geo.contains(probe):
            continue
        grid_faces[base].append(face)
        if base == gaps.overlap_grids[1] and patch_geo.contains(probe):
            grid_faces[gaps.overlap_grids[0]].append(face)
    for grid, own in zip(grids, grid_faces, strict=True):
        grid.geo = _one_piece(shapely.coverage_union_all(own), "grid")
    for community, own in zip(communities, community_faces, strict=True):
        community.geo = _one_piece(shapely.coverage_union_all(own), "community")
    for street in streets:
        street.geo = _one_piece(
            shapely.coverage_union_all([communities[i].geo for i in street.communities]), "street"
        )
    log(f"snap-rounded {len(faces)} faces into {len(grids)} grids, {len(communities)} communities")


def _one_piece(geom: Geom, what: str) -> Polygon:
    if geom.geom_type != "Polygon" or not geom.is_valid:
        raise RuntimeError(f"a {what} came out as {geom.geom_type} (valid={geom.is_valid})")
    return geom


def order_key(geom: Geom) -> tuple[int, float]:
    """Numbering rule: west to east by 0.002° strips of centroid longitude, north to south inside a strip."""
    centre = geom.centroid
    return (math.floor(centre.x / COLUMN_WIDTH_DEG), -centre.y)


def number_places(streets: list[Street], communities: list[Community], grids: list[Grid]) -> None:
    """Codes and names: communities and grids numbered by `order_key`; names follow the code order."""
    for street in streets:
        street.communities.sort(key=lambda i: order_key(communities[i].geo))
        names = COMMUNITY_NAMES[street.name]
        for seq, c_index in enumerate(street.communities, start=1):
            community = communities[c_index]
            community.code = f"{street.code}{seq:03d}"
            community.name = f"{names[seq - 1]}社区"
            community.grids.sort(key=lambda i: order_key(grids[i].geo))
            for g_seq, g_index in enumerate(community.grids, start=1):
                grid = grids[g_index]
                grid.seq, grid.code = g_seq, f"{community.code}{g_seq:03d}"
                grid.name = f"{community.name}第{g_seq}网格"
