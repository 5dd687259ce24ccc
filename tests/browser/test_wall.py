"""The command-centre wall on a closed network, against copies of the sample district (the module's, with
the wall's user; a test's own where it posts cases): grids coloured as the legend
says, the measure switch, a new case on the wall within 5 seconds, offline and back, readable type at
1920x1080 and 3840x2160, and a soak run that must not pile up layers, requests, timers or memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from api.cli import SAMPLE_DIR
from gis.store.database import Database
from gis.store.users import create_user
from tests.browser.harness import app_over, errors_of, save_screenshot

pytestmark = pytest.mark.browser

WALL_KEY = "wall-browser-centre-key"
WALL_PASSWORD = "wall-screen-secret-1"
NEW_CASE_TIMEOUT_MS = 5000

# Counts fetches in flight and live timers, installed before any page script runs.
PROBE = """
(() => {
  const probe = window.__wallProbe = {pending: 0, maxPending: 0, fetches: 0, timeouts: 0, intervals: 0};
  const realFetch = window.fetch.bind(window);
  window.fetch = function () {
    probe.fetches += 1; probe.pending += 1; probe.maxPending = Math.max(probe.maxPending, probe.pending);
    return realFetch.apply(null, arguments).finally(() => { probe.pending -= 1; });
  };
  const liveTimeouts = new Set(), liveIntervals = new Set();
  const st = window.setTimeout, ct = window.clearTimeout, si = window.setInterval, ci = window.clearInterval;
  window.setTimeout = function (fn, ms, ...rest) {
    const id = st(function () {
      liveTimeouts.delete(id);
      return typeof fn === 'function' ? fn(...rest) : undefined;
    }, ms);
    liveTimeouts.add(id); return id;
  };
  window.clearTimeout = function (id) { liveTimeouts.delete(id); return ct(id); };
  window.setInterval = function (...args) { const id = si(...args); liveIntervals.add(id); return id; };
  window.clearInterval = function (id) { liveIntervals.delete(id); return ci(id); };
  probe.live = () => ({timeouts: liveTimeouts.size, intervals: liveIntervals.size});
})();
"""

# What the grids layer shows: class and fill colour of every polygon, read from Leaflet itself.
DRAWN = """() => {
  const out = [];
  gridmapWall.grids.eachLayer(l => out.push({
    code: l.feature.id, cls: l.feature.properties['class'], fill: l.options.fillColor,
    open: l.feature.properties.open_cases, polygon: l instanceof L.Polygon}));
  return out;
}"""
LEGEND = """() => Array.from(document.querySelectorAll('#wall-legend li')).map(li => ({
  cls: li.dataset['class'], colour: li.dataset.colour, label: li.textContent.trim(),
  swatch: getComputedStyle(li.querySelector('.swatch')).backgroundColor}))"""


def _add_wall_user(database: Database) -> None:
    with database.session() as session:
        create_user(session, "wall-browser", "command_centre", key=WALL_KEY)
        create_user(session, "duty-officer", "command_centre", password=WALL_PASSWORD)


@pytest.fixture(scope="module")
def wall_key(module_sample_db: Database) -> str:
    """A command-centre user in this module's copy of the sample district (never the shared `sample_db`)."""
    _add_wall_user(module_sample_db)
    return WALL_KEY


@pytest.fixture(scope="module")
def wall_url(module_sample_db: Database, wall_key: str, module_serve) -> str:  # noqa: ANN001
    """The app over this module's copy, for the tests that only read (they share it)."""
    return module_serve(app_over(module_sample_db))


@pytest.fixture
def case_db(own_sample_db: Database) -> Database:
    """This test's own copy of the sample district, with the wall's user: for a test that posts cases
    or moves deadlines, so no other test sees them."""
    _add_wall_user(own_sample_db)
    return own_sample_db


def _wall_opener(closed_page, url: str):  # noqa: ANN001, ANN202
    def open_wall(query: str = "rotate=0", width: int = 1920, height: int = 1080) -> tuple[Page, list[str]]:
        page, blocked = closed_page(width=width, height=height)
        page.add_init_script(PROBE)
        page.goto(f"{url}/wall?key={WALL_KEY}&{query}", wait_until="load")
        assert "key=" not in page.url, "the kiosk URL must not keep the key in the address bar"
        page.wait_for_function("() => window.gridmapWall && gridmapWall.stats.refreshes > 0 "
                               "&& gridmapWall.state.overdueVersion !== null", timeout=30_000)
        return page, blocked

    return open_wall


