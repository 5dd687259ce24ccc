"""Benchmark: the sample district under a realistic mixed load over loopback (issue 7, "Load").

The app runs under uvicorn in its own process on a loopback port (bench/serving.py), on a copy of the
sample district (`gridmap sample`: 245 grids, 6,669 buildings, a year of cases) in an embedded cluster of
its own (var/bench/load-cluster, port 54389). The sample is loaded once into a template database, stamped
with the day and a hash of its inputs, and each run works on a fresh copy of it. The keys it needs are
created in the database (`gis.store.users.create_user`, what `gridmap user` does): 20 wall screens, 4 map
viewers and 2 dispatchers (command_centre), 200 grid workers (grid_worker, each with a grid), one
Open311 client (open311_client). Then, for --duration seconds (default 300), a bounded asyncio + httpx
client runs the nominal mix:

* 20 wall screens doing what api/static/wall/wall.js does: sign in once with a key (`/wall?key=`, the
  kiosk URL; the cookie then authenticates), load the page and `/api/layers/measures`, then one cycle
  after another, each starting `poll` (2 s) after the last ended: the cheap `/api/layers/version`; when it
  changed (or the measure did), `/api/layers/grids` and `/api/layers/summary` for the measure shown, and
  `/api/layers/overdue`; `/api/layers/coverage` when the version changed and 30 s have passed since the
  last fetch; one request at a time; the measure rotates every 60 s (checked between cycles); back-off on
  failure as wall.js does.
* 4 map viewers (command-centre analysts): a view of a 1920×1080 screen of 512-px vector tiles at zoom
  13–16 somewhere over the sample's extent, `/tiles/grids/{z}/{x}/{y}.mvt?measure=…` and
  `/tiles/cases/{z}/{x}/{y}.mvt` six at a time as a browser fetches them, and `/api/layers/legend` for
  the measure; 5–15 s between views. (Neither page of the app asks for tiles: the wall draws the GeoJSON
  layer and the district map `/` embeds everything; the tiles are for MapLibre/QGIS clients.)
* 200 grid workers, 0–3 per grid as the sample's teams have them (the sample's current grid-worker
  memberships, 200 drawn with a seed): each, every 5–120 s (exponential, mean 30 s), lists the open cases
  of their grid (`GET /api/cases?status=…`), opens one and accepts it (dispatched, rework) or reports it
  handled (in_handling, with a note and the position), `POST /api/cases/{id}/actions`. Workers sharing a
  grid split its cases by id, so they never race for one.
* 2 dispatchers at the command centre: every 4–8 s each lists the reported cases and files and dispatches
  up to 10 of its share (by id; unrouted ones are left for routing by hand), and verifies up to 10 handled
  ones: without them the workers would soon have nothing to accept.
* Open311 posts (`POST /open311/v2/requests.json`, form-encoded, api_key, service_code, lat, long at a
  seeded random point inside the district, an idempotency key) at 10 per second, open loop: each sent at
  its scheduled time, its latency counted from it; at most 64 in flight (the rest shed, counted as errors).

Before it, the baseline in the same run, on the quiet server: the version poll alone with one client,
`GET /healthz` alone, and `GET /` (the district map) alone. After it, the probe: 16 anonymous clients
loading `/` back to back while one client polls the version every 0.2 s, timed. Then the knee search:
short steps of 16, 32 and 64 closed-loop clients (no think time), each request drawn from a fixed mix of
the above, with throughput and p99 per step and where throughput stops growing (under 10 % more).
Between phases it waits (at most 120 s) until the version poll answers within 1 s again, so that what
one phase left queued in the server does not count against the next.

Printed: per request class its count, errors (any status other than 2xx/3xx, named, and transport
failures by exception), throughput, p50/p90/p99 latency in ms, and p99 as a ratio to the version poll
alone; the targets (printed, not asserted): 0 errors and p99 < 300 ms at the nominal mix, and the version
poll not starved by heavy requests (its p99 under load < 300 ms). One progress line every ~10 s. Every
loop is bounded in count and in time; every request has a 20 s limit. CPU used by the server, PostgreSQL
and this load generator is shown per phase (they all share the machine's cores).

    .venv/bin/python bench/load.py [--quick] [--duration 300] [--url http://127.0.0.1:8000]

With --url the server already running there is used (loopback only); the keys are then made in the
database of `Settings.from_env()` (GRIDMAP_DATABASE_URL, else the embedded cluster under var/), which
must be the one that server uses. Nothing is written outside var/bench and /tmp otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import psycopg
import shapely
from sqlalchemy import text

sys.dont_write_bytecode = True  # nothing written outside var/bench and /tmp
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.serving import CpuMeter, database_stamp, served_app  # noqa: E402
from gis.settings import PROJECT_ROOT, Settings  # noqa: E402
from gis.store.database import open_database  # noqa: E402
from gis.store.embedded import EmbeddedCluster  # noqa: E402
from gis.store.users import create_user  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
CLUSTER_DIR = BENCH_DIR / "load-cluster"
PORT = 54389
"""A cluster of its own: the shared one on 54349 is stopped by other benchmarks when they finish."""
DATABASE = "gridmap_load"
TEMPLATE = "gridmap_load_sample"
SAMPLE_INPUTS = (PROJECT_ROOT / "gis" / "sample" / "yuzhong", *sorted((PROJECT_ROOT / "gis" / "sample").glob("*.py")))
SEED = 7

REQUEST_TIMEOUT = 20.0  # wall.js's watchdog (REQUEST_TIMEOUT_MS)
PROGRESS_EVERY = 10.0
WALLS = 20
WALL_POLL = 2.0
WALL_ROTATE = 60.0
WALL_COVERAGE_EVERY = 30.0
WALL_MAX_BACKOFF = 60.0
WALL_PREFERRED = ("open_cases", "overdue", "response_p50_h", "unvisited_share", "org_gaps", "on_time_rate",
                  "satisfaction", "grade")
VIEWERS = 4
VIEW_PAUSE = (5.0, 15.0)
VIEW_ZOOMS = (13, 14, 14, 15, 15, 16)
SCREEN = (1920, 1080)
TILE_PIXELS = 512
BROWSER_CONNECTIONS = 6
WORKERS = 200
WORKER_THINK_MEAN = 30.0
WORKER_THINK_RANGE = (5.0, 120.0)
DISPATCHERS = 2
DISPATCH_PAUSE = (4.0, 8.0)
DISPATCH_BATCH = 10
OPEN311_RATE = 10.0
OPEN311_MAX_IN_FLIGHT = 64
PROBE_CLIENTS = 16
PROBE_POLL_GAP = 0.2
KNEE_STEPS = (16, 32, 64)
KNEE_GROWTH = 1.10
P99_TARGET_MS = 300.0
VERSION = "wall version"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", flush=True)


# -- figures ----------------------------------------------------------------------------------------


@dataclass
class Series:
    """One request class: latencies (s) of the answered requests, and the errors by name."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    def ms(self, percentile: float) -> float:
        return float(np.percentile(self.latencies, percentile) * 1000) if self.latencies else float("nan")

    def error_text(self) -> str:
        total = sum(self.errors.values())
        if not total:
            return "0"
        return f"{total} (" + ", ".join(f"{name}×{n}" for name, n in self.errors.most_common()) + ")"


