"""What answers without a key: every operation of the published API, called without credentials.

Public, like a community notice board: the current grid outlines and codes, the case categories, the
basemap's description, the health check and the Open311 reads. Everything else answers 401 without a key."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gis.settings import Settings
from tests import drawn

PUBLIC = {
    ("get", "/healthz"),
    ("get", "/api/grids"),
    ("get", "/api/categories"),
    ("get", "/api/basemap"),  # streets and water, the same for everyone (api/routers/basemap.py)
    ("get", "/open311/v2/discovery.{fmt}"),
    ("get", "/open311/v2/services.{fmt}"),
    ("get", "/open311/v2/services/{service_code}.{fmt}"),
    ("get", "/open311/v2/requests.{fmt}"),
    ("get", "/open311/v2/requests/{service_request_id}.{fmt}"),
    ("post", "/api/session"),  # signing in (422 without a body, 401 with a wrong password)
    ("get", "/api/workdays/roster"),  # published in advance; names only for those who may see them (gis/rosters.py)
}
PATH_VALUES = {"code": drawn.WEST_CODE, "fmt": "json", "z": "14", "x": "13294", "y": "6843", "layer": "grids",
               "service_code": "exposed_rubbish", "service_request_id": "1", "case_id": "1", "photo_id": "1",
               "username": "admin", "plan_id": "1", "area": "500103001001", "liaison_id": "1",
               "household_id": "1", "work_day_id": "1", "day": "2026-01-06", "branch_id": "1", "commitment_id": "1",
               "problem_id": "1"}
QUERY = {"/api/buildings": {"bbox": "106.504,29.554,106.506,29.556"}}
API = ("/api/", "/tiles/", "/open311/", "/healthz")  # pages have their own sign-in (their own tests)


def _operations(client: TestClient) -> list[tuple[str, str]]:
    paths = client.get("/openapi.json").json()["paths"]
    return [(method, path) for path, item in paths.items() for method in item if path.startswith(API)]


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m[1]], path)


def test_every_operation_is_public_or_asks_for_a_key(client: TestClient) -> None:
    operations = _operations(client)
    assert set(operations) >= PUBLIC
    assert client.get("/api/grids").status_code == client.get("/api/categories").status_code == 200
    answers = {}
    for method, path in operations:
        if method == "post" and path.startswith("/open311/"):
            continue  # Open311 posts carry their key in the form: test_open311.py
        response = client.request(method.upper(), _concrete(path), params=QUERY.get(path))
        answers[(method, path)] = "key needed" if response.status_code == 401 else "public"
    expected = {op: ("public" if op in PUBLIC else "key needed") for op in answers}
    assert answers == expected


@pytest.mark.parametrize("path", ["/api/grids/{code}", "/api/grids/{code}/buildings", "/api/buildings"])
@pytest.mark.parametrize("who", ["worker-east", "planner", "street-2", "hotline-app"])
def test_grid_detail_and_buildings_answer_any_key(client: TestClient, users: dict, path: str, who: str) -> None:
    response = client.get(_concrete(path), params=QUERY.get(path), headers=users[who])
    assert response.status_code == 200, response.text


def test_a_stale_cookie_does_not_blank_the_public_outlines(client: TestClient) -> None:
    client.cookies.set("gridmap_session", "an-ended-session")
    assert client.get("/api/grids").status_code == 200
    assert client.get("/api/buildings", params=QUERY["/api/buildings"]).status_code == 401


def test_grid_outlines_name_no_people(client: TestClient) -> None:
    properties = client.get("/api/grids").json()["features"][0]["properties"]
    assert set(properties) == {"code", "name", "community_code", "community_name", "street_code", "street_name",
                               "valid_from", "valid_to"}


def test_a_list_of_keys_in_the_environment_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="GRIDMAP_API_KEYS is not read"):
        Settings.from_env({"GRIDMAP_API_KEYS": "a,b"})
    assert not hasattr(Settings(), "api_keys")
