"""Tiny hand-drawn places near Yuzhong whose answers can be worked out by eye.

    29.560 +---------+---------+
           |  grid   |  grid   |      community 500103001001 = both squares
           | ...001  | ...002  |      shared edge at lon 106.510
    29.550 +---------+---------+
        106.500   106.510   106.520
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

WEST = box(106.500, 29.550, 106.510, 29.560)
EAST = box(106.510, 29.550, 106.520, 29.560)
COMMUNITY = box(106.500, 29.550, 106.520, 29.560)
WEST_CODE = "500103001001001"
EAST_CODE = "500103001001002"

BUILDINGS = {
    "B-WEST": Point(106.505, 29.555),  # inside west
    "B-EAST": Point(106.515, 29.555),  # inside east
    "B-EDGE": Point(106.510, 29.555),  # on the shared edge: smallest code (west) wins
    "B-CORNER": Point(106.510, 29.560),  # shared corner on the outer boundary: west again
    "B-OUT": Point(106.530, 29.555),  # outside every grid
}
EXPECTED_GRID = {"B-WEST": WEST_CODE, "B-EAST": EAST_CODE, "B-EDGE": WEST_CODE, "B-CORNER": WEST_CODE,
                 "B-OUT": None}


def communities_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"district_code": ["500103"], "district_name": ["渝中区"], "street_code": ["500103001"],
         "street_name": ["解放碑街道"], "code": ["500103001001"], "name": ["测试社区"],
         "party_secretary": ["王书记"], "party_members": [40]},
        geometry=[COMMUNITY], crs="EPSG:4326",
    )


def grids_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [WEST_CODE, EAST_CODE], "name": ["西网格", "东网格"],
         "community_code": ["500103001001", "500103001001"], "valid_from": ["2024-01-01", "2024-01-01"]},
        geometry=[WEST, EAST], crs="EPSG:4326",
    )


def buildings_frame() -> gpd.GeoDataFrame:
    codes = list(BUILDINGS)
    return gpd.GeoDataFrame(
        {"code": codes, "address": [f"测试路{i + 1}号" for i in range(len(codes))],
         "households": [10, 20, 30, 40, 50], "residents": [25, 50, 75, 100, 125], "floors": [6] * 5,
         "party_group": ["一号楼党小组", None, None, None, None],
         "party_group_leader": ["李组长", None, None, None, None]},
        geometry=list(BUILDINGS.values()), crs="EPSG:4326",
    )


def teams_frame() -> pd.DataFrame:
    rows = [
        (WEST_CODE, "西网格党支部", "赵书记", 12, "西网格服务团队", "钱队长", "leader", "13800000001",
         "2024-01-01", ""),
        (WEST_CODE, "西网格党支部", "赵书记", 12, "西网格服务团队", "孙网格员", "grid_worker", "13800000002",
         "2024-01-01", ""),
        (WEST_CODE, "西网格党支部", "赵书记", 12, "西网格服务团队", "周离职", "grid_worker", "13800000003",
         "2023-01-01", "2023-12-31"),
        (EAST_CODE, "东网格党支部", "吴书记", 8, "", "", "", "", "", ""),
    ]
    columns = ["grid_code", "branch_name", "branch_secretary", "branch_members", "team_name", "person_name",
               "role", "phone", "from_date", "to_date"]
    return pd.DataFrame(rows, columns=columns)


def write(frame: gpd.GeoDataFrame | pd.DataFrame, path: Path) -> Path:
    """Write a frame as the file type its name says: .geojson, .gpkg, .zip (Shapefile) or .csv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".zip":
        shp_dir = path.with_suffix("")
        shp_dir.mkdir(exist_ok=True)
        frame.to_file(shp_dir / "layer.shp", engine="pyogrio", encoding="UTF-8")
        with zipfile.ZipFile(path, "w") as archive:
            for part in shp_dir.iterdir():
                archive.write(part, part.name)
    else:
        frame.to_file(path, engine="pyogrio")
    return path
