"""The wall drawing its grids from vector tiles (`?draw=tiles`, what it does at city scale) in Chromium at
1920x1080, over copies of the sample district: tiles are asked for and no GeoJSON layer; the canvas shows
each grid in its legend colour (pixels sampled in the screenshot, at the middle of each grid's largest
inscribed circle, against the classes of the GeoJSON layer, an independent reading of the same measure);
a measure switch recolours without fetching a tile; a click opens the grid's details; a new case reaches
the map as a change of the measure table (`since`), not a new table or new tiles."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, Request, Response, expect
from sqlalchemy import text

from gis.store.database import Database
from gis.store.users import create_user
from tests.browser.harness import app_over, errors_of, save_screenshot

pytestmark = pytest.mark.browser

WALL_KEY = "wall-tiles-centre-key"
BACKGROUND = (6, 11, 21)  # the wall's map background (wall.css)
MIN_RADIUS_PX = 6  # a grid is sampled only where its inscribed circle is this wide on screen
SWITCH_TIMEOUT_MS = 1000  # the target for a measure switch


def _add_wall_user(database: Database) -> None:
    with database.session() as session:
        create_user(session, "wall-tiles", "command_centre", key=WALL_KEY)


@pytest.fixture(scope="module")
def tiles_db(module_sample_db: Database) -> Database:
    _add_wall_user(module_sample_db)
    return module_sample_db


@pytest.fixture(scope="module")
def tiles_url(tiles_db: Database, module_serve) -> str:  # noqa: ANN001
    return module_serve(app_over(tiles_db))


def _centres(database: Database) -> list[dict[str, Any]]:
    """Every current grid's code and the centre and radius (degrees) of its largest inscribed circle."""
    with database.session() as session:
        rows = session.execute(text(
            "SELECT g.code, ST_X(c.center) AS lon, ST_Y(c.center) AS lat, c.radius "
            "FROM grid AS g, LATERAL ST_MaximumInscribedCircle(g.geom) AS c "
            "WHERE g.valid_from <= current_date AND (g.valid_to IS NULL OR g.valid_to > current_date) "
            "ORDER BY g.code")).mappings().all()
    return [dict(r) for r in rows]


class TileWall:
    """The wall page over tiles, with the requests it made."""

    def __init__(self, page: Page, blocked: list[str]) -> None:
        self.page = page
        self.blocked = blocked
        self.requests: list[str] = []
        self.tables: list[dict[str, Any]] = []  # the measure tables received, in order
        page.on("request", self._record)
        page.on("response", self._table)

    def _record(self, request: Request) -> None:
        self.requests.append(request.url)

    def _table(self, response: Response) -> None:
        if "/tiles/grids/classes.json" in response.url and response.ok:
            self.tables.append(response.json())

    def tile_requests(self) -> list[str]:
        return [u for u in self.requests if "/tiles/grids/" in u and u.split("?")[0].endswith(".mvt")]

    def table_requests(self) -> list[str]:
        return [u for u in self.requests if "/tiles/grids/classes.json" in u]

    def api(self, path: str) -> Any:
        response = self.page.request.get(self.page.url.split("/wall")[0] + path)
        assert response.ok, f"{path}: {response.status}"
        return response.json()

    def settled(self) -> None:
        """Every tile in view drawn and no tile pending."""
        self.page.wait_for_function("""() => {
          const t = gridmapWall.grids;
          return gridmapWall.tiles.stats.loads > 0 && !t._loading
            && Object.values(t._tiles).every(x => x.loaded);
        }""", timeout=30_000)
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def pixels(self, centres: list[dict[str, Any]]) -> dict[str, tuple[int, int, int]]:
        """The screen colour at each grid's centre, for grids on screen wide enough to sample."""
        points = self.page.evaluate("""([centres, minRadius]) => {
          const map = gridmapWall.map, out = {};
          const size = map.getSize(), box = map.getContainer().getBoundingClientRect();
          for (const c of centres) {
            const p = map.latLngToContainerPoint([c.lat, c.lon]);
            const q = map.latLngToContainerPoint([c.lat, c.lon + c.radius]);
            const r = Math.abs(q.x - p.x) * Math.cos(c.lat * Math.PI / 180);
            if (r >= minRadius && p.x > r && p.y > r && p.x < size.x - r && p.y < size.y - r) {
              out[c.code] = [Math.round(box.left + p.x), Math.round(box.top + p.y)];
            }
          }
          return out;
        }""", [centres, MIN_RADIUS_PX])
        image = Image.open(io.BytesIO(self.page.screenshot())).convert("RGB")
        return {code: image.getpixel((x, y)) for code, (x, y) in points.items()}


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _on_background(colour: str, opacity: float) -> tuple[float, ...]:
    return tuple(c * opacity + b * (1 - opacity) for c, b in zip(_rgb(colour), BACKGROUND, strict=True))