@pytest.fixture
def wall(wall_url: str, closed_page) -> Iterator[Any]:  # noqa: ANN001
    """Opens the wall through the kiosk URL (over the module's copy); yields
    `open(query, width, height) -> (page, blocked)`."""
    yield _wall_opener(closed_page, wall_url)


@pytest.fixture
def case_wall(case_db: Database, serve, closed_page) -> Iterator[Any]:  # noqa: ANN001
    """As `wall`, over the app on this test's own copy (`case_db`)."""
    yield _wall_opener(closed_page, serve(app_over(case_db)))


def _api(page: Page, path: str) -> Any:
    """GET from the API with the page's own cookie (as the wall does)."""
    response = page.request.get(page.url.split("/wall")[0] + path)
    assert response.ok, f"{path}: {response.status}"
    return response.json()


def _errors(page: Page) -> list[str]:
    """The page's errors, less layer requests the wall aborted itself (a measure switch mid-fetch)."""
    return [e for e in errors_of(page) if not ("/api/layers/" in e and "net::ERR_ABORTED" in e)]


def _assert_coloured_as_legend_says(page: Page, measure: str, lang: str = "zh-CN") -> list[dict]:
    drawn = page.evaluate(DRAWN)
    legend = page.evaluate(LEGEND)
    by_class = {row["cls"]: row["colour"] for row in legend}
    grids = _api(page, f"/api/layers/grids?measure={measure}&period=30d&classify=fixed&lang={lang}")
    api_legend = grids["legend"]
    assert [(r["cls"], r["colour"], r["label"]) for r in legend] == [
        ("none" if r["class"] is None else str(r["class"]), r["colour"], r["label"]) for r in api_legend
    ]
    for grid in drawn:
        expected = by_class["none" if grid["cls"] is None else str(grid["cls"])]
        assert grid["fill"] == expected, f"{grid['code']} class {grid['cls']}: {grid['fill']} != {expected}"
    return drawn


def _assert_worst_as_the_api_says(page: Page, measure: str) -> None:
    """The worst-grids list shows the API's worst grids in order, less those with nothing wrong."""
    spec = next(m for m in _api(page, "/api/layers/measures?lang=zh-CN") if m["key"] == measure)
    worst = _api(page, f"/api/layers/summary?measure={measure}&period=30d&lang=zh-CN")["worst"]
    expected = [g["code"] for g in worst if not (spec["higher_is_worse"] and g["value"] <= 0)]
    shown = page.locator("#wall-worst li[data-code]").evaluate_all("items => items.map(i => i.dataset.code)")
    assert shown == expected[:10]
    if not expected:
        expect(page.locator("#wall-worst li.empty")).to_have_text("暂无需要关注的网格")


def _hover_highlights_and_names_the_grid(page: Page) -> None:
    """Point at the middle of a grid: its outline thickens and a tooltip names it with the measure's value."""
    grid = page.evaluate("""() => {
      const layer = gridmapWall.grids.getLayers()[120], map = gridmapWall.map;
      const box = map.getContainer().getBoundingClientRect();
      const p = map.latLngToContainerPoint(layer.getCenter());
      return {x: box.left + p.x, y: box.top + p.y, code: layer.feature.id,
              name: layer.feature.properties.name, weight: layer.options.weight};
    }""")
    page.mouse.move(grid["x"], grid["y"])
    tip = page.locator(".leaflet-tooltip.wall-tip")
    expect(tip).to_contain_text(grid["name"])
    expect(tip).to_contain_text(grid["code"])
    expect(tip).to_contain_text(_measure_label(page, "open_cases"))
    weight = page.evaluate(f"() => gridmapWall.grids.getLayers().find(l => l.feature.id === '{grid['code']}')"
                           ".options.weight")
    assert weight > grid["weight"]
    page.mouse.move(5, 5)
    expect(tip).to_have_count(0)


def _measure_label(page: Page, key: str) -> str:
    return next(m["label"] for m in _api(page, "/api/layers/measures?lang=zh-CN") if m["key"] == key)


