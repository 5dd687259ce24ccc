"""A folium page served by gridmap works in Chromium with every non-loopback request blocked."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import expect

from api.pages.assets import mount_vendor, render_map_html
from tests.api.test_assets import build_map
from tests.browser.harness import errors_of, save_screenshot

pytestmark = pytest.mark.browser


def _map_app() -> FastAPI:
    app = FastAPI()
    mount_vendor(app)

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(render_map_html(build_map()))

    return app


def test_map_page_renders_offline(closed_page, serve) -> None:  # noqa: ANN001
    page, blocked = closed_page(width=1280, height=800)
    page.goto(serve(_map_app()) + "/", wait_until="load")
    page.wait_for_selector("path.leaflet-interactive")
    # Cluster bubble, Font Awesome marker, default Leaflet marker, fullscreen button, d3 legend.
    expect(page.locator(".marker-cluster")).to_have_count(1)
    expect(page.locator(".awesome-marker i.fa-house")).to_be_visible()
    expect(
        page.locator("img.leaflet-marker-icon[src*='/vendor/leaflet@1.9.4/images/marker-icon']")
    ).to_be_visible()
    expect(page.locator(".leaflet-control-zoom-fullscreen")).to_be_visible()
    expect(page.locator("svg rect").first).to_be_attached()
    page.wait_for_function("document.fonts.status === 'loaded'")

    libs = page.evaluate(
        """() => ({
            leaflet: window.L && L.version,
            jquery: window.jQuery && jQuery.fn.jquery,
            d3: window.d3 && d3.version,
            cluster: typeof L.markerClusterGroup,
            heat: typeof L.heatLayer,
            awesome: typeof L.AwesomeMarkers,
            fullscreen: typeof L.control.fullscreen,
            bootstrap: window.bootstrap && bootstrap.Tooltip.VERSION,
            faSolid: document.fonts.check('900 16px "Font Awesome 6 Free"'),
            defaultIcon: [...document.querySelectorAll('img.leaflet-marker-icon')]
                .every(img => img.complete && img.naturalWidth > 0),
            iconRotated: (i => i.classList.contains('fa-rotate-90')
                && getComputedStyle(i).transform !== 'none')(document.querySelector('.awesome-marker i')),
        })"""
    )
    assert libs == {
        "leaflet": "1.9.4",
        "jquery": "3.7.1",
        "d3": "3.5.5",
        "cluster": "function",
        "heat": "function",
        "awesome": "object",
        "fullscreen": "function",
        "bootstrap": "5.2.2",
        "faSolid": True,
        "defaultIcon": True,
        # angle=90 -> Font Awesome's own fa-rotate-90 (folium's rotate stylesheet is dropped)
        "iconRotated": True,
    }
    path = save_screenshot(page, "assets_offline")
    assert path.stat().st_size > 10_000
    assert blocked == []
    assert errors_of(page) == []