def _nearest_class(pixel: tuple[int, int, int], legend: list[dict[str, Any]], opacity: float) -> Any:
    def distance(row: dict[str, Any]) -> float:
        return sum((p - q) ** 2 for p, q in zip(pixel, _on_background(row["colour"], opacity), strict=True))

    return min(legend, key=distance)["class"]


def _assert_coloured_as_the_layer_says(wall: TileWall, centres: list[dict[str, Any]], measure: str) -> int:
    """Each sampled grid's pixel is nearest its class's legend colour; returns how many classes were seen."""
    layer = wall.api(f"/api/layers/grids?measure={measure}&period=30d&classify=fixed&geometry=false")
    expected = {str(f["id"] if f.get("id") is not None else f["properties"]["code"]): f["properties"]["class"]
                for f in layer["features"]}
    legend = layer["legend"]
    shown = [li["class"] for li in wall.page.evaluate(
        "() => Array.from(document.querySelectorAll('#wall-legend li')).map(li => ({class: li.dataset['class']}))")]
    assert shown == ["none" if r["class"] is None else str(r["class"]) for r in legend]
    opacity = 0.5 if wall.page.evaluate("() => gridmapWall.state.basemap") else 0.85
    pixels = wall.pixels(centres)
    assert len(pixels) >= 20, f"only {len(pixels)} grids wide enough on screen to sample"
    wrong = {code: (pixel, expected[code]) for code, pixel in pixels.items()
             if _nearest_class(pixel, legend, opacity) != expected[code]}
    assert not wrong, f"{len(wrong)} of {len(pixels)} grids not in their legend colour: {list(wrong.items())[:5]}"
    return len({expected[code] for code in pixels})


@pytest.fixture
def tile_wall(tiles_url: str, closed_page) -> Iterator[Any]:  # noqa: ANN001
    def open_wall(query: str = "rotate=0") -> TileWall:
        page, blocked = closed_page(width=1920, height=1080)
        wall = TileWall(page, blocked)
        page.goto(f"{tiles_url}/wall?key={WALL_KEY}&draw=tiles&{query}", wait_until="load")
        page.wait_for_function("() => window.gridmapWall && gridmapWall.tiles && gridmapWall.stats.refreshes > 0 "
                               "&& gridmapWall.tiles.table.stamp !== null", timeout=30_000)
        # The point layers off, so only the grids are on the canvas where pixels are sampled.
        for toggle in ("overdue", "coverage"):
            page.locator(f"#wall-toggle-{toggle}").click()
        expect(page.locator(".wall-overdue")).to_have_count(0)
        wall.settled()
        return wall

    yield open_wall


def test_grids_are_drawn_from_tiles_in_their_legend_colours(tile_wall, tiles_db: Database) -> None:  # noqa: ANN001
    wall = tile_wall()
    page = wall.page
    assert wall.tile_requests(), "the grids come from vector tiles"
    assert not [u for u in wall.requests if "/api/layers/grids" in u], "no GeoJSON grid layer at all"
    assert page.evaluate("() => gridmapWall.grids instanceof L.VectorGrid")
    assert page.locator("#wall-map canvas").count() >= 1
    expect(page.locator("#wall-measures button.active")).to_have_attribute("data-measure", "open_cases")
    save_screenshot(page, "wall_tiles_1920x1080")
    _assert_coloured_as_the_layer_says(wall, _centres(tiles_db), "open_cases")
    assert wall.blocked == [] and errors_of(page) == []


def test_switching_measure_recolours_without_fetching_tiles(tile_wall, tiles_db: Database) -> None:  # noqa: ANN001
    wall = tile_wall()
    page = wall.page
    centres = _centres(tiles_db)
    tiles_before, tables_before = len(wall.tile_requests()), len(wall.table_requests())
    measures = [m["key"] for m in page.evaluate("() => gridmapWall.state.measures")][1:]
    seen = {}
    for measure in measures:
        started = time.perf_counter()
        page.locator(f'#wall-measures button[data-measure="{measure}"]').click()
        page.wait_for_function(f"""() => gridmapWall.state.shown.measure === '{measure}'
            && document.getElementById('wall-legend').dataset.measure === '{measure}'""", timeout=SWITCH_TIMEOUT_MS)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        switched = time.perf_counter() - started
        assert switched < SWITCH_TIMEOUT_MS / 1000, f"{measure} took {switched:.2f} s"
        seen[measure] = _assert_coloured_as_the_layer_says(wall, centres, measure)
        if seen[measure] >= 3:
            save_screenshot(page, f"wall_tiles_{measure}")
    assert max(seen.values()) >= 2, f"classes on screen per measure: {seen}"  # the pixels could tell them apart
    assert len(wall.tile_requests()) == tiles_before, "a switch restyles the tiles it has"
    assert len(wall.table_requests()) == tables_before, "and the measure table it has"
    assert wall.blocked == [] and errors_of(page) == []


