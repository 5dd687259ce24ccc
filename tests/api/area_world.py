"""Two streets for the authorization and personal-data tests: the drawn district (tests/drawn.py, street 1 with
its one community and the WEST and EAST grids) and a second street drawn beside it, with one community and one
grid (FAR) whose team has a leader, a grid worker and a volunteer. One caller per role with an area in street 1
and, for the area roles, a twin in street 2; three cases with a reporter (one per grid) and one posted by the
intake client.

    29.560 +------+------+            +------+
           | WEST | EAST |            | FAR  |    street 500103001: community 500103001001 (WEST, EAST)
    29.550 +------+------+            +------+    street 500103002: community 500103002001 (FAR)
        106.500 106.510 106.520    106.540 106.550
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from fastapi.testclient import TestClient
from shapely.geometry import box

from api.cli import import_file
from gis.settings import Settings
from gis.store.database import Database
from gis.store.users import create_user
from tests import drawn

STREET_1, STREET_2 = "500103001", "500103002"
COMMUNITY_1, COMMUNITY_2 = "500103001001", "500103002001"
WEST, EAST, FAR = drawn.WEST_CODE, drawn.EAST_CODE, "500103002001001"
POINTS = {WEST: (106.505, 29.555), EAST: (106.515, 29.555), FAR: (106.545, 29.555)}

# caller → (role, area keyword arguments of create_user)
CALLERS = {
    "admin": ("admin", {}),
    "centre": ("command_centre", {}),
    "planner": ("planner", {}),
    "street-1": ("street_officer", {"street_code": STREET_1}),
    "street-2": ("street_officer", {"street_code": STREET_2}),
    "community-1": ("community_manager", {"community_code": COMMUNITY_1}),
    "community-2": ("community_manager", {"community_code": COMMUNITY_2}),
    "worker-west": ("grid_worker", {"grid_code": WEST}),
    "worker-far": ("grid_worker", {"grid_code": FAR}),
    "hotline": ("open311_client", {}),
}
ROLE_CALLER = {"admin": "admin", "command_centre": "centre", "planner": "planner", "street_officer": "street-1",
               "community_manager": "community-1", "grid_worker": "worker-west", "open311_client": "hotline"}
"""The one caller per role the matrix asks with (its area is street 1's)."""

REPORTER = {"name": "欧阳娜娜", "phone": "13812341234", "address": "渝中区解放碑街道民族路123号5栋"}
MASKED = {"name": "欧**", "phone": "138****1234", "address": "渝中区解放碑街道民族路…"}
VOLUNTEER = ("韩志愿", "13987650000")
FAR_LEADER = ("冯队长", "13700000009")


def _second_street() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    communities = gpd.GeoDataFrame(
        {"district_code": ["500103"], "district_name": ["渝中区"], "street_code": [STREET_2],
         "street_name": ["七星岗街道"], "code": [COMMUNITY_2], "name": ["远方社区"], "party_secretary": ["郑书记"],
         "party_members": [20]},
        geometry=[box(106.540, 29.550, 106.550, 29.560)], crs="EPSG:4326")
    grids = gpd.GeoDataFrame(
        {"code": [FAR], "name": ["远网格"], "community_code": [COMMUNITY_2], "valid_from": ["2024-01-01"]},
        geometry=[box(106.540, 29.550, 106.550, 29.560)], crs="EPSG:4326")
    org = (FAR, "远网格党支部", "陈书记", 9, "远网格服务团队")
    teams = pd.DataFrame([
        (*org, FAR_LEADER[0], "leader", FAR_LEADER[1], "2024-01-01", ""),
        (*org, "卫网格员", "grid_worker", "13700000008", "2024-01-01", ""),
        (*org, VOLUNTEER[0], "volunteer", VOLUNTEER[1], "2024-01-01", ""),
    ], columns=["grid_code", "branch_name", "branch_secretary", "branch_members", "team_name", "person_name",
                "role", "phone", "from_date", "to_date"])
    return communities, grids, teams


def load_second_street(settings: Settings, database: Database, folder: Path) -> None:
    communities, grids, teams = _second_street()
    for kind, frame, name in (("communities", communities, "c2.geojson"), ("grids", grids, "g2.geojson"),
                              ("teams", teams, "t2.csv")):
        import_file(settings, kind, drawn.write(frame, folder / name), database=database)


@dataclass
class World:
    client: TestClient
    database: Database
    cases: dict[str, int] = field(default_factory=dict)  # WEST, EAST, FAR, "hotline"

    def headers(self, caller: str | None) -> dict[str, str]:
        return {} if caller is None else {"Authorization": f"Bearer key-{caller}"}


def add_callers(database: Database) -> None:
    with database.session() as session:
        for username, (role, area) in CALLERS.items():
            create_user(session, username, role, key=f"key-{username}", **area)


def report(client: TestClient, caller: str, grid: str, **extra: object) -> int:
    lon, lat = POINTS[grid]
    body = {"source": "hotline", "category": "exposed_rubbish", "description": "路边垃圾", "lon": lon, "lat": lat,
            "address": REPORTER["address"], "reporter_name": REPORTER["name"], "reporter_contact": REPORTER["phone"],
            **extra}
    response = client.post("/api/cases", json=body, headers={"Authorization": f"Bearer key-{caller}"})
    assert response.status_code == 201, response.text
    assert response.json()["grid_code"] == grid
    return response.json()["id"]


def add_cases(world: World) -> None:
    for grid in (WEST, EAST, FAR):
        world.cases[grid] = report(world.client, "centre", grid)
    world.cases["hotline"] = report(world.client, "hotline", EAST)
