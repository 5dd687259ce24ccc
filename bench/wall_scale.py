"""Benchmark: the command-centre wall at city scale (50,000 grids, 5,000,000 cases) in headless Chromium at
1920x1080, drawing its grids from vector tiles (api/static/wall/tiles.js; `draw=auto` picks them there).

Measured, on the database bench/layers.py builds (var/bench/layers-cluster, port 54369; made here the
same way if it is missing), against the app served in a subprocess:
  (a) time to the first full map: from the navigation's start until every tile in view is drawn
      (Leaflet.VectorGrid's `load`) and the measure table has coloured it; tiles asked, their bytes; and
      when the rest of the first cycle (the panel's figures, the overdue and coverage points) is in. On a
      server started afresh that has finished warming (`/healthz` warmth "warm": api/warmer.py made the
      measure table at start-up), in a new browser: no tile the server or browser has made before;
  (a0) the same on a server opened the moment it answers, before its warming is done (a second start of
      the app, first): the worst a wall can meet, a start of the server or of a new day;
  (b) time to switch measure, for each of the wall's measures: from the button's click until the next
      painted frame shows it (restyled from the table, no request), and until its summary is in;
  (c) a soak: a new case reported and filed every second through the API for --minutes N (default 60);
      every minute the JS heap (after a forced garbage collection), DOM nodes, event listeners, tiles
      held and map layers are sampled; "flat" is the last/first ratio;
  (d) the baseline in the same run: the same wall drawing the whole GeoJSON layer (`draw=geojson`, today's
      way below 2,000 grids): its time to the first map (--no-baseline skips it).
A screenshot of the wall is written to var/bench/wall-scale.png. Run it alone on the machine:

    flock /tmp/gridmap-heavy.lock .venv/bin/python bench/wall_scale.py [--minutes N] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import text

sys.dont_write_bytecode = True  # nothing written outside var/bench and /tmp
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import layers as bench_layers  # noqa: E402
from gis.store.database import Database, open_database  # noqa: E402
from gis.store.embedded import EmbeddedCluster  # noqa: E402
from gis.store.users import create_user  # noqa: E402
from tests.browser.harness import launch_browser  # noqa: E402

SCREENSHOT = bench_layers.BENCH_DIR / "wall-scale.png"
FIRST_MAP_TARGET_S = 5.0
SWITCH_TARGET_S = 1.0
BASELINE_TIMEOUT_S = 120
FULL_MAP = """() => {
  const w = window.gridmapWall;
  if (!w || !w.tiles || !w.tiles.table.stamp || w.tiles.stats.loads === 0 || w.grids._loading) return false;
  return Object.values(w.grids._tiles).every(t => t.loaded);
}"""
NEXT_FRAME = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", flush=True)


def sample_points(database: Database, n: int) -> list[tuple[float, float]]:
    """Building positions (each inside a grid) where the soak reports its cases."""
    with database.session() as session:
        rows = session.execute(text(
            "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM building TABLESAMPLE SYSTEM (1) "
            "WHERE grid_id IS NOT NULL LIMIT :n"), {"n": n}).mappings().all()
    return [(r["lon"], r["lat"]) for r in rows]


def open_wall(page: Page, url: str, key: str, draw: str, timeout_s: float) -> None:
    page.goto(f"{url}/wall?key={key}&rotate=0&draw={draw}", wait_until="commit", timeout=timeout_s * 1000)


def wait_warm(url: str, timeout_s: float = 300) -> float:
    """Until `/healthz` says the server has warmed (api/warmer.py); returns the warming's own seconds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        warmth = httpx.get(f"{url}/healthz", timeout=30).json().get("warmth") or {}
        if warmth.get("state") == "warm":
            return float(warmth["seconds"])
        if warmth.get("state") == "small":
            raise SystemExit(f"the server found {warmth['grids']} grids: too few to warm (bench/layers.py's data?)")
        time.sleep(0.2)
    raise SystemExit(f"the server did not warm within {timeout_s:.0f} s")


def cold_first_map(browser: Any, database_url: str, key: str) -> dict[str, Any]:
    """(a0): the wall opened the moment a new server answers, while its warming runs."""
    with bench_layers.served_app(database_url) as url:
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        got = first_map(context.new_page(), url, key)
        context.close()
        wait_warm(url)  # not stopped mid-computation
    return got


def first_map(page: Page, url: str, key: str) -> dict[str, Any]:
    """(a): navigation start to every visible tile drawn and coloured by the table."""
    open_wall(page, url, key, "auto", 60)
    page.wait_for_function(FULL_MAP, timeout=120_000, polling=50)
    page.evaluate(f"() => {NEXT_FRAME}")
    got = page.evaluate("""() => {
      const s = gridmapWall.tiles.stats;
      const tiles = performance.getEntriesByType('resource').filter(e => e.name.includes('.mvt'));
      return {tiles_at: s.firstLoadAt, table_at: s.tableAt, requested: s.requested, tiles: tiles.length,
              bytes: tiles.reduce((n, e) => n + (e.encodedBodySize || 0), 0), zoom: gridmapWall.map.getZoom(),
              grids: gridmapWall.tiles.table.codes.length, draws_tiles: gridmapWall.tiles !== null};
    }""")
    got["full_s"] = max(got["tiles_at"], got["table_at"]) / 1000
    # The panel (district figures, the ten worst) and the points (overdue, coverage) of the first cycle follow
    page.wait_for_function("() => gridmapWall.stats.refreshes > 0 && gridmapWall.state.overdueVersion !== null",
                           timeout=120_000, polling=50)
    got["panel_s"] = page.evaluate("() => performance.now()") / 1000
    return got