def test_hovering_names_a_grid_and_a_click_opens_its_details(tile_wall, tiles_db: Database) -> None:  # noqa: ANN001
    wall = tile_wall()
    page = wall.page
    centres = {c["code"]: c for c in _centres(tiles_db)}
    on_screen = wall.pixels(list(centres.values()))
    code = max(on_screen, key=lambda k: centres[k]["radius"])  # the widest grid on screen
    point = page.evaluate("""(c) => {
      const map = gridmapWall.map, box = map.getContainer().getBoundingClientRect();
      const p = map.latLngToContainerPoint([c.lat, c.lon]);
      return {x: box.left + p.x, y: box.top + p.y};
    }""", centres[code])
    with tiles_db.session() as session:
        name = session.execute(text("SELECT name FROM grid WHERE code = :code AND valid_to IS NULL"),
                               {"code": code}).scalar_one()
    page.mouse.move(point["x"], point["y"])
    tip = page.locator(".leaflet-tooltip.wall-tip")
    expect(tip).to_contain_text(name)
    expect(tip).to_contain_text(code)
    page.mouse.click(point["x"], point["y"])
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(code)
    for label in ("社区", "街道", "网格党支部", "服务团队", "团队负责人", "网格员", "等级"):
        expect(popup).to_contain_text(label)
    card = wall.api(f"/api/grids/{code}")["properties"]
    expect(popup).to_contain_text(card["community_name"])
    open_cases = wall.api("/api/layers/grids?measure=open_cases&period=30d&geometry=false")
    value = next(f["properties"]["value"] for f in open_cases["features"] if f["properties"]["code"] == code)
    expect(popup.locator("tr.measure td")).to_have_text(str(value))
    save_screenshot(page, "wall_tiles_popup")
    assert wall.blocked == [] and errors_of(page) == []


@pytest.fixture
def case_tiles_url(own_sample_db: Database, serve) -> str:  # noqa: ANN001
    _add_wall_user(own_sample_db)
    return serve(app_over(own_sample_db))


def test_a_new_case_comes_as_a_change_of_the_table(case_tiles_url: str, own_sample_db: Database,
                                                    closed_page) -> None:  # noqa: ANN001
    page, blocked = closed_page(width=1920, height=1080)
    wall = TileWall(page, blocked)
    page.goto(f"{case_tiles_url}/wall?key={WALL_KEY}&draw=tiles&rotate=0&poll=0.5", wait_until="load")
    page.wait_for_function("() => window.gridmapWall && gridmapWall.tiles && gridmapWall.tiles.table.stamp",
                           timeout=30_000)
    wall.settled()
    with own_sample_db.session() as session:
        lon, lat, grid = session.execute(text(
            "SELECT ST_X(b.geom), ST_Y(b.geom), g.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id "
            "WHERE g.valid_to IS NULL ORDER BY b.code LIMIT 1")).one()
    read_open = f"""() => {{ const t = gridmapWall.tiles.table;
        return t.values.open_cases[t.index.get('{grid}')]; }}"""
    before = page.evaluate(read_open)
    tiles_before = len(wall.tile_requests())
    base = page.url.split("/wall")[0]
    headers = {"Authorization": f"Bearer {WALL_KEY}"}
    case = page.request.post(f"{base}/api/cases", headers=headers, data={
        "source": "hotline", "category": "exposed_rubbish", "lon": lon, "lat": lat, "description": "瓦片测试"})
    assert case.status == 201, case.text()
    filed = page.request.post(f"{base}/api/cases/{case.json()['id']}/actions", headers=headers,
                              data={"action": "file"})
    assert filed.ok
    page.wait_for_function(f"() => ({read_open})() === {before + 1}", timeout=10_000)
    # The page drew it; the response event may reach this side a moment later.
    deadline = time.monotonic() + 5
    while not [t for t in wall.tables[1:] if grid in t["codes"]] and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    carried = [t for t in wall.tables if grid in t["codes"]]
    assert carried[-1]["since"] is not None, "the change came as the changes since the table held"
    assert len(carried[-1]["codes"]) < 10, carried[-1]["codes"]
    assert wall.tables[0]["since"] is None and len(wall.tables[0]["codes"]) == carried[-1]["grids"]
    assert len(wall.tile_requests()) == tiles_before, "no tile fetched again for a change of values"
    assert blocked == [] and errors_of(page) == []
