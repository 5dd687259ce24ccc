"""The grids and buildings API over the hand-drawn places."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests import drawn


def test_healthz_without_a_replica_says_so(client: TestClient) -> None:
    assert client.get("/healthz").json()["replica"] == {"status": "none"}


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["grids"] == 2 and body["postgis"].startswith("3")


def test_grids_collection_paging_and_bbox(client: TestClient) -> None:
    everything = client.get("/api/grids").json()
    assert everything["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in everything["features"]] == [drawn.WEST_CODE, drawn.EAST_CODE]
    assert everything["features"][0]["geometry"]["type"] == "MultiPolygon"
    first = client.get("/api/grids", params={"limit": 1}).json()
    assert first["numberMatched"] == 2 and first["numberReturned"] == 1
    assert first["links"][0]["rel"] == "next" and "offset=1" in first["links"][0]["href"]
    second = client.get(first["links"][0]["href"]).json()
    assert [f["id"] for f in second["features"]] == [drawn.EAST_CODE] and second["links"] == []
    # A bbox touching only the east square's interior.
    east = client.get("/api/grids", params={"bbox": "106.515,29.552,106.519,29.558"}).json()
    assert [f["id"] for f in east["features"]] == [drawn.EAST_CODE]


def test_grid_detail_with_branch_team_and_counts(client: TestClient, users: dict) -> None:
    body = client.get(f"/api/grids/{drawn.WEST_CODE}", headers=users["planner"]).json()
    props = body["properties"]
    assert props["branch"] == {"name": "西网格党支部", "secretary": "赵书记", "member_count": 12}
    assert props["team"]["leader"] == "钱队长"
    assert props["team"]["grid_workers"] == 1  # 周离职 left at the end of 2023
    # B-WEST (10 households), B-EDGE (30) and B-CORNER (40) belong to the west grid.
    assert props["counts"] == {"buildings": 3, "households": 80, "residents": 200}
    assert props["area_m2"] == pytest.approx(968.0 * 1110.0, rel=0.02)
    east = client.get(f"/api/grids/{drawn.EAST_CODE}", headers=users["planner"]).json()["properties"]
    assert east["team"] is None and east["branch"]["name"] == "东网格党支部"


def test_grid_buildings_and_outside(client: TestClient, users: dict) -> None:
    key = users["worker-west"]
    west = client.get(f"/api/grids/{drawn.WEST_CODE}/buildings", headers=key).json()
    assert sorted(f["id"] for f in west["features"]) == ["B-CORNER", "B-EDGE", "B-WEST"]
    outside = client.get("/api/buildings", params={"outside": "true"}, headers=key).json()
    assert [f["id"] for f in outside["features"]] == ["B-OUT"]
    boxed = client.get("/api/buildings", params={"bbox": "106.504,29.554,106.506,29.556"}, headers=key).json()
    assert [f["id"] for f in boxed["features"]] == ["B-WEST"]


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/grids?bbox=1,2,3", 422, "four numbers"),
        ("/api/grids?bbox=a,b,c,d", 422, "four numbers"),
        ("/api/grids?bbox=106.6,29.5,106.5,29.6", 422, "min must be below max"),
        ("/api/grids?bbox=12000000,3000000,12100000,3100000", 422, "EPSG:4326"),
        ("/api/grids?limit=0", 422, "limit"),
        ("/api/grids?limit=99999", 422, "limit"),
        ("/api/grids/12345", 422, "15 digits"),
        ("/api/grids/500103001001099", 404, "unknown grid"),
        ("/api/grids/500103001001099/buildings", 404, "unknown grid"),
        ("/api/buildings", 422, "bbox is required"),
    ],
)
def test_bad_parameters_name_the_problem(
    client: TestClient, users: dict, path: str, status: int, words: str,
) -> None:
    response = client.get(path, headers=users["planner"])
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_openapi_lists_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/healthz", "/api/grids", "/api/grids/{code}", "/api/grids/{code}/buildings", "/api/buildings"):
        assert path in paths
    assert client.get("/docs").status_code == 200
