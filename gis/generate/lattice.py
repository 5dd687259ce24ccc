"""A seeded synthetic city: a jittered lattice of grids, communities and streets above them, and buildings.

Neighbouring grids share their jittered corner vertices, so the lattice tiles the plane without gaps or
overlaps, as real grids should. Grids are small in the centre (about 1 ha) and grow towards the edge
(about 4 ha), as a city's do. A community is a block of 4 × 5 grids, a street a block of 3 × 4 communities;
codes follow the 15-digit rule (district 500103, street 3 digits, community 3, grid 3).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ORIGIN = (106.20, 29.30)  # south-west corner, near Chongqing
CELL_DEG = 0.001  # the smallest cell: about 100 m × 110 m
GROWTH = 1.1  # a cell at the lattice's edge is (1 + GROWTH) times as wide (and tall) as one at its centre
JITTER = 0.15  # vertices move by up to this share of the smallest cell
COMMUNITY_BLOCK = (4, 5)  # grid rows × columns per community
STREET_BLOCK = (3, 4)  # community rows × columns per street
DISTRICT = ("500103", "基准区")


def lattice_shape(grid_count: int) -> tuple[int, int]:
    columns = int(math.ceil(math.sqrt(grid_count)))
    rows = int(math.ceil(grid_count / columns))
    return rows, columns


def _edges(count: int, start: float) -> np.ndarray:
    """count + 1 cell edges from `start`: cells grow from the middle outwards."""
    middle = (count - 1) / 2 or 1.0
    widths = CELL_DEG * (1.0 + GROWTH * (np.abs(np.arange(count) - (count - 1) / 2) / middle) ** 1.5)
    return start + np.concatenate([[0.0], np.cumsum(widths)])


def lattice_edges(grid_count: int) -> tuple[np.ndarray, np.ndarray]:
    """(x edges, y edges) of the unjittered lattice, in degrees."""
    rows, columns = lattice_shape(grid_count)
    return _edges(columns, ORIGIN[0]), _edges(rows, ORIGIN[1])


def _codes(r: np.ndarray, c: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(grid code, community code) of lattice cells (r, c)."""
    cr, cc = r // COMMUNITY_BLOCK[0], c // COMMUNITY_BLOCK[1]
    street_columns = math.ceil(math.ceil(columns / COMMUNITY_BLOCK[1]) / STREET_BLOCK[1])
    street = (cr // STREET_BLOCK[0]) * street_columns + cc // STREET_BLOCK[1] + 1
    community = (cr % STREET_BLOCK[0]) * STREET_BLOCK[1] + cc % STREET_BLOCK[1] + 1
    grid = (r % COMMUNITY_BLOCK[0]) * COMMUNITY_BLOCK[1] + c % COMMUNITY_BLOCK[1] + 1
    if street.max(initial=0) > 999:
        raise ValueError("too many grids for three-digit street numbers")
    community_codes = np.char.add(np.char.add(DISTRICT[0], np.char.zfill(street.astype(str), 3)),
                                  np.char.zfill(community.astype(str), 3))
    return np.char.add(community_codes, np.char.zfill(grid.astype(str), 3)), community_codes


def make_grids(grid_count: int, seed: int = 7) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(communities, grids) frames in EPSG:4326, as `gridmap import` takes them; the communities are the
    unions of their grids."""
    rng = np.random.default_rng(seed)
    rows, columns = lattice_shape(grid_count)
    xs, ys = lattice_edges(grid_count)
    jitter = rng.uniform(-JITTER, JITTER, size=(rows + 1, columns + 1, 2)) * CELL_DEG
    jitter[0, :, :] = jitter[-1, :, :] = jitter[:, 0, :] = jitter[:, -1, :] = 0
    vx = xs[None, :] + jitter[:, :, 0]
    vy = ys[:, None] + jitter[:, :, 1]
    r, c = np.divmod(np.arange(grid_count), columns)
    corners = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c), (r, c)]
    ring = np.stack([np.stack([vx[i, j], vy[i, j]], axis=-1) for i, j in corners], axis=1)
    polygons = shapely.polygons(ring)
    codes, community_codes = _codes(r, c, columns)
    grids = gpd.GeoDataFrame(
        {"code": codes.astype(object), "community_code": community_codes.astype(object), "valid_from": "2024-01-01"},
        geometry=polygons, crs="EPSG:4326",
    ).sort_values("code", ignore_index=True)
    grids.insert(1, "name", "网格" + grids["code"].str[-9:])
    dissolved = grids.dissolve(by="community_code").reset_index()
    members = 20 + dissolved.index.to_numpy() % 60
    communities = gpd.GeoDataFrame(
        {"district_code": DISTRICT[0], "district_name": DISTRICT[1],
         "street_code": dissolved["community_code"].str[:9],
         "street_name": "街道" + dissolved["community_code"].str[6:9],
         "code": dissolved["community_code"], "name": "社区" + dissolved["community_code"].str[6:],
         "party_secretary": "书记" + dissolved["community_code"].str[6:], "party_members": members},
        geometry=dissolved.geometry.values, crs="EPSG:4326",
    )
    return communities, grids


def make_points(count: int, grid_count: int, seed: int = 11) -> gpd.GeoDataFrame:
    """Buildings: a lattice cell drawn at random (so each grid gets about as many, whatever its size), then
    a point in it; cells past the last grid of a partial last row leave a few buildings outside every grid."""
    rng = np.random.default_rng(seed)
    rows, columns = lattice_shape(grid_count)
    xs, ys = lattice_edges(grid_count)
    cell = rng.integers(0, rows * columns, count)
    r, c = np.divmod(cell, columns)
    x = xs[c] + rng.uniform(0, 1, count) * (xs[c + 1] - xs[c])
    y = ys[r] + rng.uniform(0, 1, count) * (ys[r + 1] - ys[r])
    floors = rng.integers(2, 33, count)
    return gpd.GeoDataFrame(
        {"code": np.char.add("B", np.arange(count).astype(str)).astype(object),
         "households": floors * rng.integers(2, 7, count), "residents": floors * rng.integers(4, 16, count),
         "floors": floors},
        geometry=shapely.points(np.round(x, 7), np.round(y, 7)), crs="EPSG:4326",
    )


def teams_frame(codes: list[str]) -> pd.DataFrame:
    """A party branch and a service team per grid (every 33rd grid has neither, so organisational gaps
    exist): a leader, one or two grid workers (two in every third grid) and a volunteer."""
    rows = []
    for k, code in enumerate(codes):
        if k % 33 == 32:
            continue
        roles = ["leader", "grid_worker"] + (["grid_worker"] if k % 3 == 0 else []) + ["volunteer"]
        for j, role in enumerate(roles):
            rows.append((code, f"第{k}网格党支部", f"书记{k}", 20 + k % 30, f"第{k}网格服务团队",
                         f"队员{k}-{j}", role, f"1{k:07d}{j:03d}", "2024-01-01", ""))
    return pd.DataFrame(rows, columns=["grid_code", "branch_name", "branch_secretary", "branch_members",
                                       "team_name", "person_name", "role", "phone", "from_date", "to_date"])