def switches(page: Page) -> list[dict[str, Any]]:
    """(b): every wall measure in turn, then back to the first."""
    keys = [m["key"] for m in page.evaluate("() => gridmapWall.state.measures")]
    out = []
    for key in [*keys[1:], keys[0]]:
        requested = page.evaluate("() => gridmapWall.tiles.stats.requested")
        started = time.perf_counter()
        painted_ms = page.evaluate(f"""async () => {{
          const t = performance.now();
          document.querySelector('#wall-measures button[data-measure="{key}"]').click();
          await {NEXT_FRAME};
          return performance.now() - t;
        }}""")
        page.wait_for_function(f"""() => gridmapWall.state.shown.measure === '{key}'
            && gridmapWall.state.shown.version === gridmapWall.tiles.table.stamp""", timeout=60_000, polling=20)
        summary_s = time.perf_counter() - started
        fetched = page.evaluate("() => gridmapWall.tiles.stats.requested") - requested
        out.append({"measure": key, "painted_s": painted_ms / 1000, "summary_s": summary_s, "tiles_fetched": fetched})
        say(f"switch to {key}: painted {painted_ms:.0f} ms, summary in {summary_s:.2f} s, tiles fetched {fetched}")
    return out


def metrics(page: Page) -> dict[str, float]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("Performance.enable")
    values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    cdp.detach()
    wall = page.evaluate("""() => ({tiles_held: Object.keys(gridmapWall.grids._vectorTiles).length,
        map_layers: Object.keys(gridmapWall.map._layers).length, tables: gridmapWall.tiles.stats.tables,
        last_codes: gridmapWall.tiles.stats.lastCodes, failures: gridmapWall.stats.failures,
        status: gridmapWall.state.status})""")
    return {"heap_mb": values["JSHeapUsedSize"] / 2**20, "nodes": values["Nodes"],
            "listeners": values["JSEventListeners"], **wall}


class CaseStream:
    """A new case reported and filed every second through the API (a thread), until stopped."""

    def __init__(self, url: str, key: str, points: list[tuple[float, float]]) -> None:
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        self.points = points
        self.posted = 0
        self.failed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="case-stream", daemon=True)

    def run(self) -> None:
        rng = random.Random(bench_layers.SEED)
        next_at = time.monotonic()
        while not self.stop.is_set():
            lon, lat = rng.choice(self.points)
            try:
                made = self.client.post("/api/cases", json={"source": "hotline", "category": "exposed_rubbish",
                                                            "lon": lon, "lat": lat, "description": "wall soak"})
                made.raise_for_status()
                filed = self.client.post(f"/api/cases/{made.json()['id']}/actions", json={"action": "file"})
                filed.raise_for_status()
                self.posted += 1
            except httpx.HTTPError:
                self.failed += 1
            next_at += 1.0
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> CaseStream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        self.client.close()


def soak(page: Page, url: str, key: str, points: list[tuple[float, float]], minutes: int) -> list[dict[str, Any]]:
    """(c): a change every second for `minutes`; a sample at the start and after every minute."""
    rows = [{"minute": 0, "posted": 0, **metrics(page)}]
    say(f"soak start: {rows[0]}")
    with CaseStream(url, key, points) as stream:
        started = time.monotonic()
        for minute in range(1, minutes + 1):
            time.sleep(max(0.0, started + 60 * minute - time.monotonic()))
            rows.append({"minute": minute, "posted": stream.posted, "post_failures": stream.failed, **metrics(page)})
            say(f"soak minute {minute}: {rows[-1]}")
    return rows


def baseline(page: Page, url: str, key: str) -> float | None:
    """(d): the wall drawing the whole GeoJSON layer, navigation start to its polygons on the map."""
    try:
        open_wall(page, url, key, "geojson", BASELINE_TIMEOUT_S)
        page.wait_for_function("() => window.gridmapWall && gridmapWall.stats.refreshes > 0",
                               timeout=BASELINE_TIMEOUT_S * 1000, polling=200)
        page.evaluate(f"() => {NEXT_FRAME}")
        return page.evaluate("() => performance.now()") / 1000
    except Exception as error:  # noqa: BLE001 - a baseline that does not finish is reported as such
        say(f"baseline did not finish: {error}")
        return None


