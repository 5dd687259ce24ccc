"""The district map at `/` on a closed network: every grid drawn from the API, buildings only from a
readable zoom, for the view, and only for a signed-in reader; nothing loaded from outside."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from api.cli import SAMPLE_DIR
from api.pages import district_map
from gis.store.database import Database
from gis.store.users import create_user
from tests.browser.harness import app_over, errors_of, save_screenshot

pytestmark = pytest.mark.browser

MAP_PASSWORD = "planner-password-1"
GRIDS_DRAWN = "() => gridmapDistrict.grids.getLayers().length"
BUILDINGS_DRAWN = "() => gridmapDistrict.buildings.getLayers().length"


@pytest.fixture
def map_url(own_sample_db: Database, serve) -> str:  # noqa: ANN001
    """The app over this test's own copy of the sample district, with a planner to sign in as (`MAP_PASSWORD`):
    the user is written there, never to the shared `sample_db`."""
    with own_sample_db.session() as session:
        create_user(session, "district-map", "planner", password=MAP_PASSWORD)
    return serve(app_over(own_sample_db))


@pytest.fixture(scope="module")
def a_building(sample_db: Database) -> tuple[float, float]:
    with sample_db.session() as session:
        lon, lat = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM building WHERE grid_id IS NOT NULL "
                                        "ORDER BY code LIMIT 1")).one()
    return lat, lon


def _grids_loaded(page: Page) -> int:
    manifest = json.loads((SAMPLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    grids = manifest["counts"]["grids"]
    page.wait_for_function(f"() => window.gridmapDistrict && {GRIDS_DRAWN[6:]} === {grids}", timeout=30_000)
    return grids


def _unexpected(errors: list[str]) -> list[str]:
    """The page's errors less the expected ones: 401 for buildings without a key, and a buildings request
    the page itself aborted because the view moved on (it keeps only the newest one in flight)."""
    return [e for e in errors if "401" not in e
            and not ("/api/buildings?" in e and "net::ERR_ABORTED" in e)]


def _zoom_to(page: Page, where: tuple[float, float], zoom: int) -> None:
    page.evaluate(f"() => {{ gridmapDistrict.map.setView([{where[0]}, {where[1]}], {zoom}, {{animate: false}}); }}")


def test_district_map_draws_every_grid_and_buildings_only_when_zoomed_in(
    map_url: str, closed_page, a_building: tuple[float, float]  # noqa: ANN001
) -> None:
    page, blocked = closed_page(width=1920, height=1080)
    page.goto(map_url + "/", wait_until="load")
    _grids_loaded(page)
    expect(page.locator("#gridmap-title")).to_contain_text("网格化管理地图")
    expect(page.locator("#district-status")).to_have_text("放大地图查看楼栋")
    assert page.evaluate(BUILDINGS_DRAWN) == 0
    save_screenshot(page, "district_map_wall")
    # Zoomed in without signing in: the grids stay, the buildings ask for a sign-in.
    _zoom_to(page, a_building, 16)
    expect(page.locator("#district-status")).to_contain_text("登录后可查看楼栋")
    page.locator("#district-status a").click()
    page.locator("#signin-username").fill("district-map")
    page.locator("#signin-password").fill(MAP_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(map_url + "/")
    _grids_loaded(page)
    _zoom_to(page, a_building, 17)
    expect(page.locator("#district-status")).to_have_text(re.compile(r"^楼栋 \d+"))
    drawn = page.evaluate(BUILDINGS_DRAWN)
    bbox = page.evaluate("""() => { const b = gridmapDistrict.map.getBounds().pad(0.2);
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(v => v.toFixed(6)).join(','); }""")
    expected = page.request.get(f"{map_url}/api/buildings?limit=1&bbox={bbox}").json()["numberMatched"]
    assert 0 < drawn == min(expected, 3000)
    status = f"楼栋 {drawn}" if drawn == expected else f"楼栋 {drawn} / {expected}，放大查看全部"
    expect(page.locator("#district-status")).to_have_text(status)
    save_screenshot(page, "district_map_buildings")
    assert blocked == []
    assert _unexpected(errors_of(page)) == []


def test_district_map_in_english_on_a_phone(closed_page, live_server) -> None:  # noqa: ANN001
    page, blocked = closed_page(width=375, height=812, locale="en-US")
    page.goto(live_server.url + "/?lang=en", wait_until="load")
    _grids_loaded(page)
    expect(page.locator("#gridmap-title")).to_contain_text("Grid management map")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator("#district-status")).to_have_text("Zoom in to see buildings")
    box = page.locator("#gridmap-title").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 375, "the title fits the phone's width"
    save_screenshot(page, "district_map_phone_en")
    assert blocked == [] and errors_of(page) == []


@pytest.fixture
def small_grid_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The page as a district with more grids than one API page would serve it."""
    monkeypatch.setattr(district_map, "GRIDS_PAGE", 20)
    district_map.district_html.cache_clear()
    yield 20
    monkeypatch.undo()
    district_map.district_html.cache_clear()


def test_a_district_larger_than_one_page_of_grids_loads_the_grids_in_view(
    closed_page, live_server, small_grid_pages: int, a_building: tuple[float, float]  # noqa: ANN001
) -> None:
    page, blocked = closed_page(width=1280, height=800)
    page.goto(live_server.url + "/", wait_until="load")
    page.wait_for_function(f"() => window.gridmapDistrict && {GRIDS_DRAWN[6:]} === {small_grid_pages}")
    _zoom_to(page, a_building, 16)
    bbox = page.evaluate("""() => { const b = gridmapDistrict.map.getBounds().pad(0.2);
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(v => v.toFixed(6)).join(','); }""")
    answer = page.request.get(f"{live_server.url}/api/grids?limit=5000&bbox={bbox}").json()
    in_view = {f["properties"]["code"] for f in answer["features"]}
    assert in_view
    page.wait_for_function(f"""() => {{
        const drawn = new Set(gridmapDistrict.grids.getLayers().map(l => l.feature.properties.code));
        return {sorted(in_view)}.every(code => drawn.has(code)); }}""")
    assert blocked == []
    assert _unexpected(errors_of(page)) == []
