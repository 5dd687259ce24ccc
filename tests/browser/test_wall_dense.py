"""A city's overdue cases on the wall (api/static/wall/points.js): past `DENSE_FROM` they are canvas dots,
sized so that the dots in view cover at most `DOT_COVER` of the screen area they spread over (a city's
25,000 overdue cases at full size hid every grid's colour), growing back as the wall zooms in.
On a copy of the sample district with 8,000 overdue cases added at its buildings, in Chromium at 1920x1080."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import text

from gis.store.database import Database
from gis.store.users import create_user
from tests.browser.harness import app_over, errors_of, save_screenshot

pytestmark = pytest.mark.browser

KEY = "wall-dense-centre-key"
OVERDUE = 8000
DOT_COVER = 0.15  # points.js
ROUNDING = 1.25  # the radius is rounded to a quarter pixel: its area may exceed the share by this much at most


def _add_overdue(database: Database, n: int) -> None:
    """`n` open cases past their deadline at the sample's buildings (each in its building's grid)."""
    with database.session() as session:
        create_user(session, "wall-dense", "command_centre", key=KEY)
        session.execute(text("""
            INSERT INTO service_case (source, category_code, description, address, position, given_crs, given_lon,
                                      given_lat, grid_code, community_code, street_code, district_code,
                                      first_contact, created_by, status, reported_at, deadline, rework_count)
            SELECT 'hotline', 'exposed_rubbish', '', '', b.geom, 'wgs84', ST_X(b.geom), ST_Y(b.geom), g.code, m.code,
                   m.street_code, b.district_code, 'test', 'test', 'dispatched', now() - interval '5 days',
                   now() - interval '1 day', 0
            FROM generate_series(1, :n) AS k
            JOIN (SELECT *, row_number() OVER (ORDER BY id) - 1 AS i, count(*) OVER () AS total
                  FROM building WHERE grid_id IS NOT NULL) AS b ON b.i = (k * 7919) % b.total
            JOIN grid AS g ON g.id = b.grid_id
            JOIN community AS m ON m.id = g.community_id
        """), {"n": n})


def _dots(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => {
      const map = gridmapWall.map, bounds = map.getBounds(), size = map.getSize();
      const dots = gridmapWall.overdue.getLayers().filter(l => l instanceof L.CircleMarker);
      const shown = dots.filter(d => bounds.contains(d.getLatLng()));
      const area = shown.reduce((a, d) => a + Math.PI * d.getRadius() ** 2, 0);
      const xs = shown.map(d => map.latLngToContainerPoint(d.getLatLng()).x);
      const ys = shown.map(d => map.latLngToContainerPoint(d.getLatLng()).y);
      const spread = Math.max(1, Math.max(...xs) - Math.min(...xs)) * Math.max(1, Math.max(...ys) - Math.min(...ys));
      const plain = dots.filter(d => !d.options.escalated).map(d => d.getRadius());
      const full = parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.2;
      return {dots: dots.length, in_view: shown.length, cover: area / Math.min(spread, size.x * size.y),
              radii: [...new Set(plain)], full: full};
    }""")


def test_a_citys_overdue_dots_leave_the_grids_readable(own_sample_db: Database, serve, closed_page) -> None:  # noqa: ANN001
    _add_overdue(own_sample_db, OVERDUE)
    url = serve(app_over(own_sample_db))
    page, _blocked = closed_page(width=1920, height=1080)
    page.goto(f"{url}/wall?key={KEY}&draw=tiles&rotate=0", wait_until="load")
    page.wait_for_function("() => window.gridmapWall && gridmapWall.state.overdueVersion !== null "
                           "&& gridmapWall.overdue.getLayers().length > 0", timeout=60_000)
    page.locator("#wall-toggle-coverage").click()  # only the grids and the dots on the map
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    home = _dots(page)
    assert home["dots"] >= OVERDUE - 50  # all but the pulsing few are dots
    assert len(home["radii"]) == 1, home["radii"]  # one size for every plain dot
    radius = home["radii"][0]
    assert 1 <= radius < home["full"], home  # shrunk: at full size they would cover more than the share
    assert home["cover"] <= DOT_COVER * ROUNDING, home
    save_screenshot(page, "wall_dense_overdue")
    page.evaluate("() => gridmapWall.map.setZoom(gridmapWall.map.getZoom() + 2, {animate: false})")
    page.wait_for_function(f"() => gridmapWall.overdue.getLayers().find(l => l instanceof L.CircleMarker"
                           f" && !l.options.escalated).getRadius() > {radius}", timeout=10_000)
    closer = _dots(page)
    assert closer["in_view"] < home["in_view"] and closer["cover"] <= DOT_COVER * ROUNDING, closer
    assert not errors_of(page)