def report(cold: dict[str, Any], warmed_s: float, first: dict[str, Any], switched: list[dict[str, Any]],
           soaked: list[dict[str, Any]], geojson_s: float | None, minutes: int) -> None:
    print()
    print(f"(a0) first full map on a server not yet warm, opened as it starts: {cold['full_s']:.2f} s (tiles "
          f"drawn {cold['tiles_at'] / 1000:.2f} s, table applied {cold['table_at'] / 1000:.2f} s, panel and points "
          f"by {cold['panel_s']:.2f} s)")
    print(f"     the server's own warming at start-up: {warmed_s:.2f} s")
    print(f"(a) first full map, {first['grids']} grids, 1920x1080, zoom {first['zoom']:.1f}: "
          f"{first['full_s']:.2f} s (tiles drawn {first['tiles_at'] / 1000:.2f} s, table applied "
          f"{first['table_at'] / 1000:.2f} s, panel and points by {first['panel_s']:.2f} s); {first['tiles']} tiles, "
          f"{first['bytes'] / 1e6:.2f} MB; "
          f"target ≤ {FIRST_MAP_TARGET_S:.0f} s: {'yes' if first['full_s'] <= FIRST_MAP_TARGET_S else 'NO'}")
    painted = sorted(s["painted_s"] for s in switched)
    summary = sorted(s["summary_s"] for s in switched)
    print(f"(b) measure switch over {len(switched)} switches: painted p50 {painted[len(painted) // 2] * 1000:.0f} ms, "
          f"max {painted[-1] * 1000:.0f} ms; with its summary p50 {summary[len(summary) // 2]:.2f} s, "
          f"max {summary[-1]:.2f} s; tiles fetched {sum(s['tiles_fetched'] for s in switched)}; target ≤ "
          f"{SWITCH_TARGET_S:.0f} s: {'yes' if painted[-1] <= SWITCH_TARGET_S else 'NO'}")
    print(f"(c) soak, {minutes} min, a case every second:")
    print("    min  posted  heap MB  nodes  listeners  tiles held  layers  tables  last codes  status")
    for r in soaked:
        print(f"    {r['minute']:>3}  {r['posted']:>6}  {r['heap_mb']:>7.1f}  {r['nodes']:>5.0f}"
              f"  {r['listeners']:>9.0f}  {r['tiles_held']:>10}  {r['map_layers']:>6}  {r['tables']:>6}"
              f"  {r['last_codes']:>10}  {r['status']}")
    first_row, last_row = soaked[0], soaked[-1]
    print(f"    flat (last/first): heap {last_row['heap_mb'] / first_row['heap_mb']:.2f} ×, "
          f"nodes {last_row['nodes'] / first_row['nodes']:.2f} ×, "
          f"listeners {last_row['listeners'] / max(first_row['listeners'], 1):.2f} ×")
    if geojson_s is None:
        print("(d) baseline, the GeoJSON wall: skipped or did not finish")
    else:
        print(f"(d) baseline, the GeoJSON wall (draw=geojson) first map: {geojson_s:.2f} s; "
              f"tiles/GeoJSON {first['full_s'] / geojson_s:.2f} ×")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60, help="soak length (default 60)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the GeoJSON wall")
    parser.add_argument("--grids", type=int, default=50_000,
                        help="grids (default 50,000; buildings 10 and cases 100 per grid, as bench/layers.py)")
    args = parser.parse_args()
    scale = bench_layers.Scale(args.grids, 10 * args.grids, 100 * args.grids, bench_layers.database_for(args.grids))
    say(f"load average at start: {bench_layers.loads()} ({os.cpu_count()} cores); {bench_layers.code_state()}")
    cluster = EmbeddedCluster(bench_layers.CLUSTER_DIR, bench_layers.PORT, database=scale.database)
    started = cluster.ensure_running()
    settings, made = bench_layers.ensure_data(cluster, scale, False)
    assert settings.database_url is not None
    database = open_database(settings, migrate=False)
    try:
        with database.session() as session:
            key = create_user(session, f"bench-wall-{int(time.time())}", "command_centre")
        points = sample_points(database, 2000)
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            say("(a0) first full map on a server opened as it starts")
            cold = cold_first_map(browser, settings.database_url, key)
            say(f"first full map, server not yet warm: {cold['full_s']:.2f} s: {cold}")
        with bench_layers.served_app(settings.database_url) as url, sync_playwright() as playwright:
            browser = launch_browser(playwright)
            warmed_s = wait_warm(url)
            say(f"the new server warmed in {warmed_s:.2f} s")
            context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
            page = context.new_page()
            say("(a) first full map")
            first = first_map(page, url, key)
            say(f"first full map {first['full_s']:.2f} s: {first}")
            page.screenshot(path=str(SCREENSHOT))
            say("(b) measure switches")
            switched = switches(page)
            say(f"(c) soak for {args.minutes} min")
            soaked = soak(page, url, key, points, args.minutes)
            context.close()
            geojson_s = None
            if not args.no_baseline:
                say("(d) baseline: the GeoJSON wall")
                context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
                geojson_s = baseline(context.new_page(), url, key)
                context.close()
            browser.close()
    finally:
        database.close()
        if started:
            cluster.stop()
    print(f"\ndata: {scale.grids} grids, {scale.cases} cases (made {made}); screenshot {SCREENSHOT}")
    report(cold, warmed_s, first, switched, soaked, geojson_s, args.minutes)
    say(f"load average at end: {bench_layers.loads()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