def _no_small_text(page: Page, smallest_px: float) -> None:
    """Every visible text in the panel is at least `smallest_px` and the ten worst rows are on screen."""
    found = page.evaluate("""() => {
      let smallest = 1e9, where = '';
      for (const el of document.querySelectorAll('#wall-panel *')) {
        const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own || !el.offsetParent) continue;
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (size < smallest) { smallest = size; where = el.id || el.className || el.tagName; }
      }
      const rows = document.querySelectorAll('#wall-worst li');
      const last = rows[rows.length - 1].getBoundingClientRect();
      return {smallest, where, rows: rows.length, lastBottom: last.bottom, height: innerHeight};
    }""")
    assert found["smallest"] >= smallest_px, found
    assert found["lastBottom"] <= found["height"], found


def test_sign_in_form_rejects_a_wrong_password_then_opens_the_wall(
    closed_page, wall_url: str, wall_key: str  # noqa: ANN001
) -> None:
    page, blocked = closed_page(width=1920, height=1080)
    page.goto(f"{wall_url}/wall", wait_until="load")
    page.locator("#signin-username").fill("duty-officer")
    page.locator("#signin-password").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    # argon2 takes its time on purpose: a busy machine needs more than expect's 5 s default
    expect(page.locator(".message")).to_contain_text("用户名或密码错误", timeout=20_000)
    expect(page.locator("#signin-username")).to_have_value("duty-officer")
    field_px = "() => parseFloat(getComputedStyle(document.querySelector('#signin-password')).fontSize)"
    assert page.evaluate(field_px) >= 28, "fields readable from a step back"
    save_screenshot(page, "wall_signin")
    page.locator("#signin-password").fill(WALL_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_function("() => window.gridmapWall && gridmapWall.stats.refreshes > 0", timeout=30_000)
    assert page.url == f"{wall_url}/wall"
    cookie = next(c for c in page.context.cookies() if c["name"] == "gridmap_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert WALL_PASSWORD not in cookie["value"]
    assert "gridmap_session" not in page.evaluate("() => document.cookie"), "the session id is not readable"
    assert blocked == []
    # The rejected password's form comes back as a 401 (so the browser logs it); nothing else went wrong.
    assert [e for e in _errors(page) if "401" not in e] == []


def test_grids_are_drawn_and_coloured_as_the_legend_says(wall) -> None:  # noqa: ANN001
    page, blocked = wall()
    manifest = json.loads((SAMPLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    drawn = _assert_coloured_as_legend_says(page, "open_cases")
    assert len(drawn) == manifest["counts"]["grids"] and all(g["polygon"] for g in drawn)
    expect(page.locator("#wall-title")).to_have_text("网格化管理指挥中心")
    expect(page.locator("#wall-measure-name")).to_have_text(_measure_label(page, "open_cases"))
    expect(page.locator("#wall-status")).to_have_class("online")
    expect(page.locator("#wall-measures button.active")).to_have_attribute("data-measure", "open_cases")
    _assert_worst_as_the_api_says(page, "open_cases")
    background = "() => getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor"
    assert page.evaluate(background) == "rgb(6, 11, 21)"
    _no_small_text(page, 16)
    _hover_highlights_and_names_the_grid(page)
    save_screenshot(page, "wall_1920x1080")
    # A measure where every grid has a value fills the ten rows: they fit on the screen too.
    page.locator('#wall-measures button[data-measure="unvisited_share"]').click()
    page.wait_for_function("() => gridmapWall.state.shown.measure === 'unvisited_share'", timeout=5000)
    _assert_worst_as_the_api_says(page, "unvisited_share")
    _no_small_text(page, 16)
    save_screenshot(page, "wall_1920x1080_unvisited")
    assert blocked == [] and _errors(page) == []


def test_measure_buttons_switch_the_map_at_once(wall) -> None:  # noqa: ANN001
    page, blocked = wall("rotate=0")
    for measure in ("satisfaction", "grade", "overdue"):
        page.locator(f'#wall-measures button[data-measure="{measure}"]').click()
        expect(page.locator("#wall-measure-name")).to_have_text(_measure_label(page, measure))
        page.wait_for_function(f"""() => gridmapWall.state.shown.measure === '{measure}'
            && document.getElementById('wall-legend').dataset.measure === '{measure}'""", timeout=5000)
        expect(page.locator("#wall-measures button.active")).to_have_attribute("data-measure", measure)
        _assert_coloured_as_legend_says(page, measure)
    save_screenshot(page, "wall_measure_overdue")
    assert page.evaluate("() => gridmapWall.stats.rebuilds") == 1, "polygons are restyled, never rebuilt"
    assert blocked == [] and _errors(page) == []


def test_a_new_case_is_on_the_wall_within_five_seconds(case_wall, case_db: Database) -> None:  # noqa: ANN001
    page, blocked = case_wall("rotate=0")
    with case_db.session() as session:
        lon, lat, grid = session.execute(text(
            "SELECT ST_X(b.geom), ST_Y(b.geom), g.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id "
            "WHERE g.valid_to IS NULL ORDER BY b.code LIMIT 1")).one()
    before_district = int(page.locator("#fig-open_cases").get_attribute("data-value"))
    before_grid = page.evaluate(f"() => gridmapWall.grids.getLayers().find(l => l.feature.id === '{grid}')"
                                ".feature.properties.open_cases")
    base = page.url.split("/wall")[0]
    headers = {"Authorization": f"Bearer {WALL_KEY}"}
    report = {"source": "hotline", "category": "exposed_rubbish", "lon": lon, "lat": lat,
              "description": "墙面测试"}
    created = page.request.post(f"{base}/api/cases", headers=headers, data=report)
    assert created.status == 201, created.text()
    case = created.json()
    assert case["grid_code"] == grid
    filed = page.request.post(f"{base}/api/cases/{case['id']}/actions", headers=headers,
                              data={"action": "file"})
    assert filed.ok, (filed.status, filed.text())  # a filed case counts as open
    page.wait_for_function(
        f"""() => Number(document.getElementById('fig-open_cases').dataset.value) === {before_district + 1}
            && gridmapWall.grids.getLayers().find(l => l.feature.id === '{grid}')
                 .feature.properties.open_cases === {before_grid + 1}""",
        timeout=NEW_CASE_TIMEOUT_MS,
    )
    # The grid's popup shows the new count, its organisation and the measure's value.
    page.evaluate(f"() => gridmapWall.grids.getLayers().find(l => l.feature.id === '{grid}').openPopup()")
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(grid)
    for label in ("社区", "街道", "网格党支部", "服务团队", "团队负责人", "网格员", "期内超期（含已结）", "等级"):
        expect(popup).to_contain_text(label)
    expect(popup.locator("tr.measure td")).to_have_text(str(before_grid + 1))
    save_screenshot(page, "wall_popup")
    assert blocked == [] and _errors(page) == []


def test_an_overdue_case_is_marked_where_it_is(case_wall, case_db: Database) -> None:  # noqa: ANN001
    page, blocked = case_wall("rotate=0")
    base = page.url.split("/wall")[0]
    headers = {"Authorization": f"Bearer {WALL_KEY}"}
    with case_db.session() as session:
        lon, lat = session.execute(text(
            "SELECT ST_X(b.geom), ST_Y(b.geom) FROM building AS b WHERE b.grid_id IS NOT NULL "
            "ORDER BY b.code DESC LIMIT 1")).one()
    report = {"source": "patrol", "category": "exposed_rubbish", "lon": lon, "lat": lat}
    case = page.request.post(f"{base}/api/cases", headers=headers, data=report).json()
    for action in ("file", "dispatch"):
        response = page.request.post(f"{base}/api/cases/{case['id']}/actions", headers=headers,
                                     data={"action": action})
        assert response.ok, (action, response.status, response.text())
    # Time passes: its deadline is now three hours ago (the update bumps the data version, as any would).
    with case_db.session() as session:
        session.execute(text("UPDATE service_case SET deadline = now() - interval '3 hours' WHERE id = :id"),
                        {"id": case["id"]})
    marker = f"""() => {{
      const found = gridmapWall.overdue.getLayers().find(l => l.feature.properties.id === {case['id']});
      return found && found._icon && found._icon.classList.contains('pulse') ? found.getLatLng() : null;
    }}"""
    position = page.wait_for_function(marker, timeout=NEW_CASE_TIMEOUT_MS).json_value()
    assert position["lng"] == pytest.approx(lon, abs=1e-6) and position["lat"] == pytest.approx(lat, abs=1e-6)
    count = page.evaluate("() => gridmapWall.overdue.getLayers().length")
    expect(page.locator("#wall-overdue-count")).to_have_text(str(count))
    # The layer toggles off and on again.
    page.locator("#wall-toggle-overdue").click()
    expect(page.locator(".wall-overdue")).to_have_count(0)
    page.locator("#wall-toggle-overdue").click()
    expect(page.locator(".wall-overdue.pulse .core").first).to_be_visible()
    assert blocked == [] and _errors(page) == []


def test_offline_is_shown_clearly_and_the_wall_recovers(wall) -> None:  # noqa: ANN001
    page, blocked = wall("rotate=0&poll=0.3")
    page.route("**/api/layers/**", lambda route: route.abort("connectionrefused"))
    expect(page.locator("#wall-status")).to_have_class("offline", timeout=5000)
    expect(page.locator("#wall-status")).to_have_text("离线")
    expect(page.locator("#wall-banner")).to_be_visible()
    expect(page.locator("#wall-banner")).to_contain_text("离线")
    save_screenshot(page, "wall_offline")
    page.unroute("**/api/layers/**")
    expect(page.locator("#wall-status")).to_have_class("online", timeout=10_000)
    expect(page.locator("#wall-banner")).to_be_hidden()
    assert blocked == []
    unexpected = [e for e in _errors(page) if "/api/layers/" not in e and "ERR_CONNECTION_REFUSED" not in e]
    assert unexpected == []


def test_english_wall_at_3840x2160_scales_its_type(wall) -> None:  # noqa: ANN001
    page, blocked = wall("rotate=0&lang=en&measure=unvisited_share", width=3840, height=2160)
    expect(page.locator("#wall-title")).to_have_text("Grid command centre")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#wall-lang")).to_have_text("中文")
    root_px = page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert root_px >= 38, "type grows with the screen (1rem is about 40 px at 3840x2160)"
    _no_small_text(page, 32)
    _assert_coloured_as_legend_says(page, "unvisited_share", "en")
    save_screenshot(page, "wall_3840x2160_en")
    assert blocked == [] and _errors(page) == []


def _heap(page: Page) -> float:
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    cdp.detach()
    return metrics["JSHeapUsedSize"]


@pytest.mark.slow
def test_soak_rotation_and_fast_polls_stay_bounded(wall) -> None:  # noqa: ANN001
    page, blocked = wall("rotate=1&poll=0.2")
    baseline_layers = page.evaluate("() => Object.keys(gridmapWall.map._layers).length")
    heap_before = _heap(page)
    # Sample the map's layer count and the probe every 250 ms while it runs.
    page.evaluate("""() => {
      window.__soak = {maxLayers: 0, maxPending: 0, maxTimeouts: 0, maxIntervals: 0, measures: new Set(),
                       start: gridmapWall.stats.refreshes};
      setInterval(() => {
        const s = window.__soak, live = __wallProbe.live();
        s.maxLayers = Math.max(s.maxLayers, Object.keys(gridmapWall.map._layers).length);
        s.maxPending = Math.max(s.maxPending, __wallProbe.pending);
        s.maxTimeouts = Math.max(s.maxTimeouts, live.timeouts);
        s.maxIntervals = Math.max(s.maxIntervals, live.intervals);
        if (gridmapWall.state.shown) s.measures.add(gridmapWall.state.shown.measure);
      }, 250);
    }""")
    # Let it rotate through every measure about twice (about 15 s).
    page.wait_for_function("() => gridmapWall.stats.refreshes - __soak.start >= 15", timeout=60_000)
    soak = page.evaluate("""() => ({...window.__soak, measures: window.__soak.measures.size,
                                     stats: gridmapWall.stats, probe: __wallProbe})""")
    heap_after = _heap(page)
    assert soak["measures"] >= 7, soak
    assert soak["maxLayers"] <= baseline_layers + 2, (baseline_layers, soak)
    assert soak["probe"]["maxPending"] <= 1 and soak["maxPending"] <= 1, soak
    assert soak["maxTimeouts"] <= 6 and soak["maxIntervals"] <= 3, soak  # clock, rotation, poll, watchdog
    assert soak["stats"]["rebuilds"] == 1, "polygons restyled in place, never rebuilt"
    assert heap_after - heap_before < 15 * 2**20, f"JS heap grew {(heap_after - heap_before) / 2**20:.1f} MB"
    assert blocked == [] and _errors(page) == []