class Recorder:
    """Requests by class, for one phase; a window of the last seconds for the progress line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.series: dict[str, Series] = {}
        self.started = time.monotonic()
        self.ended: float | None = None
        self.window: list[tuple[str, float, bool]] = []
        self.in_flight = 0
        self.peak = 0  # most requests in flight at once (sent, not yet answered), over the phase
        self.window_peak = 0

    def sent(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.window_peak = max(self.window_peak, self.in_flight)

    def add(self, name: str, seconds: float, error: str | None) -> None:
        series = self.series.setdefault(name, Series())
        if error is None:
            series.latencies.append(seconds)
        else:
            series.errors[error] += 1
        self.window.append((name, seconds, error is None))

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def stop(self) -> None:
        self.ended = time.monotonic()

    def total(self) -> Series:
        merged = Series()
        for series in self.series.values():
            merged.latencies.extend(series.latencies)
            merged.errors.update(series.errors)
        return merged

    def progress(self, window_seconds: float, planned: float) -> str:
        """The window since the last call: requests/s, errors, the version poll's p99."""
        window, self.window = self.window, []
        peak, self.window_peak = self.window_peak, self.in_flight
        errors = sum(1 for _, _, ok in window if not ok)
        polls = [s for name, s, ok in window if ok and name.endswith("version")]
        poll = f"{np.percentile(polls, 99) * 1000:.0f} ms" if polls else "–"
        total = self.total()
        return (f"{self.name} {self.elapsed():>4.0f}/{planned:.0f} s: {len(window) / window_seconds:6.1f} req/s, "
                f"{errors} errors in the last {window_seconds:.0f} s ({total.count} requests, "
                f"{sum(total.errors.values())} errors so far); version poll p99 {poll}; "
                f"at most {peak} in flight")


async def call(rec: Recorder, name: str, client: httpx.AsyncClient, method: str, url: str, *,
               since: float | None = None, **kwargs: Any) -> httpx.Response | None:
    """One request, bounded by REQUEST_TIMEOUT in all; recorded under `name` (error: the status, or the
    exception's name). The latency counts from `since` (loop time; default: now) to the end of the body."""
    loop = asyncio.get_running_loop()
    began = loop.time() if since is None else since
    rec.sent()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            response = await client.request(method, url, **kwargs)
    except TimeoutError:
        rec.add(name, loop.time() - began, "timeout")
        return None
    except httpx.HTTPError as error:
        rec.add(name, loop.time() - began, type(error).__name__)
        return None
    finally:
        rec.in_flight -= 1
    rec.add(name, loop.time() - began, None if response.status_code < 400 else str(response.status_code))
    return response


