"""Benchmark: the worker page `/m` on a phone in the street (issue 9, "Field conditions"). Not a test.

Headless Debian Chromium at 375×812, with the network throttled through the DevTools protocol
(`Network.emulateNetworkConditions`: 400 kbit/s down and up, 400 ms latency), opens `/m` for a signed-in
grid worker of the sample district's busiest grid (a password account made for the run):

* cold: a fresh browser profile — bytes transferred (encoded, as on the wire: headers and gzip included)
  and the time until my grid and its task list are on screen (target ≤ 300 KB and ≤ 3 s);
* warm: the same profile again, the page and its files from the service worker and the grid's data from
  the page's cache (target ≤ 1 s);
* offline: the same with the network cut (target ≤ 1 s).

"On screen" is the page's own signal: the task list drawn (`#m-tasks[data-loaded]`) and the grid's outline
on the map. Times are wall-clock from the navigation's start; each open is repeated `--runs` times (median
printed, all listed). The app runs under uvicorn in a subprocess (bench/serving.py) on a fresh copy of the
sample district made from bench/load.py's template (in its cluster, var/bench/load-cluster).

    .venv/bin/python -m bench.field [--runs 3] [--waterfall]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load  # noqa: E402
from bench.serving import served_app  # noqa: E402
from gis.settings import Settings  # noqa: E402
from gis.store.database import open_database  # noqa: E402
from gis.store.embedded import EmbeddedCluster  # noqa: E402
from gis.store.users import create_user  # noqa: E402
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

DATABASE = "gridmap_field"
USERNAME = "field-worker"
PASSWORD = "field-bench-password"
PHONE = {"width": 375, "height": 812}
KBIT = 1000 / 8  # bytes per second in one kbit/s
CONDITIONS = {"offline": False, "latency": 400, "downloadThroughput": 400 * KBIT, "uploadThroughput": 400 * KBIT}
SHOWN = "() => document.querySelector('#m-tasks[data-loaded]') && window.gridmapWorker " \
        "&& gridmapWorker.state.grids.size > 0"
TIMELINE = """() => {
  const at = (entry) => entry ? entry.responseEnd / 1000 : null;
  const files = performance.getEntriesByType('resource');
  const mark = performance.getEntriesByName('m-main')[0];
  return {
    html: performance.getEntriesByType('navigation')[0].responseEnd / 1000,
    leaflet: at(files.find((e) => e.name.endsWith('/leaflet.js'))),
    modules: mark ? mark.startTime / 1000 : null,
    shown: performance.now() / 1000,
    ...Object.fromEntries(performance.getEntriesByType('mark').reverse().map((m) => [m.name, m.startTime / 1000])),
  };
}"""
TARGETS = {"cold_bytes": 300 * 1024, "cold_s": 3.0, "warm_s": 1.0, "offline_s": 1.0}


@dataclass
class Open:
    seconds: float
    bytes: int
    tasks: int
    source: str
    requests: list[Request] = field(default_factory=list)
    timeline: dict[str, float] = field(default_factory=dict)  # page-side moments (s from the navigation)


@dataclass
class Request:
    """One request of an open, from the DevTools protocol's Network events (seconds from the navigation)."""

    url: str
    sent: float
    initiator: str = ""
    connection: str = ""  # the connection's id, and "new" if this request set it up
    setup_ms: float = 0.0  # DNS + TCP (+ TLS) before the request could be sent
    headers: float | None = None  # response headers received
    done: float | None = None
    bytes: int = 0
    from_sw: bool = False
    status: int = 0


@dataclass
class Figures:
    cold: list[Open] = field(default_factory=list)
    warm: list[Open] = field(default_factory=list)
    offline: list[Open] = field(default_factory=list)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fresh_database(cluster: EmbeddedCluster) -> str:
    """A copy of bench/load.py's sample template (loaded by it first if it is missing or stale)."""
    return load.fresh_copy(cluster, DATABASE)


def make_worker(database_url: str) -> str:
    """A password account serving the grid with the most buildings; returns its grid code."""
    database = open_database(Settings(database_url=database_url))
    try:
        with database.session() as session:
            grid = session.execute(text(
                "SELECT g.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id "
                "GROUP BY g.code ORDER BY count(*) DESC, g.code LIMIT 1")).scalar_one()
            create_user(session, USERNAME, "grid_worker", password=PASSWORD, grid_code=grid)
    finally:
        database.close()
    return grid


