"""The planner's page `/plan` as served: sign-in first; the page in two languages with Leaflet-Geoman from
/vendor and nothing from the internet; its lists (communities, a community's outline, teams and branches)
and its cutting tools (split along a line, merge two neighbours), which only planners may use and which
need the CSRF token like every cookie write."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from shapely.geometry import mapping, shape

from api.pages.assets import external_urls
from api.pages.shell import STATIC_DIR
from tests import drawn
from tests.api.conftest import page_headers, sign_in


def _config(html: str) -> dict:
    found = re.search(r'<script id="page-config" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_not_signed_in_goes_to_the_sign_in(client: TestClient) -> None:
    answer = client.get("/plan", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?lang=zh-CN&next=%2Fplan"
    assert client.get("/plan/areas").status_code == 401


def test_the_page_for_a_planner_is_local_only(client: TestClient, people: dict[str, str]) -> None:
    sign_in(client, "p-planner")
    html = client.get("/plan").text
    assert '<html lang="zh-CN">' in html and "网格调整方案" in html
    assert external_urls(html) == []
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert "/vendor/leaflet-geoman-free@2.20.2/leaflet-geoman.min.js" in scripts
    assert "/vendor/leaflet-geoman-free@2.20.2/leaflet-geoman.css" in scripts
    for src in scripts:  # every file the page names is served by gridmap itself
        assert client.get(src).status_code == 200, src
    for module in (STATIC_DIR / "plan").glob("*.js"):
        assert external_urls(module.read_text(encoding="utf-8")) == [], module.name
    config = _config(html)
    assert config["approvers"] == ["admin", "planner"] and config["households_per_worker_target"] == 500
    english = client.get("/plan?lang=en").text
    assert '<html lang="en">' in english and "Grid redraw plans" in english


def test_the_lists_of_the_editor(client: TestClient, people: dict[str, str]) -> None:
    sign_in(client, "p-planner")
    areas = client.get("/plan/areas").json()
    assert [a["code"] for a in areas] == ["500103001001"] and areas[0]["grids"] == 2
    area = client.get("/plan/areas/500103001001").json()
    assert shape(area["outline"]).equals(drawn.COMMUNITY)
    assert [t["grid_code"] for t in area["teams"]] == [drawn.WEST_CODE]  # the east grid has no team
    assert sorted(b["grid_code"] for b in area["branches"]) == [drawn.WEST_CODE, drawn.EAST_CODE]
    assert client.get("/plan/areas/500103001999").status_code == 404


def test_split_and_merge(client: TestClient, people: dict[str, str]) -> None:
    token = sign_in(client, "p-planner")
    line = {"type": "LineString", "coordinates": [[106.5, 29.555], [106.51, 29.555]]}  # west grid, edge to edge
    answer = client.post("/plan/split", json={"grid": mapping(drawn.WEST), "line": line},
                         headers=page_headers(client, token))
    assert answer.status_code == 200, answer.text
    pieces = [shape(p) for p in answer.json()["pieces"]]
    assert len(pieces) == 2 and abs(pieces[0].area - pieces[1].area) < 1e-12
    assert pieces[0].union(pieces[1]).equals(drawn.WEST) and pieces[0].intersection(pieces[1]).area == 0
    short = {"type": "LineString", "coordinates": [[106.502, 29.555], [106.504, 29.555]]}
    refused = client.post("/plan/split", json={"grid": mapping(drawn.WEST), "line": short},
                          headers=page_headers(client, token))
    assert refused.status_code == 422 and "across" in refused.json()["detail"]
    merged = client.post("/plan/merge", json={"first": mapping(drawn.WEST), "second": mapping(drawn.EAST)},
                         headers=page_headers(client, token))
    assert shape(merged.json()["geometry"]).equals(drawn.COMMUNITY)
    apart = client.post("/plan/merge", json={"first": mapping(drawn.WEST),
                                             "second": mapping(drawn.EAST.buffer(-0.001))},
                        headers=page_headers(client, token))
    assert apart.status_code == 422
    assert client.post("/plan/split", json={"grid": mapping(drawn.WEST), "line": line}).status_code == 403  # no CSRF


def test_only_planners_cut(client: TestClient, people: dict[str, str]) -> None:
    token = sign_in(client, "p-centre")
    assert client.get("/plan/areas").status_code == 200  # the command centre reads plans
    line = {"type": "LineString", "coordinates": [[106.5, 29.555], [106.51, 29.555]]}
    answer = client.post("/plan/split", json={"grid": mapping(drawn.WEST), "line": line},
                         headers=page_headers(client, token))
    assert answer.status_code == 403
    sign_in(client, "p-worker-west")
    assert client.get("/plan/areas").status_code == 403