def new_client(url: str, connections: int, **kwargs: Any) -> httpx.AsyncClient:
    """Keep-alive shorter than uvicorn's 5 s, so an idle connection is never reused as the server shuts it."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                          keepalive_expiry=4.0)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=REQUEST_TIMEOUT, **kwargs)


# -- setup ------------------------------------------------------------------------------------------


def inputs_hash() -> str:
    digest = hashlib.sha256()
    for root in SAMPLE_INPUTS:
        for path in sorted(root.rglob("*") if root.is_dir() else [root]):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def fresh_copy(cluster: EmbeddedCluster, database: str = DATABASE) -> str:
    """The sample in a template database (made with `gridmap sample` unless one made today from the same
    inputs exists: its year of cases ends on the day it was made), copied into a fresh database `database`
    (other benchmarks take their own copy of the same template)."""
    stamp = {"day": date.today().isoformat(), "inputs": inputs_hash()}
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        if database_stamp(conn, TEMPLATE) != stamp:
            say(f"loading the sample district into {TEMPLATE} with `gridmap sample` (about 30 s)")
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
            env = {**os.environ, "GRIDMAP_DATABASE_URL": cluster.url(TEMPLATE), "PYTHONDONTWRITEBYTECODE": "1"}
            log = BENCH_DIR / "load-sample.log"
            with log.open("w", encoding="utf-8") as out:
                done = subprocess.run([str(Path(sys.executable).parent / "gridmap"), "sample"], cwd=PROJECT_ROOT,
                                      env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False)
            if done.returncode:
                raise RuntimeError(f"gridmap sample failed ({done.returncode}); see {log}")
            conn.execute(f"COMMENT ON DATABASE {TEMPLATE} IS '{json.dumps(stamp)}'")
        else:
            say(f"reusing the sample loaded into {TEMPLATE} today")
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database} TEMPLATE {TEMPLATE}")
    return cluster.url(database)


@dataclass(frozen=True)
class Worker:
    key: str
    grid: str
    share: int  # this worker takes the grid's cases with id % sharers == share
    sharers: int


@dataclass(frozen=True)
class World:
    """Keys and places of the run."""

    wall_keys: list[str]
    viewer_keys: list[str]
    dispatcher_keys: list[str]
    workers: list[Worker]
    open311_key: str
    district: Any  # shapely geometry: where Open311 positions are drawn
    extent: tuple[float, float, float, float]


def make_world(database_url: str | None, tag: str) -> World:
    """Create the users (fresh names: `tag` differs per run) and read the places the load needs."""
    settings = Settings(database_url=database_url) if database_url else Settings.from_env()
    database = open_database(settings)
    rng = random.Random(SEED)
    try:
        with database.session() as session:
            memberships = list(session.execute(text(
                "SELECT t.grid_code FROM team_membership AS m JOIN service_team AS t ON t.id = m.team_id "
                "WHERE m.role = 'grid_worker' AND m.to_date IS NULL AND t.valid_to IS NULL ORDER BY m.id")).scalars())
            if not memberships:
                raise RuntimeError("no current grid workers in the database: is the sample loaded?")
            grids = (rng.sample(memberships, WORKERS) if len(memberships) >= WORKERS
                     else [memberships[k % len(memberships)] for k in range(WORKERS)])
            sharers = Counter(grids)
            seen: Counter[str] = Counter()
            workers = []
            for k, grid in enumerate(grids):
                key = create_user(session, f"load-{tag}-worker-{k:03d}", "grid_worker", grid_code=grid)
                workers.append(Worker(key, grid, seen[grid], sharers[grid]))
                seen[grid] += 1

            def centre(name: str, count: int) -> list[str]:
                return [create_user(session, f"load-{tag}-{name}-{k:02d}", "command_centre") for k in range(count)]

            walls, viewers, dispatchers = centre("wall", WALLS), centre("viewer", VIEWERS), centre("desk", DISPATCHERS)
            hotline = create_user(session, f"load-{tag}-open311", "open311_client")
            wkb, *extent = session.execute(text(
                "SELECT ST_AsBinary(ST_Union(geom)), ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                "FROM community, (SELECT ST_Extent(geom)::geometry AS e FROM grid WHERE valid_to IS NULL) AS x "
                "GROUP BY e")).one()
    finally:
        database.close()
    district = shapely.from_wkb(bytes(wkb))
    shapely.prepare(district)
    return World(walls, viewers, dispatchers, workers, hotline, district, tuple(float(v) for v in extent))


def served(database_url: str) -> AbstractContextManager[tuple[str, int]]:
    """The app under uvicorn in a subprocess (bench/serving.py); its log in load-server.log."""
    return served_app(database_url, BENCH_DIR / "load-server.log", timeout=120)


# -- the actors of the nominal mix ------------------------------------------------------------------


@dataclass
class Run:
    """What the actors of one phase share."""

    url: str
    world: World
    rec: Recorder
    deadline: float  # loop time at which actors stop starting new work
    measures: list[str]
    services: list[str]
    rng: random.Random

    def time_left(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    async def pause(self, seconds: float) -> bool:
        """Sleep, but not past the deadline; False once it has passed."""
        left = self.time_left()
        await asyncio.sleep(max(0.0, min(seconds, left)))
        return self.time_left() > 0


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept": "application/json"}


async def wall_screen(run: Run, k: int) -> None:
    """One wall screen, as wall.js drives it (module doc)."""
    rec = run.rec
    async with new_client(run.url, 1, headers={"Accept": "application/json"}) as client:
        if not await run.pause(k * WALL_POLL / WALLS):  # screens switched on one after another
            return
        signed_in = False
        measures: list[str] = []
        measure = None
        shown: tuple[str, str] | None = None
        overdue_version = coverage_version = None
        coverage_at: float | None = None
        rotated_at: float | None = None
        failures = 0
        loop = asyncio.get_running_loop()
        for _ in range(int(run.time_left() / WALL_POLL) + 10):  # bounded: one cycle per poll at most
            if run.time_left() <= 0:
                return
            ok = True
            if not signed_in:  # the kiosk's start-up URL, then the page (retried like a poll if it fails)
                signed = await call(rec, "wall sign-in", client, "GET", "/wall",
                                    params={"key": run.world.wall_keys[k]})
                signed_in = signed is not None and signed.status_code == 303 and "gridmap_session" in client.cookies
                ok = signed_in
                if signed_in:
                    page = await call(rec, "wall page", client, "GET", "/wall", headers={"Accept": "text/html"})
                    ok = page is not None and page.status_code == 200
            if ok and not measures:
                got = await call(rec, "wall measures", client, "GET", "/api/layers/measures",
                                 params={"lang": "zh-CN"})
                ok = got is not None and got.status_code == 200
                if ok:
                    keys = [m["key"] for m in got.json()]
                    measures = [m for m in WALL_PREFERRED if m in keys] or keys
                    measure = measures[0]
            if ok:
                polled = await call(rec, VERSION, client, "GET", "/api/layers/version")
                ok = polled is not None and polled.status_code == 200
            if ok:
                version = polled.json()["version"]
                need_grids = shown != (measure, version)
                need_overdue = overdue_version != version
                need_coverage = coverage_version != version and (
                    coverage_at is None or loop.time() - coverage_at >= WALL_COVERAGE_EVERY)
                common = {"period": "30d", "lang": "zh-CN"}
                steps: list[tuple[str, str, dict[str, Any]]] = []
                if need_grids:
                    steps += [("wall grids", "/api/layers/grids", {"measure": measure, "classify": "fixed", **common}),
                              ("wall summary", "/api/layers/summary", {"measure": measure, **common})]
                if need_overdue:
                    steps.append(("wall overdue", "/api/layers/overdue", {"lang": "zh-CN"}))
                if need_coverage:
                    steps.append(("wall coverage", "/api/layers/coverage", {"lang": "zh-CN"}))
                for name, path, params in steps:
                    got = await call(rec, name, client, "GET", path, params=params)
                    if got is None or (got.status_code >= 400 and name in ("wall grids", "wall summary")):
                        ok = False  # overdue and coverage are optional: an HTTP error there is shown as absent
                        break
                if ok:
                    if need_grids:
                        shown = (measure, version)
                        rotated_at = rotated_at or loop.time()
                    if need_overdue:
                        overdue_version = version
                    if need_coverage:
                        coverage_version, coverage_at = version, loop.time()
            if ok:
                failures = 0
                wait = WALL_POLL
            else:
                failures += 1
                wait = min(WALL_POLL * 2**failures, WALL_MAX_BACKOFF) * run.rng.uniform(0.9, 1.1)
            if rotated_at is not None and shown is not None and shown[0] == measure and len(measures) > 1:
                until_rotation = rotated_at + WALL_ROTATE - loop.time()
                if until_rotation <= wait:  # the rotation timer fires before the next poll: switch, refresh now
                    if not await run.pause(max(0.0, until_rotation)):
                        return
                    measure = measures[(measures.index(measure) + 1) % len(measures)]
                    rotated_at = loop.time()
                    continue
            if not await run.pause(wait):
                return


def viewport_tiles(world: World, rng: random.Random) -> tuple[int, list[tuple[int, int]]]:
    """A zoom and the tiles a 1920×1080 screen of 512-px tiles shows at a random centre in the extent."""
    z = rng.choice(VIEW_ZOOMS)
    minx, miny, maxx, maxy = world.extent
    lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
    n = 2**z
    cx = (lon + 180.0) / 360.0 * n
    cy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    hx, hy = SCREEN[0] / 2 / TILE_PIXELS, SCREEN[1] / 2 / TILE_PIXELS
    xs = range(math.floor(cx - hx), math.floor(cx + hx) + 1)
    ys = range(math.floor(cy - hy), math.floor(cy + hy) + 1)
    tiles = sorted(((x, y) for x in xs for y in ys), key=lambda t: (t[0] + 0.5 - cx) ** 2 + (t[1] + 0.5 - cy) ** 2)
    return z, tiles  # centre first, as map libraries ask


async def map_viewer(run: Run, k: int) -> None:
    """A command-centre analyst's vector-tile map: a view, its tiles six at a time, the legend; a pause."""
    rng = random.Random(SEED * 100 + k)
    async with new_client(run.url, BROWSER_CONNECTIONS, headers=bearer(run.world.viewer_keys[k])) as client:
        if not await run.pause(rng.uniform(0, VIEW_PAUSE[0])):
            return
        for _ in range(int(run.time_left() / VIEW_PAUSE[0]) + 2):
            if run.time_left() <= 0:
                return
            measure = rng.choice(run.measures)
            z, tiles = viewport_tiles(run.world, rng)
            jobs: list[tuple[str, str, dict[str, str]]] = []
            for x, y in tiles:
                jobs.append(("map tile grids", f"/tiles/grids/{z}/{x}/{y}.mvt", {"measure": measure, "period": "30d"}))
                jobs.append(("map tile cases", f"/tiles/cases/{z}/{x}/{y}.mvt", {}))
            jobs.append(("map legend", "/api/layers/legend", {"measure": measure, "period": "30d"}))
            queue = iter(jobs)

            async def fetch(queue: Iterator[tuple[str, str, dict[str, str]]] = queue) -> None:
                for name, path, params in queue:
                    await call(run.rec, name, client, "GET", path, params=params)

            await asyncio.gather(*(fetch() for _ in range(BROWSER_CONNECTIONS)))
            if not await run.pause(rng.uniform(*VIEW_PAUSE)):
                return