def open_page(context: BrowserContext, url: str, *, offline: bool = False) -> Open:
    """Open /m in a new tab of `context` on the throttled (or cut) network; time and bytes until shown."""
    page: Page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {**CONDITIONS, "offline": offline})
    received: dict[str, float] = {}
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], e["encodedDataLength"]))
    requests = _record_requests(cdp)
    started = time.perf_counter()
    page.goto(url + "/m", wait_until="commit")
    page.wait_for_function(SHOWN, timeout=60_000, polling=20)
    seconds = time.perf_counter() - started
    timeline = page.evaluate(TIMELINE)
    tasks = page.locator("#m-tasks [data-case]").count()
    source = "network" if not offline else "offline"
    page.wait_for_function("() => document.body.dataset.ready", timeout=60_000)
    source = page.evaluate("() => document.body.dataset.ready")
    page.wait_for_timeout(300)  # late responses still count towards the bytes
    result = Open(seconds, int(sum(received.values())), tasks, source, requests=list(requests.values()),
                  timeline=timeline)
    page.close()
    return result


def _record_requests(cdp) -> dict[str, Request]:  # noqa: ANN001
    """Each request's timeline, keyed by the protocol's request id (times relative to the first request)."""
    requests: dict[str, Request] = {}
    origin: list[float] = []

    def since(timestamp: float) -> float:
        if not origin:
            origin.append(timestamp)
        return timestamp - origin[0]

    def sent(event: dict) -> None:
        initiator = event.get("initiator", {})
        frames = (initiator.get("stack") or {}).get("callFrames") or [{}]
        where = initiator.get("url") or frames[0].get("url", "")
        requests[event["requestId"]] = Request(event["request"]["url"], since(event["timestamp"]),
                                               initiator=f"{initiator.get('type', '')} {_short(where)}".strip())

    def answered(event: dict) -> None:
        request = requests.get(event["requestId"])
        if request is None:
            return
        response = event["response"]
        timing = response.get("timing") or {}
        request.status = response.get("status", 0)
        request.from_sw = bool(response.get("fromServiceWorker"))
        request.connection = f"{response.get('connectionId', '')}{'' if response.get('connectionReused') else ' new'}"
        if timing.get("connectStart", -1) >= 0:
            request.setup_ms = timing["connectEnd"] - timing["connectStart"]
        request.headers = since(event["timestamp"])

    def finished(event: dict) -> None:
        request = requests.get(event["requestId"])
        if request is not None:
            request.done = since(event["timestamp"])
            request.bytes = int(event["encodedDataLength"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.responseReceived", answered)
    cdp.on("Network.loadingFinished", finished)
    return requests


def _short(url: str) -> str:
    """A URL without its origin and content hash, for the waterfall."""
    path = url.split("://", 1)[-1]
    path = path[path.find("/"):] if "/" in path else path
    return re.sub(r"[?&]v=[0-9a-f]+", "", path)


def print_waterfall(label: str, opened: Open) -> None:
    """The requests of one open in the order they were sent: when (s from the first), set-up, headers,
    done, bytes on the wire, connection, who asked."""
    print(f"\n{label}: {len(opened.requests)} requests, {opened.bytes / 1024:.0f} KB, "
          f"on screen at {opened.seconds:.2f} s")
    print(f"  {'sent':>5} {'setup':>6} {'hdrs':>5} {'done':>5} {'bytes':>7}  {'conn':<7} {'url':<58} initiator")
    moments = ", ".join(f"{name} {value:.2f} s" for name, value in opened.timeline.items() if value is not None)
    print(f"  in the page (from the navigation): {moments}")
    for r in sorted(opened.requests, key=lambda r: r.sent):
        hdrs = f"{r.headers:5.2f}" if r.headers is not None else "    —"
        done = f"{r.done:5.2f}" if r.done is not None else "    —"
        conn = "sw" if r.from_sw else r.connection
        print(f"  {r.sent:5.2f} {r.setup_ms:5.0f}ms {hdrs} {done} {r.bytes:7d}  {conn:<7} {_short(r.url)[:58]:<58} "
              f"{r.initiator[:40]}")


def signed_in_context(browser, url: str) -> BrowserContext:  # noqa: ANN001
    context = browser.new_context(viewport=PHONE, locale="zh-CN", service_workers="allow", is_mobile=True,
                                  has_touch=True)
    answer = context.request.post(url + "/api/session", data={"username": USERNAME, "password": PASSWORD},
                                  headers={"Origin": url})
    if answer.status != 200:
        raise RuntimeError(f"sign-in failed: {answer.status} {answer.text()}")
    return context


def wait_for_service_worker(context: BrowserContext, url: str) -> None:
    """Let the cold open's service worker install and keep the shell (unthrottled: it happens in the
    background after the page is on screen)."""
    page = context.new_page()
    page.goto(url + "/m")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    page.wait_for_function("() => document.body.dataset.ready", timeout=60_000)
    page.close()


def measure(url: str, runs: int) -> Figures:
    figures = Figures()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for run in range(runs):
                context = signed_in_context(browser, url)
                try:
                    figures.cold.append(open_page(context, url))
                    wait_for_service_worker(context, url)
                    figures.warm.append(open_page(context, url))
                    context.set_offline(True)
                    figures.offline.append(open_page(context, url, offline=True))
                finally:
                    context.close()
                say(f"run {run + 1}: cold {figures.cold[-1].seconds:.2f} s, warm {figures.warm[-1].seconds:.2f} s, "
                    f"offline {figures.offline[-1].seconds:.2f} s")
        finally:
            browser.close()
    return figures


def report(figures: Figures, grid: str) -> None:
    def median(opens: list[Open], attr: str) -> float:
        return statistics.median(getattr(o, attr) for o in opens)

    def verdict(value: float, target: float) -> str:
        return "meets" if value <= target else "MISSES"

    cold_bytes = median(figures.cold, "bytes")
    rows = [
        ("cold open: bytes transferred", f"{cold_bytes / 1024:.0f} KB", f"≤ {TARGETS['cold_bytes'] // 1024} KB",
         verdict(cold_bytes, TARGETS["cold_bytes"])),
        ("cold open: grid and task list on screen", f"{median(figures.cold, 'seconds'):.2f} s",
         f"≤ {TARGETS['cold_s']:.0f} s", verdict(median(figures.cold, "seconds"), TARGETS["cold_s"])),
        ("warm open (service worker)", f"{median(figures.warm, 'seconds'):.2f} s", f"≤ {TARGETS['warm_s']:.0f} s",
         verdict(median(figures.warm, "seconds"), TARGETS["warm_s"])),
        ("warm open: bytes transferred", f"{median(figures.warm, 'bytes') / 1024:.0f} KB", "—", ""),
        ("offline open (network cut)", f"{median(figures.offline, 'seconds'):.2f} s",
         f"≤ {TARGETS['offline_s']:.0f} s", verdict(median(figures.offline, "seconds"), TARGETS["offline_s"])),
    ]
    print()
    print(f"Worker page /m at 375×812, 400 kbit/s down and up, 400 ms latency; grid {grid}, "
          f"{figures.cold[0].tasks} open tasks; median of {len(figures.cold)} runs")
    for name, value, target, mark in rows:
        print(f"  {name:<42} {value:>9}   target {target:<8} {mark}")
    for label, opens in (("cold", figures.cold), ("warm", figures.warm), ("offline", figures.offline)):
        print(f"  {label:<8} each run: " + ", ".join(f"{o.seconds:.2f} s / {o.bytes / 1024:.0f} KB ({o.source})"
                                                    for o in opens))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--waterfall", action="store_true",
                        help="also print each request of every cold open and of the first warm open")
    args = parser.parse_args()
    load.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    cluster = EmbeddedCluster(load.CLUSTER_DIR, load.PORT, database=DATABASE)
    started = cluster.ensure_running()
    try:
        database_url = fresh_database(cluster)
        grid = make_worker(database_url)
        with served_app(database_url, load.BENCH_DIR / "field-server.log", timeout=120) as (url, _pid):
            say(f"serving the sample district at {url}; worker {USERNAME} of grid {grid}")
            figures = measure(url, args.runs)
        report(figures, grid)
        if args.waterfall:
            for run, opened in enumerate(figures.cold, 1):
                print_waterfall(f"cold open, run {run}", opened)
            print_waterfall("warm open, run 1", figures.warm[0])
    finally:
        if started:
            cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
