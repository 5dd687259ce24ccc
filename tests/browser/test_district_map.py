"""The district map at `/` on a closed network: every grid drawn, nothing loaded from outside."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser

from api.cli import SAMPLE_DIR
from tests.browser.harness import closed_network_page, errors_of, save_screenshot

pytestmark = pytest.mark.browser


def test_district_map_draws_every_grid_offline(browser: Browser, live_server) -> None:  # noqa: ANN001
    manifest = json.loads((SAMPLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    page, blocked = closed_network_page(browser, width=1920, height=1080)
    page.goto(live_server.url + "/", wait_until="load")
    page.wait_for_function("() => window.L !== undefined && document.querySelector('.leaflet-container')")
    # Count the grid polygons Leaflet holds in the grid layer (canvas renderer: no DOM paths to count).
    drawn = page.evaluate(
        """() => {
            let grids = 0, points = 0;
            for (const key of Object.keys(window)) {
                const layer = window[key];
                if (layer && layer instanceof L.GeoJSON) {
                    layer.eachLayer(l => {
                        if (l instanceof L.Polygon) grids++;
                        else if (l instanceof L.CircleMarker) points++;
                    });
                }
            }
            return {grids, points};
        }"""
    )
    assert drawn["grids"] == manifest["counts"]["grids"]
    assert drawn["points"] == manifest["counts"]["buildings"]
    assert page.locator("#gridmap-title").inner_text().startswith("网格化管理地图")
    assert page.locator(".leaflet-control-layers").is_visible()
    save_screenshot(page, "district_map_wall")
    assert blocked == []
    assert errors_of(page) == []
    page.context.close()


def test_district_map_in_english_on_a_phone(browser: Browser, live_server) -> None:  # noqa: ANN001
    page, blocked = closed_network_page(browser, width=375, height=812, locale="en-US")
    page.goto(live_server.url + "/?lang=en", wait_until="load")
    page.wait_for_selector(".leaflet-container canvas")
    assert page.locator("#gridmap-title").inner_text().startswith("Grid management map")
    assert page.locator("html").get_attribute("lang") == "en"
    save_screenshot(page, "district_map_phone_en")
    assert blocked == [] and errors_of(page) == []
    page.context.close()