OPEN_FOR_WORKER = ("dispatched", "rework", "in_handling")


async def grid_worker(run: Run, client: httpx.AsyncClient, k: int) -> None:
    """A grid worker (module doc): list, open one case, accept or handle it; think; again."""
    worker = run.world.workers[k]
    rng = random.Random(SEED * 1000 + k)
    headers = bearer(worker.key)

    def think() -> float:
        return min(max(rng.expovariate(1 / WORKER_THINK_MEAN), WORKER_THINK_RANGE[0]), WORKER_THINK_RANGE[1])

    if not await run.pause(rng.uniform(0, WORKER_THINK_MEAN)):  # not all at once
        return
    for _ in range(int(run.time_left() / WORKER_THINK_RANGE[0]) + 2):
        if run.time_left() <= 0:
            return
        listed = await call(run.rec, "worker list", client, "GET", "/api/cases", headers=headers,
                            params={"status": list(OPEN_FOR_WORKER), "limit": 50})
        if listed is not None and listed.status_code == 200:
            mine = [c for c in listed.json()["items"] if c["id"] % worker.sharers == worker.share]
            handling = [c for c in mine if c["status"] == "in_handling"]
            waiting = [c for c in mine if c["status"] in ("dispatched", "rework")]
            case, action = None, None
            if handling and (not waiting or rng.random() < 0.5):
                case, action = rng.choice(handling), "handle"
            elif waiting:
                case, action = waiting[-1], "accept"  # the oldest first
            if case is not None:
                opened = await call(run.rec, "worker case", client, "GET", f"/api/cases/{case['id']}",
                                    headers=headers)
                if opened is not None and opened.status_code == 200:
                    body: dict[str, Any] = {"action": action}
                    if action == "handle":
                        body.update(note="已处置（压测）", **case["position"])
                    await call(run.rec, f"worker {action}", client, "POST", f"/api/cases/{case['id']}/actions",
                               headers=headers, json=body)
        if not await run.pause(think()):
            return


