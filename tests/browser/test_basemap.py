"""The basemap in Debian Chromium on a closed network: the district map (`/`, phone size) and the wall
(`/wall`, 1920x1080) draw the archive's tiles — raster PNG from a PMTiles file, vector tiles from an
MBTiles file, both made by the test (tests/basemap_archives.py) — in a pane beneath the grids; every
tile request goes to gridmap itself and nothing leaves 127.0.0.1. Screenshots in test-output/screenshots."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from api.app import create_app
from gis.settings import Settings
from gis.store.database import Database
from gis.store.users import create_user
from tests import basemap_archives as town
from tests.browser.harness import errors_of, save_screenshot

pytestmark = pytest.mark.browser

WALL_KEY = "basemap-browser-centre-key"
ZOOMS = range(11, 16)
PANE = ".leaflet-gridmap-basemap-pane"
RASTER_LOADED = f"() => document.querySelectorAll('{PANE} img.leaflet-tile-loaded').length"
VECTOR_DRAWN = f"""() => Array.from(document.querySelectorAll('{PANE} canvas')).filter(c => {{
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return true;
  return false;
}}).length"""
PANES = f"""() => ({{basemap: +getComputedStyle(document.querySelector('{PANE}')).zIndex,
  overlay: +getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex,
  grids_in_overlay: !!document.querySelector('.leaflet-overlay-pane canvas, .leaflet-overlay-pane svg path')}})"""


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("browser-basemaps")
    return {
        "raster": town.write_pmtiles(folder / "town.pmtiles", town.make_tiles("raster", ZOOMS), kind="raster"),
        "vector": town.write_mbtiles(folder / "town.mbtiles", town.make_tiles("vector", ZOOMS), fmt="pbf"),
    }


@pytest.fixture(scope="module")
def urls(module_sample_db: Database, archives: dict[str, Path], module_serve) -> dict[str, str]:  # noqa: ANN001
    """The app over the module's copy of the sample district, once per archive."""
    with module_sample_db.session() as session:
        create_user(session, "basemap-wall", "command_centre", key=WALL_KEY)
    database_url = module_sample_db.engine.url.render_as_string(hide_password=False)
    return {kind: module_serve(create_app(Settings(database_url=database_url, basemap=path),
                                          database=module_sample_db))
            for kind, path in archives.items()}


def _record(page: Page) -> list[str]:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    return requested


def _only_gridmap(requested: list[str], blocked: list[str], base: str) -> list[str]:
    """The basemap's tile requests, after checking every request went to gridmap on 127.0.0.1."""
    assert blocked == []
    host = urlsplit(base).netloc
    assert {urlsplit(url).netloc for url in requested if not url.startswith(("data:", "blob:"))} == {host}
    tiles = [url for url in requested if urlsplit(url).path.startswith("/basemap/")]
    assert tiles, "no basemap tile was requested"
    return tiles


def _district(page: Page, base: str) -> None:
    page.goto(base + "/", wait_until="load")
    page.wait_for_function("() => window.gridmapDistrict && gridmapDistrict.grids.getLayers().length > 200 "
                           "&& gridmapDistrict.basemap", timeout=30_000)


def _unexpected(errors: list[str]) -> list[str]:
    """Less the district map's 401 for buildings without a key (its own test covers it)."""
    return [e for e in errors if not ("401" in e and "/api/buildings" in e)]


def test_district_map_on_a_phone_draws_raster_tiles_beneath_the_grids(urls, closed_page) -> None:  # noqa: ANN001
    page, blocked = closed_page(width=375, height=812)
    requested = _record(page)
    _district(page, urls["raster"])
    page.wait_for_function(f"{RASTER_LOADED} >= 4", timeout=30_000)
    panes = page.evaluate(PANES)
    assert panes["basemap"] < panes["overlay"] and panes["grids_in_overlay"], panes
    tiles = _only_gridmap(requested, blocked, urls["raster"])
    assert all(urlsplit(url).path.endswith(".png") for url in tiles)
    assert page.evaluate("() => gridmapDistrict.basemap.description.kind") == "raster"
    assert "test town" in page.locator(".leaflet-control-attribution").inner_text()
    save_screenshot(page, "basemap-district-375x812")
    assert _unexpected(errors_of(page)) == []


def test_district_map_draws_a_vector_basemap_with_the_served_renderer(urls, closed_page) -> None:  # noqa: ANN001
    page, blocked = closed_page(width=375, height=812)
    requested = _record(page)
    _district(page, urls["vector"])
    page.wait_for_function(f"{VECTOR_DRAWN} >= 2", timeout=30_000)
    tiles = _only_gridmap(requested, blocked, urls["vector"])
    assert all(urlsplit(url).path.endswith(".pbf") for url in tiles)
    assert any("/vendor/leaflet.vectorgrid@" in url for url in requested)
    panes = page.evaluate(PANES)
    assert panes["basemap"] < panes["overlay"], panes
    save_screenshot(page, "basemap-district-vector-375x812")
    assert _unexpected(errors_of(page)) == []


@pytest.mark.parametrize("kind", ["raster", "vector"])
def test_wall_draws_the_basemap_beneath_lighter_grids(urls, closed_page, kind: str) -> None:  # noqa: ANN001
    page, blocked = closed_page(width=1920, height=1080)
    requested = _record(page)
    page.goto(f"{urls[kind]}/wall?key={WALL_KEY}&rotate=0", wait_until="load")
    page.wait_for_function("() => window.gridmapWall && gridmapWall.stats.refreshes > 0 && gridmapWall.basemap "
                           "&& gridmapWall.grids.getLayers().length > 200", timeout=30_000)
    page.wait_for_function(f"{RASTER_LOADED if kind == 'raster' else VECTOR_DRAWN} >= 4", timeout=30_000)
    fills = page.evaluate("() => { const o = []; gridmapWall.grids.eachLayer(l => o.push(l.options.fillOpacity));"
                          " return Array.from(new Set(o)); }")
    assert fills == [0.5]
    panes = page.evaluate(PANES)
    assert panes["basemap"] < panes["overlay"] and panes["grids_in_overlay"], panes
    _only_gridmap(requested, blocked, urls[kind])
    save_screenshot(page, f"basemap-wall-{kind}-1920x1080")
    assert [e for e in errors_of(page) if "net::ERR_ABORTED" not in e] == []
