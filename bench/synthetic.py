"""Seeded synthetic city-scale data for benchmarks: a jittered lattice of grids and random buildings.

Neighbouring grids share their jittered corner vertices, so the lattice tiles the plane without gaps or
overlaps, as real grids should. Codes follow the 15-digit rule (district 500103, 100 grids a community).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

ORIGIN = (106.20, 29.30)  # south-west corner, near Chongqing
CELL_DEG = 0.001  # about 100 m × 110 m
GRIDS_PER_COMMUNITY = 100
COMMUNITIES_PER_STREET = 100


def lattice_shape(grid_count: int) -> tuple[int, int]:
    columns = int(math.ceil(math.sqrt(grid_count)))
    rows = int(math.ceil(grid_count / columns))
    return rows, columns


def make_grids(grid_count: int, seed: int = 7) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(communities, grids) frames in EPSG:4326; the communities are the unions of their grids."""
    rng = np.random.default_rng(seed)
    rows, columns = lattice_shape(grid_count)
    jitter = rng.uniform(-0.3, 0.3, size=(rows + 1, columns + 1, 2)) * CELL_DEG
    jitter[0, :, :] = jitter[-1, :, :] = jitter[:, 0, :] = jitter[:, -1, :] = 0
    xs = ORIGIN[0] + np.arange(columns + 1) * CELL_DEG
    ys = ORIGIN[1] + np.arange(rows + 1) * CELL_DEG
    vx = xs[None, :] + jitter[:, :, 0]
    vy = ys[:, None] + jitter[:, :, 1]
    polygons, codes, community_codes = [], [], []
    for k in range(grid_count):
        r, c = divmod(k, columns)
        ring = [(vx[r, c], vy[r, c]), (vx[r, c + 1], vy[r, c + 1]), (vx[r + 1, c + 1], vy[r + 1, c + 1]),
                (vx[r + 1, c], vy[r + 1, c]), (vx[r, c], vy[r, c])]
        polygons.append(shapely.Polygon(ring))
        community = k // GRIDS_PER_COMMUNITY
        street = community // COMMUNITIES_PER_STREET
        community_code = f"500103{street + 1:03d}{community % COMMUNITIES_PER_STREET + 1:03d}"
        community_codes.append(community_code)
        codes.append(f"{community_code}{k % GRIDS_PER_COMMUNITY + 1:03d}")
    grids = gpd.GeoDataFrame(
        {"code": codes, "name": [f"网格{c[-6:]}" for c in codes], "community_code": community_codes,
         "valid_from": "2024-01-01"},
        geometry=polygons, crs="EPSG:4326",
    )
    dissolved = grids.dissolve(by="community_code").reset_index()
    communities = gpd.GeoDataFrame(
        {"district_code": "500103", "district_name": "基准区",
         "street_code": dissolved["community_code"].str[:9],
         "street_name": "街道" + dissolved["community_code"].str[6:9],
         "code": dissolved["community_code"], "name": "社区" + dissolved["community_code"].str[6:]},
        geometry=dissolved.geometry.values, crs="EPSG:4326",
    )
    return communities, grids


def make_points(count: int, grid_count: int, seed: int = 11) -> gpd.GeoDataFrame:
    """Buildings spread over the lattice's extent (a few fall outside the last, partial row)."""
    rng = np.random.default_rng(seed)
    rows, columns = lattice_shape(grid_count)
    x = ORIGIN[0] + rng.uniform(0, columns * CELL_DEG, count)
    y = ORIGIN[1] + rng.uniform(0, rows * CELL_DEG, count)
    return gpd.GeoDataFrame(
        {"code": np.char.add("B", np.arange(count).astype(str)),
         "households": rng.integers(10, 200, count), "residents": rng.integers(20, 500, count)},
        geometry=shapely.points(np.round(x, 7), np.round(y, 7)), crs="EPSG:4326",
    )