async def dispatcher(run: Run, k: int) -> None:
    """A command-centre dispatcher (module doc): file and dispatch reported cases, verify handled ones."""
    rng = random.Random(SEED * 10 + k)
    async with new_client(run.url, 1, headers=bearer(run.world.dispatcher_keys[k])) as client:
        if not await run.pause(rng.uniform(0, DISPATCH_PAUSE[0])):
            return
        for _ in range(int(run.time_left() / DISPATCH_PAUSE[0]) + 2):
            if run.time_left() <= 0:
                return
            for status, actions in (("reported", ("file", "dispatch")), ("handled", ("verify",))):
                listed = await call(run.rec, "centre list", client, "GET", "/api/cases",
                                    params={"status": status, "limit": 100})
                if listed is None or listed.status_code != 200:
                    continue
                mine = [c for c in listed.json()["items"]
                        if c["id"] % DISPATCHERS == k and c["grid_code"] is not None][:DISPATCH_BATCH]
                for case in mine:
                    for action in actions:
                        done = await call(run.rec, f"centre {action}", client, "POST",
                                          f"/api/cases/{case['id']}/actions", json={"action": action})
                        if done is None or done.status_code != 200:
                            break
            if not await run.pause(rng.uniform(*DISPATCH_PAUSE)):
                return


def open311_positions(world: World, count: int, seed: int) -> np.ndarray:
    """`count` (lon, lat) uniformly inside the district (rejection sampling in its extent)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = world.district.bounds
    found: list[np.ndarray] = []
    have = 0
    for _ in range(100):
        xs, ys = rng.uniform(minx, maxx, 4 * count + 100), rng.uniform(miny, maxy, 4 * count + 100)
        inside = shapely.contains_xy(world.district, xs, ys)
        found.append(np.column_stack([xs[inside], ys[inside]]))
        have += int(inside.sum())
        if have >= count:
            break
    return np.concatenate(found)[:count]


def open311_form(run: Run, tag: str, k: int, position: np.ndarray) -> dict[str, str]:
    return {"api_key": run.world.open311_key, "service_code": run.services[k % len(run.services)],
            "long": f"{position[0]:.7f}", "lat": f"{position[1]:.7f}",
            "description": f"压测 {k}：路边有问题", "idempotency_key": f"load-{tag}-{k}"}


async def open311_feed(run: Run, tag: str, seconds: float) -> None:
    """Open311 posts at OPEN311_RATE, open loop (module doc); latency from the scheduled time."""
    count = int(seconds * OPEN311_RATE)
    positions = open311_positions(run.world, count, SEED)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    in_flight = 0
    tasks: set[asyncio.Task[None]] = set()
    async with new_client(run.url, OPEN311_MAX_IN_FLIGHT) as client:

        async def one(k: int, scheduled: float) -> None:
            nonlocal in_flight
            try:
                await call(run.rec, "open311 post", client, "POST", "/open311/v2/requests.json", since=scheduled,
                           data=open311_form(run, tag, k, positions[k]))
            finally:
                in_flight -= 1

        for k in range(count):
            scheduled = start + k / OPEN311_RATE
            await asyncio.sleep(max(0.0, scheduled - loop.time()))
            if in_flight >= OPEN311_MAX_IN_FLIGHT:
                run.rec.add("open311 post", 0.0, "shed")
                continue
            in_flight += 1
            task = asyncio.create_task(one(k, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 1.0)


# -- phases -----------------------------------------------------------------------------------------


async def progress(rec: Recorder, planned: float) -> None:
    """One line every PROGRESS_EVERY seconds until cancelled (bounded by the phase's own deadline)."""
    for _ in range(int(planned / PROGRESS_EVERY) + 30):
        await asyncio.sleep(PROGRESS_EVERY)
        say(rec.progress(PROGRESS_EVERY, planned))


async def bounded(rec: Recorder, planned: float, jobs: list[Awaitable[Any]]) -> None:
    """Run the jobs with a progress line; give them REQUEST_TIMEOUT after `planned` to finish, then cancel."""
    reporter = asyncio.create_task(progress(rec, planned))
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        _, pending = await asyncio.wait(tasks, timeout=planned + REQUEST_TIMEOUT + 5.0)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5.0)
            say(f"{rec.name}: {len(pending)} actors cancelled at the time limit")
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        reporter.cancel()
        rec.stop()


async def settle(url: str, world: World, limit: float = 120.0) -> None:
    """Wait until the server answers the version poll within 1 s three times in a row (what an earlier
    phase left queued has drained), at most `limit` seconds; say how long it took if it took long."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    quick = 0
    async with new_client(url, 1, headers=bearer(world.viewer_keys[0])) as client:
        while quick < 3 and loop.time() - start < limit:
            began = loop.time()
            try:
                async with asyncio.timeout(5.0):
                    answer = await client.get("/api/layers/version")
                quick = quick + 1 if answer.status_code == 200 and loop.time() - began < 1.0 else 0
            except (TimeoutError, httpx.HTTPError):
                quick = 0
            await asyncio.sleep(0.5)
    waited = loop.time() - start
    if quick < 3:
        say(f"the server is still not answering the version poll within 1 s after {waited:.0f} s; going on")
    elif waited > 3.0:
        say(f"the server answers quickly again after {waited:.0f} s")


async def sequential(rec: Recorder, name: str, url: str, path: str, headers: dict[str, str], count: int,
                     seconds: float) -> None:
    """One client, one request after another: `count` requests or `seconds`, whichever ends first."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    async with new_client(url, 1, headers=headers) as client:
        for _ in range(count):
            if loop.time() >= end:
                break
            await call(rec, name, client, "GET", path)


async def baseline(url: str, world: World, quick: bool) -> Recorder:
    rec = Recorder("baseline")
    seconds = 5.0 if quick else 15.0
    await sequential(rec, "base version", url, "/api/layers/version", bearer(world.viewer_keys[0]), 2000, seconds)
    await sequential(rec, "base healthz", url, "/healthz", {}, 2000, seconds)
    await sequential(rec, "base /", url, "/", {"Accept": "text/html"}, 20, seconds)
    rec.stop()
    return rec


async def warm_up(url: str, world: World, measures: list[str]) -> None:
    """The first layer of each measure, the coverage and overdue layers, a few tiles: caches and pools."""
    rec = Recorder("warm-up")
    async with new_client(url, 4, headers=bearer(world.viewer_keys[0])) as client:
        for measure in measures:
            await call(rec, "grids", client, "GET", "/api/layers/grids", params={"measure": measure, "period": "30d"})
        z, tiles = viewport_tiles(world, random.Random(SEED))
        x, y = tiles[0]
        for path in ("/api/layers/summary", "/api/layers/overdue", "/api/layers/coverage",
                     f"/tiles/grids/{z}/{x}/{y}.mvt", f"/tiles/cases/{z}/{x}/{y}.mvt", "/api/cases?limit=5"):
            await call(rec, "other", client, "GET", path)
    total = rec.total()
    say(f"warm-up: {total.count} requests, {sum(total.errors.values())} errors, slowest {total.ms(100):.0f} ms")


async def nominal(url: str, world: World, seconds: float, measures: list[str], services: list[str],
                  tag: str) -> Recorder:
    rec = Recorder("nominal")
    run = Run(url, world, rec, asyncio.get_running_loop().time() + seconds, measures, services, random.Random(SEED))
    async with new_client(url, WORKERS) as worker_client:
        jobs: list[Awaitable[Any]] = [wall_screen(run, k) for k in range(WALLS)]
        jobs += [map_viewer(run, k) for k in range(VIEWERS)]
        jobs += [grid_worker(run, worker_client, k) for k in range(WORKERS)]
        jobs += [dispatcher(run, k) for k in range(DISPATCHERS)]
        jobs.append(open311_feed(run, tag, seconds))
        await bounded(rec, seconds, jobs)
    return rec


async def probe(url: str, world: World, seconds: float) -> Recorder:
    """16 anonymous clients loading `/` back to back while one client polls the version, timed."""
    rec = Recorder("probe")
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def page_loader() -> None:
        async with new_client(url, 1, headers={"Accept": "text/html"}) as client:
            for _ in range(10_000):
                if loop.time() >= end:
                    return
                await call(rec, "probe /", client, "GET", "/")

    async def poller() -> None:
        async with new_client(url, 1, headers=bearer(world.wall_keys[0])) as client:
            for _ in range(int(seconds / PROBE_POLL_GAP) + 1):
                if loop.time() >= end:
                    return
                await call(rec, "probe version", client, "GET", "/api/layers/version")
                await asyncio.sleep(PROBE_POLL_GAP)

    await bounded(rec, seconds, [page_loader() for _ in range(PROBE_CLIENTS)] + [poller()])
    return rec


def knee_mix(world: World, measures: list[str], services: list[str], tag: str
             ) -> list[tuple[float, Callable[[random.Random, int], tuple[str, str, str, dict[str, Any]]]]]:
    """(weight, draw) per kind of request of the knee's mixed clients; draw gives (class, method, path,
    httpx arguments)."""
    centre = bearer(world.viewer_keys[0])
    positions = open311_positions(world, 20_000, SEED + 1)

    def version(rng: random.Random, n: int) -> tuple[str, str, str, dict[str, Any]]:
        return "version", "GET", "/api/layers/version", {"headers": centre}

    def grids(rng: random.Random, n: int) -> tuple[str, str, str, dict[str, Any]]:
        return "layer grids", "GET", "/api/layers/grids", {
            "headers": centre, "params": {"measure": rng.choice(measures), "period": "30d", "lang": "zh-CN"}}

    def summary(rng: random.Random, n: int) -> tuple[str, str, str, dict[str, Any]]:
        return "layer summary", "GET", "/api/layers/summary", {
            "headers": centre, "params": {"measure": rng.choice(measures), "period": "30d", "lang": "zh-CN"}}

    def tile(rng: random.Random, n: int) -> tuple[str, str, str, dict[str, Any]]:
        z, tiles = viewport_tiles(world, rng)
        x, y = rng.choice(tiles)
        layer = rng.choice(("grids", "cases"))
        params = {"measure": rng.choice(measures), "period": "30d"} if layer == "grids" else {}
        return f"tile {layer}", "GET", f"/tiles/{layer}/{z}/{x}/{y}.mvt", {"headers": centre, "params": params}

    def cases(rng: random.Random, n: int) -> tuple[str, str, str, dict[str, Any]]:
        worker = rng.choice(world.workers)
        return "worker list", "GET", "/api/cases", {
            "headers": bearer(worker.key), "params": {"status": list(OPEN_FOR_WORKER), "limit": 50}}

    def post(rng: random.Random, n: int) -> tuple[str, str, str, dict[str, Any]]:
        lon, lat = positions[n % len(positions)]
        return "open311 post", "POST", "/open311/v2/requests.json", {"data": {
            "api_key": world.open311_key, "service_code": services[n % len(services)], "long": f"{lon:.7f}",
            "lat": f"{lat:.7f}", "description": f"压测 knee {n}", "idempotency_key": f"load-{tag}-knee-{n}"}}

    return [(0.40, version), (0.10, grids), (0.05, summary), (0.25, tile), (0.15, cases), (0.05, post)]


@dataclass(frozen=True)
class Step:
    clients: int
    rec: Recorder
    cpu: dict[str, float]


async def knee(url: str, world: World, measures: list[str], services: list[str], tag: str, seconds: float,
               meter: CpuMeter) -> list[Step]:
    mix = knee_mix(world, measures, services, tag)
    weights = [w for w, _ in mix]
    steps = []
    sent = 0
    loop = asyncio.get_running_loop()
    for clients in KNEE_STEPS:
        rec = Recorder(f"knee {clients}")
        end = loop.time() + seconds

        async def client_loop(k: int, rec: Recorder = rec, end: float = end) -> None:
            nonlocal sent
            rng = random.Random(SEED * 7 + k)
            async with new_client(url, 1) as client:
                for _ in range(100_000):
                    if loop.time() >= end:
                        return
                    draw = rng.choices(mix, weights)[0][1]
                    name, method, path, kwargs = draw(rng, sent)
                    sent += 1
                    await call(rec, name, client, method, path, **kwargs)

        say(f"knee: {clients} closed-loop mixed clients for {seconds:.0f} s")
        before = meter.snapshot()
        await bounded(rec, seconds, [client_loop(k) for k in range(clients)])
        steps.append(Step(clients, rec, CpuMeter.shares(before, meter.snapshot(), rec.elapsed())))
        total = rec.total()
        say(f"knee {clients}: {len(total.latencies) / rec.elapsed():.1f} ok/s, p99 {total.ms(99):.0f} ms, "
            f"errors {total.error_text()}")
        await settle(url, world)
    return steps


# -- report -----------------------------------------------------------------------------------------


HEADER = (f"  {'class':<18} {'count':>7} {'rate/s':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'p99/base':>8}  errors")


def row(name: str, series: Series, seconds: float, base_p99: float) -> str:
    ratio = series.ms(99) / base_p99 if base_p99 and series.latencies else float("nan")
    return (f"  {name:<18} {series.count:>7} {series.count / seconds:>7.1f} {series.ms(50):>8.1f} "
            f"{series.ms(90):>8.1f} {series.ms(99):>8.1f} {ratio:>7.1f}×  {series.error_text()}")


def table(rec: Recorder, base_p99: float, order: list[str] | None = None) -> list[str]:
    names = order or sorted(rec.series)
    lines = [HEADER] + [row(n, rec.series[n], rec.elapsed(), base_p99) for n in names if n in rec.series]
    lines.append(row("all", rec.total(), rec.elapsed(), base_p99))
    return lines


NOMINAL_ORDER = ["wall sign-in", "wall page", "wall measures", VERSION, "wall grids", "wall summary",
                 "wall overdue", "wall coverage", "map tile grids", "map tile cases", "map legend", "worker list",
                 "worker case", "worker accept", "worker handle", "centre list", "centre file", "centre dispatch",
                 "centre verify", "open311 post"]


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def tree_state() -> str:
    """The commit measured and how many files differ from it (others may be editing the tree)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30,
                              check=False)
        return done.stdout.strip() if done.returncode == 0 else "?"

    changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line]
    return f"commit {git('rev-parse', '--short', 'HEAD')} with {len(changed)} tracked files changed in the tree"


def server_log_notes(log: Path | None) -> list[str]:
    """What the server logged that explains errors: pool exhaustion, client disconnects, 5xx."""
    if log is None or not log.exists():
        return []
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    marks = {"pool exhausted (QueuePool limit … reached, connection timed out)": "QueuePool limit",
             "requests answered 503 'database unavailable'": "database unavailable during",
             "client gone before the body was read (ClientDisconnect)": "starlette.requests.ClientDisconnect",
             "unhandled exceptions": "Exception in ASGI application"}
    found = [f"{sum(mark in line for line in lines)} × {what}" for what, mark in marks.items()]
    return [f"server log ({log.relative_to(PROJECT_ROOT)}): " + "; ".join(found)]


def report(args: argparse.Namespace, base: Recorder, mix: Recorder, probed: Recorder, steps: list[Step],
           cpu: dict[str, dict[str, float]], server_log: Path | None) -> None:
    base_p99 = base.series["base version"].ms(99)
    print()
    print(f"measured: {tree_state()}; load average at the end of the run "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores (a shared machine)")
    print(f"baseline (quiet server, one client, {base.elapsed():.0f} s) — p99/base is against the version poll "
          f"alone ({base_p99:.1f} ms)")
    print("\n".join(table(base, base_p99, ["base version", "base healthz", "base /"])[:-1]))
    print()
    print(f"nominal mix for {mix.elapsed():.0f} s: {WALLS} walls, {VIEWERS} tile map viewers, {WORKERS} grid "
          f"workers, {DISPATCHERS} dispatchers, Open311 at {OPEN311_RATE:.0f}/s")
    print("\n".join(table(mix, base_p99, NOMINAL_ORDER + sorted(set(mix.series) - set(NOMINAL_ORDER)))))
    print(f"  CPU (share of one core; {os.cpu_count()} cores): {CpuMeter.text(cpu['nominal'])}")
    print(f"  at most {mix.peak} requests in flight at once (client side)")
    total = mix.total()
    errors = sum(total.errors.values())
    over = [n for n, s in mix.series.items() if s.latencies and s.ms(99) >= P99_TARGET_MS]
    version = mix.series.get(VERSION, Series())
    print(f"  target 0 errors: {verdict(errors == 0)} ({total.error_text()})")
    print(f"  target p99 < {P99_TARGET_MS:.0f} ms in every class: {verdict(not over)}"
          + (f" (over: {', '.join(f'{n} {mix.series[n].ms(99):.0f} ms' for n in over)})" if over else ""))
    print(f"  version poll under the mix: p99 {version.ms(99):.1f} ms = {version.ms(99) / base_p99:.1f}× alone")
    print()
    print(f"probe: {PROBE_CLIENTS} anonymous clients loading / back to back, one client polling the version "
          f"every {PROBE_POLL_GAP} s, {probed.elapsed():.0f} s")
    print("\n".join(table(probed, base_p99, ["probe /", "probe version"])[:-1]))
    print(f"  CPU (share of one core): {CpuMeter.text(cpu['probe'])}; at most {probed.peak} requests in flight")
    polled = probed.series.get("probe version", Series())
    starved = not polled.latencies or polled.ms(99) >= P99_TARGET_MS or bool(polled.errors)
    print(f"  target: version poll not starved (p99 < {P99_TARGET_MS:.0f} ms, no errors): {verdict(not starved)} "
          f"— p99 {polled.ms(99):.1f} ms = {polled.ms(99) / base_p99:.1f}× alone; max {polled.ms(100):.0f} ms")
    print()
    print("knee search: closed-loop mixed clients, no think time (40 % version, 25 % tiles, 15 % worker "
          "list, 10 % grids layer, 5 % summary, 5 % Open311 post)")
    print(f"  {'clients':>7} {'ok/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'version p99':>11}  errors; CPU")
    rates = []
    for step in steps:
        total = step.rec.total()
        rate = len(total.latencies) / step.rec.elapsed()  # answered without error
        rates.append(rate)
        poll = step.rec.series.get("version", Series())
        print(f"  {step.clients:>7} {rate:>7.1f} {total.ms(50):>8.1f} {total.ms(99):>8.1f} {poll.ms(99):>8.1f} ms"
              f"  {total.error_text()}; {CpuMeter.text(step.cpu)}")
    flat = next((k for k in range(1, len(rates)) if rates[k] < rates[k - 1] * KNEE_GROWTH), None)
    if flat is None:
        print(f"  throughput still grows at {KNEE_STEPS[-1]} clients (each step ≥ {KNEE_GROWTH - 1:.0%} more)")
    else:
        print(f"  throughput stops growing between {KNEE_STEPS[flat - 1]} and {KNEE_STEPS[flat]} clients "
              f"({rates[flat - 1]:.1f} → {rates[flat]:.1f} ok/s, under {KNEE_GROWTH - 1:.0%} more): the knee is at "
              f"or below {KNEE_STEPS[flat - 1]} clients")
    for step in steps:
        errors = sum(step.rec.total().errors.values())
        server = step.cpu.get("server")
        if errors and server is not None and server < 10.0:
            print(f"  at {step.clients} clients the server stalled rather than saturated: {errors} errors while "
                  f"it used {server:.0f} % of a core")
    for line in server_log_notes(server_log):
        print(line)


# -- main -------------------------------------------------------------------------------------------


async def measure(url: str, world: World, args: argparse.Namespace, tag: str, meter: CpuMeter
                  ) -> tuple[Recorder, Recorder, Recorder, list[Step], dict[str, dict[str, float]]]:
    async with new_client(url, 1, headers=bearer(world.viewer_keys[0])) as client:
        listed = (await client.get("/api/layers/measures")).json()
        services = [s["service_code"] for s in (await client.get("/open311/v2/services.json")).json()]
    keys = [m["key"] for m in listed]
    measures = [m for m in WALL_PREFERRED if m in keys] or keys
    await warm_up(url, world, measures)
    say("baseline: the version poll, /healthz and / alone, one client")
    base = await baseline(url, world, args.quick)
    say(f"baseline: version p99 {base.series['base version'].ms(99):.1f} ms, healthz p99 "
        f"{base.series['base healthz'].ms(99):.1f} ms, / p50 {base.series['base /'].ms(50):.0f} ms")
    cpu: dict[str, dict[str, float]] = {}
    say(f"nominal mix for {args.duration:.0f} s")
    before = meter.snapshot()
    mix = await nominal(url, world, args.duration, measures, services, tag)
    cpu["nominal"] = CpuMeter.shares(before, meter.snapshot(), mix.elapsed())
    await settle(url, world)
    say(f"probe: {PROBE_CLIENTS} anonymous clients loading / for {args.probe:.0f} s, the version poll timed")
    before = meter.snapshot()
    probed = await probe(url, world, args.probe)
    cpu["probe"] = CpuMeter.shares(before, meter.snapshot(), probed.elapsed())
    await settle(url, world)
    steps = await knee(url, world, measures, services, tag, args.step, meter)
    return base, mix, probed, steps, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, help="seconds of the nominal mix (default 300; 30 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a 30-s nominal mix and short probe and knee steps")
    parser.add_argument("--url", help="use the server already running there (loopback only) instead of starting one")
    args = parser.parse_args()
    args.duration = args.duration or (30.0 if args.quick else 300.0)
    args.probe = 10.0 if args.quick else 30.0
    args.step = 8.0 if args.quick else 20.0
    if args.url and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--url must be a loopback address (127.0.0.1)")
    say(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    tag = time.strftime("%Y%m%d%H%M%S")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if args.url:
        say(f"using the server at {args.url}; keys made in the database of Settings.from_env()")
        world = make_world(None, tag)
        say(f"{len(world.workers)} grid workers on {len({w.grid for w in world.workers})} grids")
        results = asyncio.run(measure(args.url.rstrip("/"), world, args, tag, CpuMeter(None, None)))
        server_log = None
    else:
        cluster = EmbeddedCluster(CLUSTER_DIR, PORT, database=DATABASE)
        started = cluster.ensure_running()
        try:
            database_url = fresh_copy(cluster)
            world = make_world(database_url, tag)
            grids = len({w.grid for w in world.workers})
            say(f"{len(world.workers)} grid workers on {grids} grids; starting the server")
            with served(database_url) as (url, pid):
                postmaster = int((cluster.pgdata / "postmaster.pid").read_text().split()[0])
                say(f"serving on {url}")
                results = asyncio.run(measure(url, world, args, tag, CpuMeter(pid, postmaster)))
            server_log = BENCH_DIR / "load-server.log"
        finally:
            if started:
                cluster.stop()
    report(args, *results, server_log)
    say(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
