"""Benchmark: measures, the grid layer and vector tiles at city scale (50,000 grids, 5,000,000 cases).

Baselines in the same run, on the same PostGIS database: tipg (PyPI; its own virtualenv under
var/bench/tipg-venv, see bench/tipg_server.py) serving the same `grid` table, for the features
(`/collections/public.grid/items`, every grid in one request) and the vector tiles
(`/collections/public.grid/tiles/WebMercatorQuad/{z}/{x}/{y}`, tipg's defaults: every column, no
simplification) of the same fixed tile set.
Measured:
  (a) `grid_measures` for the last 30 days, first call and warm (p50 of 5), and `district_summary`;
  (b) GET /api/layers/grids for 2 measures over HTTP: first request, cached (warm), and after a change
      of data (one case of another grid each round, past the server's minimum interval, so the answer must
      carry the change: the touched grids' measures refreshed, gis/store/incremental.py), beside tipg's items;
      then, in process, where the time of an uncached layer goes (SQL of measures, geometry, JSON, gzip),
      with the measures statement's EXPLAIN ANALYZE written to var/bench/layers-explain.txt;
  (c) GET /tiles/grids/{z}/{x}/{y}.mvt over every tile of the lattice at z12 and z14 and a sample at z16,
      sequentially after one warm pass: rendered (a classing not yet cached, so PostGIS makes each tile)
      and cached; tipg's tiles over the same set, interleaved pass by pass; both must agree on which
      tiles are empty.
Targets: the layer with measures under 1 s warm; right after a change p50 ≤ 0.5 s and ≤ 0.2 × tipg's items;
tiles no slower than tipg's (p50 ratio ≤ 1.0).

Data (seeded; reused between runs while the database holds the same scale, `--rebuild` forces it): made
by the product's generator, gis/generate (`gridmap generate`): grids of about 1 to 4 ha, communities and
streets, buildings and one service team per grid (3 % left without, so organisational gaps exist) through
the import path; cases made directly in SQL over the year before generation, in the order they were
reported, with statuses, deadlines and flags following the workflow, each at a point inside its grid (0.3 %
outside every grid, unrouted); visits for 60 % of buildings. No case ledger (case_event) is made: measures
"now" do not read it. The server runs with its overdue sweeper
hourly (GRIDMAP_SWEEP_INTERVAL_SECONDS), after the flags are brought up to date in SQL at the start.
Everything runs in an embedded cluster of its own (var/bench/layers-cluster, port 54369); nothing is
written outside var/bench and /tmp.

    .venv/bin/python bench/layers.py [--quick] [--rebuild] [--grids N --cases N --buildings N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
from sqlalchemy import event, text

sys.dont_write_bytecode = True  # nothing written outside var/bench and /tmp
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.serving import database_stamp, free_port, served_process  # noqa: E402
from bench.tipg_server import ensure_venv, served_tipg, versions  # noqa: E402
from gis.generate import CityScale, generate_city  # noqa: E402
from gis.periods import parse_period  # noqa: E402
from gis.settings import PROJECT_ROOT, Settings  # noqa: E402
from gis.store import layer_frames, layers, measures  # noqa: E402
from gis.store.database import Database, open_database  # noqa: E402
from gis.store.embedded import EmbeddedCluster  # noqa: E402
from gis.store.users import create_user  # noqa: E402
from gis.store.vocabulary import no_jit  # noqa: E402
from gis.workcalendar import SHANGHAI  # noqa: E402
from gis.workflow import CLOCK_STATUSES  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
CLUSTER_DIR = BENCH_DIR / "layers-cluster"
PORT = 54369
"""A cluster of its own: the shared one on 54349 is stopped by other benchmarks when they finish."""
SEED = 2024
DATA_VERSION = 3
"""Bump when the generator changes: a database made by an older one is rebuilt."""
PERIOD = "30d"
MEASURES = ("open_cases", "closure_rate")
LAYER_TARGET_S = 1.0
CHANGED_TARGET_S = 0.5
CHANGED_RATIO_TARGET = 0.2
"""The layer right after a change of data (issue 11.2): p50 seconds, and its ratio to tipg's items."""
TILE_TARGET = 1.0
SWEEP_INTERVAL_S = 3600


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", flush=True)


def loads() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


@dataclass(frozen=True)
class Scale:
    """How much data, and the database holding it."""

    grids: int
    buildings: int
    cases: int
    database: str

    def stamp(self) -> dict[str, int]:
        return {"grids": self.grids, "buildings": self.buildings, "cases": self.cases,
                "seed": SEED, "generator": DATA_VERSION}


# -- data ---------------------------------------------------------------------------------------


def database_for(grids: int) -> str:
    """One database per size, so runs at several sizes (bench/run_all.py) do not rebuild each other's."""
    return "gridmap_layers" if grids == 50_000 else f"gridmap_layers_{grids}"


def ensure_data(cluster: EmbeddedCluster, scale: Scale, rebuild: bool) -> tuple[Settings, str]:
    """The database for `scale`, made unless it already holds it; (settings, when its data was made)."""
    settings = Settings(database_url=cluster.url(scale.database), sweep_interval_seconds=SWEEP_INTERVAL_S)
    stamp = None if rebuild else _read_stamp(cluster, scale.database)
    if stamp is not None and all(stamp.get(k) == v for k, v in scale.stamp().items()):
        age = (datetime.now(UTC) - datetime.fromisoformat(stamp["made"])).total_seconds() / 86400
        say(f"reusing database {scale.database} (made {stamp['made']}, {age:.1f} days ago: the last "
            f"{min(age, 30):.1f} days of the period have no new cases; --rebuild makes it anew)")
        open_database(settings).close()  # migrations, if any were added since
        return settings, stamp["made"]
    started = time.perf_counter()
    say(f"building database {scale.database}: {scale.grids} grids, {scale.buildings} buildings, "
        f"{scale.cases} cases")
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {scale.database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {scale.database}")
    database = open_database(settings)  # schema and seeded reference data
    try:  # the product's generator (gis/generate, `gridmap generate`): places through the import path
        made = datetime.fromisoformat(generate_city(
            database, CityScale(scale.grids, scale.buildings, scale.cases, SEED), show_progress=False)["made"])
    finally:
        database.close()
    with psycopg.connect(cluster.dsn(scale.database), autocommit=True) as conn:
        comment = json.dumps({**scale.stamp(), "made": made.isoformat(timespec="seconds")})
        conn.execute(f"COMMENT ON DATABASE {scale.database} IS '{comment}'")
    say(f"database built in {time.perf_counter() - started:.0f} s")
    return settings, made.isoformat(timespec="seconds")


def _read_stamp(cluster: EmbeddedCluster, database: str) -> dict[str, Any] | None:
    """What the database says it holds (its COMMENT, written last by a complete build), or None."""
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        return database_stamp(conn, database)


_CLOCK = "(" + ", ".join(f"'{s.value}'" for s in sorted(CLOCK_STATUSES)) + ")"


def catch_up_flags(database: Database) -> int:
    """Set the supervision and escalation flags the hourly sweeper would have set since the data was
    made (in bulk, without events), so the server's first sweep finds next to nothing."""
    with database.session() as session:
        flagged = session.execute(text(
            f"UPDATE service_case SET supervised_at = least(deadline + interval '5 minutes', now()) "
            f"WHERE supervised_at IS NULL AND deadline < now() AND status IN {_CLOCK}")).rowcount
        flagged += session.execute(text(
            f"UPDATE service_case SET escalated_at = least(deadline + interval '24 hours 5 minutes', now()) "
            f"WHERE escalated_at IS NULL AND supervised_at IS NOT NULL "
            f"AND deadline < now() - interval '24 hours' AND status IN {_CLOCK}")).rowcount
    return flagged


def data_profile(database: Database) -> str:
    """Cases by status and other counts, for the report."""
    with database.session() as session:
        rows = session.execute(text(
            "SELECT status, count(*) FROM service_case GROUP BY status ORDER BY count(*) DESC")).all()
        counts = session.execute(text(
            "SELECT (SELECT count(*) FROM grid), (SELECT count(*) FROM building), "
            "(SELECT count(*) FROM visit), (SELECT count(*) FROM service_team), "
            "(SELECT count(*) FROM service_case WHERE grid_code IS NULL), "
            "pg_size_pretty(pg_total_relation_size('service_case'))")).one()
    statuses = ", ".join(f"{status} {n}" for status, n in rows)
    return (f"{counts[0]} grids, {counts[1]} buildings, {counts[2]} visits, {counts[3]} teams; "
            f"cases ({counts[5]} with indexes; {counts[4]} unrouted): {statuses}")


# -- figures ------------------------------------------------------------------------------------


@dataclass
class Timings:
    """Seconds of repeated runs of one thing."""

    seconds: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.seconds.append(value)

    def p(self, percentile: float) -> float:
        return float(np.percentile(self.seconds, percentile)) if self.seconds else float("nan")

    @property
    def total(self) -> float:
        return float(sum(self.seconds))

    def line(self) -> str:
        if not self.seconds:
            return "(none)"
        return (f"p50 {self.p(50) * 1000:9.1f} ms  p99 {self.p(99) * 1000:9.1f} ms  "
                f"total {self.total:7.2f} s  (n={len(self.seconds)})")


def _timed(make: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = make()
    return time.perf_counter() - started, value


# -- (a) measures in process --------------------------------------------------------------------


def measure_measures(database: Database) -> dict[str, Any]:
    """grid_measures for the last 30 days: first call, then p50 of 5; district_summary with and without
    grid rows handed in (the app hands them in)."""
    span = parse_period(PERIOD)
    period = span
    with database.session() as session:
        first, rows = _timed(lambda: measures.grid_measures(session, period))
    say(f"grid_measures first call {first:.2f} s ({len(rows)} grids)")
    warm = Timings()
    for _ in range(5):
        with database.session() as session:
            warm.add(_timed(lambda: measures.grid_measures(session, period))[0])
    say(f"grid_measures warm {warm.line()}")
    with database.session() as session:
        summary_given, district = _timed(lambda: measures.district_summary(session, period, grid_rows=rows))
        summary_alone, _ = _timed(lambda: measures.district_summary(session, period))
    say(f"district_summary {summary_given:.2f} s with grid rows given, {summary_alone:.2f} s alone; "
        f"open {district['open']}, overdue {district['overdue']}, unrouted open {district['unrouted_open']}")
    return {"first": first, "warm": warm, "summary_given": summary_given, "summary_alone": summary_alone,
            "grids": len(rows), "district": district}


def layer_breakdown(database: Database) -> dict[str, float]:
    """Where an uncached layer's time goes, in process: each step of `grid_layer` timed on its own (the
    frame steps call private functions of gis.store.layers; they are left out if those have changed)."""
    span = parse_period(PERIOD)
    period = span
    query = layers.layer_query(MEASURES[0], span)
    parts: dict[str, float] = {}
    with database.session() as session:
        no_jit(session)
        on = datetime.now(UTC).astimezone(SHANGHAI).date()
        parts["measures SQL (grid_measures)"], _ = _timed(lambda: measures.grid_measures(session, period))
        try:
            parts["organisation properties SQL"], props = _timed(lambda: layer_frames._props(session, on))
            parts["geometry SQL (simplify, GeoJSON)"], shapes = _timed(lambda: layer_frames._shapes(session, on))
            parts["frames joined as JSON text"], _ = _timed(lambda: layer_frames._join(props, shapes))
        except (AttributeError, TypeError) as exc:
            say(f"layer breakdown: frame steps left out ({exc})")
        cache = layers.LayerCache()
        parts["grid_layer, nothing cached"], body = _timed(lambda: layers.grid_layer(session, cache, query))
        parts["gzip of the body"], _ = _timed(lambda: body.gzipped)
        cache.measures = layers.LruStore(3)  # measures forgotten (nothing to refresh from), frames kept
        cache.latest.clear()
        parts["grid_layer, frames cached"], _ = _timed(lambda: layers.grid_layer(session, cache, query))
        # A change of one case, committed apart (the session reads committed data statement by statement).
        cache.values_min_interval = 0
        bump_version(database, 99)
        parts["grid_layer after a change (refreshed)"], body_after = _timed(
            lambda: layers.grid_layer(session, cache, query))
        parts["its gzip (pieces joined)"], _ = _timed(lambda: body_after.gzipped)
    parts["body MB"] = len(body.raw) / 1e6
    return parts


def explain_measures(database: Database, path: Path) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement `grid_measures` runs (caught on its way to the driver,
    with its parameters); the whole plan goes to `path`, the nodes taking ≥ 5 % of the time are returned."""
    span = parse_period(PERIOD)
    caught: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "case_stats" in statement:
            caught.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", catch)
    try:
        with database.session() as session:
            measures.grid_measures(session, span)
    finally:
        event.remove(database.engine, "before_cursor_execute", catch)
    statement, parameters = caught[-1]
    with database.session() as session:
        no_jit(session)
        result = session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = [r["QUERY PLAN"] for r in result.mappings()]
    path.write_text("\n".join(plan) + "\n", encoding="utf-8")
    total = next((float(line.split()[2]) for line in plan if line.startswith("Execution Time")), 0.0)
    kept = []
    for line in plan:
        if "actual time=" in line:
            end = float(line.split("actual time=")[1].split("..")[1].split()[0])
            if total and end >= 0.05 * total:
                kept.append(line.rstrip()[:150])
    return kept + [line for line in plan if line.startswith(("Planning Time", "Execution Time"))]


# -- servers ------------------------------------------------------------------------------------


@contextmanager
def served_app(database_url: str) -> Iterator[str]:
    """The app under uvicorn in a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "GRIDMAP_DATABASE_URL": database_url, "PYTHONDONTWRITEBYTECODE": "1",
           "GRIDMAP_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL_S)}
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log"]
    with served_process(command, ready_path="/healthz", log_path=BENCH_DIR / "layers-server.log",
                        cwd=PROJECT_ROOT, env=env, port=port, name="the app", timeout=120):
        yield f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Fetched:
    """One GET: seconds to the last byte (not decoding it), status, bytes on the wire, the raw body."""

    seconds: float
    status: int
    wire: int
    body: bytes
    encoding: str

    def decoded(self) -> bytes:
        return gzip.decompress(self.body) if self.encoding == "gzip" else self.body


def fetch(client: httpx.Client, path: str, encoding: str = "gzip") -> Fetched:
    """GET `path`, timing until the last byte arrives; the body is kept as sent (not decompressed)."""
    started = time.perf_counter()
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as response:
        body = b"".join(response.iter_raw())
        seconds = time.perf_counter() - started
    return Fetched(seconds, response.status_code, len(body), body,
                   response.headers.get("content-encoding", "identity"))


# -- (b) the layer over HTTP --------------------------------------------------------------------


def bump_version(database: Database, k: int = 0) -> str:
    """A one-row change to a case, as any case action makes: the data version moves on. `k` picks the case
    (the k-th of a fixed stride through the table, so successive changes touch other grids). Returns the
    new version token."""
    with database.session() as session:
        session.execute(text("UPDATE service_case SET updated_at = now() "
                             "WHERE id = (SELECT min(id) FROM service_case) + :offset"), {"offset": 7919 * k})
    with database.session() as session:
        return layers.data_version(session).token


def _layer_version(got: Fetched) -> str | None:
    """The `version` a layer body says its values were computed at (from its header)."""
    head = got.decoded()[:4096].decode("utf-8", "replace")
    marker = '"version":"'
    start = head.find(marker)
    return None if start < 0 else head[start + len(marker):head.find('"', start + len(marker))]


def layer_over_http(client: httpx.Client, database: Database, rounds: int, repeats: int,
                    grids: int) -> dict[str, Any]:
    """First request per measure, cached requests, and requests after a change of data."""
    out: dict[str, Any] = {"first": {}, "cached": {}, "changed": {}, "size": {}}
    bump_version(database)  # whatever was cached before (nothing, in a fresh server) is stale now
    for measure in MEASURES:
        got = fetch(client, f"/api/layers/grids?measure={measure}&period={PERIOD}")
        _check_layer(got, grids)
        out["first"][measure] = got.seconds
        out["size"][measure] = (got.wire / 1e6, len(got.decoded()) / 1e6)
        say(f"layer {measure}: first request {got.seconds:.2f} s, {got.wire / 1e6:.1f} MB gzip "
            f"({len(got.decoded()) / 1e6:.1f} MB JSON)")
    for measure in MEASURES:
        timings = out["cached"][measure] = Timings()
        for _ in range(repeats):
            timings.add(fetch(client, f"/api/layers/grids?measure={measure}&period={PERIOD}").seconds)
        say(f"layer {measure}: cached {timings.line()}")
    for measure in MEASURES:
        out["changed"][measure] = Timings()
    out["fresh"] = 0
    for k in range(rounds):
        # Past the interval within which the server may still serve the values of the version before (its
        # newest, tagged with their own version): each answer below must carry the change.
        time.sleep(layers.VALUES_MIN_INTERVAL_SECONDS + 0.2)
        token = bump_version(database, k + 1)
        for measure in MEASURES:
            got = fetch(client, f"/api/layers/grids?measure={measure}&period={PERIOD}")
            out["changed"][measure].add(got.seconds)
            out["fresh"] += _layer_version(got) == token
        say(f"layer after a change {k + 1}/{rounds}: "
            + ", ".join(f"{m} {out['changed'][m].seconds[-1]:.2f} s" for m in MEASURES))
    out["asked"] = rounds * len(MEASURES)
    return out


def _check_layer(got: Fetched, grids: int) -> None:
    if got.status != 200:
        raise RuntimeError(f"layer answered {got.status}: {got.decoded()[:300]!r}")
    features = len(json.loads(got.decoded())["features"])
    if features != grids:
        raise RuntimeError(f"layer has {features} features, expected {grids}")


def tipg_items(client: httpx.Client, repeats: int, grids: int) -> dict[str, Any]:
    """Every grid from tipg's items in one request (its limit raised to fit): first and repeated."""
    path = f"/collections/public.grid/items?limit={grids}"
    got = fetch(client, path)
    if got.status != 200:
        raise RuntimeError(f"tipg items answered {got.status}: {got.decoded()[:300]!r}")
    body = json.loads(got.decoded())
    returned = len(body["features"])
    if returned != grids:
        raise RuntimeError(f"tipg returned {returned} of {grids} grids in one request")
    say(f"tipg items: first request {got.seconds:.2f} s, {returned} features, {got.wire / 1e6:.1f} MB gzip "
        f"({len(got.decoded()) / 1e6:.1f} MB JSON)")
    timings = Timings()
    for _ in range(repeats):
        timings.add(fetch(client, path).seconds)
    say(f"tipg items: repeated {timings.line()}")
    return {"first": got.seconds, "repeated": timings, "size": (got.wire / 1e6, len(got.decoded()) / 1e6)}


# -- (c) tiles ----------------------------------------------------------------------------------


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_set(database: Database, z16_sample: int) -> list[tuple[int, int, int]]:
    """Every tile over the grids' extent at z12 and z14, and a seeded sample of those at z16."""
    with database.session() as session:
        minx, miny, maxx, maxy = session.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom)::geometry AS e FROM grid) AS x")).one()
    tiles: list[tuple[int, int, int]] = []
    for z in (12, 14, 16):
        x0, y0 = tile_xy(minx, maxy, z)
        x1, y1 = tile_xy(maxx, miny, z)
        level = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        if z == 16:
            rng = np.random.default_rng(SEED)
            picked = rng.choice(len(level), size=min(z16_sample, len(level)), replace=False)
            level = [level[i] for i in sorted(picked)]
        tiles += level
    return tiles


def mvt_features(data: bytes) -> int:
    """Features in a Mapbox vector tile, all layers."""
    import mapbox_vector_tile

    return sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(data).values())


@dataclass
class TilePass:
    """One sequential pass over the tile set: per-tile seconds, features, bytes."""

    timings: Timings = field(default_factory=Timings)
    features: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    by_zoom: dict[int, Timings] = field(default_factory=dict)


def tile_pass(client: httpx.Client, tiles: list[tuple[int, int, int]], path: Callable[[int, int, int], str],
              count: bool = False) -> TilePass:
    """Request every tile in turn (identity encoding: the tile as made, not its compression)."""
    result = TilePass()
    for z, x, y in tiles:
        got = fetch(client, path(z, x, y), encoding="identity")
        if got.status not in (200, 204):
            raise RuntimeError(f"tile {z}/{x}/{y} answered {got.status}: {got.body[:300]!r}")
        result.timings.add(got.seconds)
        result.by_zoom.setdefault(z, Timings()).add(got.seconds)
        result.sizes.append(len(got.body))
        result.features.append(mvt_features(got.body) if count and got.body else 0)
    return result


def tiles_compared(app: httpx.Client, tipg: httpx.Client, database: Database,
                   tiles: list[tuple[int, int, int]], passes: int) -> dict[str, Any]:
    """One warm pass each, then `passes` measured passes each, interleaved (ours, tipg, ours, …). Ours are
    rendered: before each pass the data version moves on and the measures are computed (one layer request),
    so every tile is made by PostGIS, with the measures at hand and fresh (the app refreshes them in the
    background once they are 30 s old, which may happen during a pass); the first pass uses the issue's URL,
    the others quantile classings. Right after the first, the same pass again is served from the app's
    tile cache."""

    def ours(suffix: str) -> Callable[[int, int, int], str]:
        return lambda z, x, y: f"/tiles/grids/{z}/{x}/{y}.mvt?measure=open_cases&period={PERIOD}{suffix}"

    def theirs(z: int, x: int, y: int) -> str:
        return f"/collections/public.grid/tiles/WebMercatorQuad/{z}/{x}/{y}"

    def fresh_measures() -> None:
        bump_version(database)
        fetch(app, f"/api/layers/grids?measure=open_cases&period={PERIOD}&geometry=false")

    say(f"tiles: warm pass over {len(tiles)} tiles, ours then tipg")
    fresh_measures()
    ours_warm = tile_pass(app, tiles, ours("&classify=quantile&classes=2"), count=True)
    tipg_warm = tile_pass(tipg, tiles, theirs, count=True)
    say(f"tiles warm: ours {ours_warm.timings.line()}; tipg {tipg_warm.timings.line()}")
    suffixes = [""] + [f"&classify=quantile&classes={k}" for k in range(3, 3 + passes - 1)]
    rendered, baseline, cached = TilePass(), TilePass(), TilePass()
    for k, suffix in enumerate(suffixes):
        fresh_measures()
        mine = tile_pass(app, tiles, ours(suffix))
        if k == 0:
            cached = tile_pass(app, tiles, ours(suffix))
            say(f"tiles cached: ours {cached.timings.line()}")
        other = tile_pass(tipg, tiles, theirs)
        for into, one in ((rendered, mine), (baseline, other)):
            into.timings.seconds += one.timings.seconds
            for z, t in one.by_zoom.items():
                into.by_zoom.setdefault(z, Timings()).seconds.extend(t.seconds)
        say(f"tiles pass {k + 1}/{passes}: ours {mine.timings.line()}; tipg {other.timings.line()}")
    agree = sum((a > 0) == (b > 0) for a, b in zip(ours_warm.sizes, tipg_warm.sizes, strict=True))
    return {"rendered": rendered, "tipg": baseline, "cached": cached, "agree": agree, "tiles": len(tiles),
            "ours_nonempty": sum(s > 0 for s in ours_warm.sizes),
            "tipg_nonempty": sum(s > 0 for s in tipg_warm.sizes),
            "ours_features": sum(ours_warm.features), "tipg_features": sum(tipg_warm.features),
            "ours_bytes": sum(ours_warm.sizes), "tipg_bytes": sum(tipg_warm.sizes)}


# -- report -------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_report(scale: Scale, made: str, profile: str, tipg_versions: str, m: dict[str, Any],
                 breakdown: dict[str, float], plan: list[str], lay: dict[str, Any], items: dict[str, Any],
                 tiles: dict[str, Any]) -> None:
    print()
    print(f"data: {profile}")
    print(f"      made {made}; period {PERIOD} ({parse_period(PERIOD).start:%Y-%m-%d} .. today)")
    print(f"baseline: {tipg_versions}")
    print(f"code: {code_state()}")
    print()
    print("measures statement, nodes ≥ 5 % of its time (EXPLAIN ANALYZE; whole plan in "
          "var/bench/layers-explain.txt):")
    for line in plan:
        print(f"    {line}")
    print()
    print("uncached layer, in process, step by step:")
    for name, seconds in breakdown.items():
        unit = "MB" if name.endswith("MB") else "s"
        print(f"    {name:<36} {seconds:8.2f} {unit}")
    print()
    print(f"(a) measures, {m['grids']} grids, last 30 days")
    print(f"  grid_measures first call        {m['first']:9.2f} s")
    print(f"  grid_measures warm              {m['warm'].line()}")
    print(f"  district_summary (rows given)   {m['summary_given']:9.2f} s   "
          f"(alone {m['summary_alone']:.2f} s)")
    print(f"(b) layer GeoJSON over HTTP, gzip, {scale.grids} features")
    worst_changed = 0.0
    for measure in MEASURES:
        wire, raw = lay["size"][measure]
        changed = lay["changed"][measure]
        worst_changed = max(worst_changed, changed.p(50))
        print(f"  {measure:<14} first request  {lay['first'][measure]:9.2f} s   "
              f"({wire:.1f} MB gzip, {raw:.1f} MB)")
        print(f"  {measure:<14} cached         {lay['cached'][measure].line()}")
        shared = " (measures already computed for the first)" if measure != MEASURES[0] else ""
        print(f"  {measure:<14} after a change {changed.line()}{shared}")
    wire, raw = items["size"]
    print(f"  tipg items     first request  {items['first']:9.2f} s   ({wire:.1f} MB gzip, {raw:.1f} MB)")
    print(f"  tipg items     repeated       {items['repeated'].line()}")
    ours_changed = lay["changed"][MEASURES[0]].p(50)
    ours_cached = lay["cached"][MEASURES[0]].p(50)
    ratio_changed = ours_changed / items['repeated'].p(50)
    print(f"  ratio ours/tipg p50: after a change {ratio_changed:.2f} ×, "
          f"cached {ours_cached / items['repeated'].p(50):.2f} ×")
    print(f"  after a change: {lay['fresh']} of {lay['asked']} answers carried the new version; target p50 ≤ "
          f"{CHANGED_TARGET_S} s {verdict(ours_changed <= CHANGED_TARGET_S)}, ≤ {CHANGED_RATIO_TARGET} × tipg's "
          f"items {verdict(ratio_changed <= CHANGED_RATIO_TARGET)}")
    print(f"  target < {LAYER_TARGET_S:.0f} s warm: cached {verdict(ours_cached < LAYER_TARGET_S)}; "
          f"after a change of data (measures recomputed) {verdict(worst_changed < LAYER_TARGET_S)}")
    rendered, baseline, cached = tiles["rendered"], tiles["tipg"], tiles["cached"]
    print(f"(c) vector tiles, {tiles['tiles']} tiles (z12, z14 all over the grids; z16 sample), sequential")
    print(f"  ours rendered    {rendered.timings.line()}")
    for z, t in sorted(rendered.by_zoom.items()):
        print(f"      z{z:<2}         {t.line()}")
    print(f"  tipg             {baseline.timings.line()}")
    for z, t in sorted(baseline.by_zoom.items()):
        print(f"      z{z:<2}         {t.line()}")
    print(f"  ours cached      {cached.timings.line()}")
    p50, p99 = (rendered.timings.p(q) / baseline.timings.p(q) for q in (50, 99))
    total = rendered.timings.total / baseline.timings.total
    print(f"  ratio rendered/tipg  p50 {p50:.2f} ×  p99 {p99:.2f} ×  total {total:.2f} ×  "
          f"(target ≤ {TILE_TARGET:.1f}: {verdict(p50 <= TILE_TARGET)}; p99 {verdict(p99 <= TILE_TARGET)})")
    print(f"  ratio cached/tipg    p50 {cached.timings.p(50) / baseline.timings.p(50):.2f} ×")
    print(f"  non-empty tiles: ours {tiles['ours_nonempty']}, tipg {tiles['tipg_nonempty']}; "
          f"agree on {tiles['agree']} of {tiles['tiles']}")
    print(f"  features (warm pass): ours {tiles['ours_features']}, tipg {tiles['tipg_features']}; "
          f"bytes ours {tiles['ours_bytes'] / 1e6:.1f} MB, tipg {tiles['tipg_bytes'] / 1e6:.1f} MB")


def code_state() -> str:
    """The commit, and the files of the app changed since it (the figures are for this tree)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
        return done.stdout.rstrip("\n") if done.returncode == 0 else "?"

    changed = [line[3:] for line in git("status", "--porcelain", "--", "gis", "api").splitlines()]
    return f"commit {git('rev-parse', '--short', 'HEAD')}; changed since: {', '.join(changed) or 'none'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (about a minute)")
    parser.add_argument("--rebuild", action="store_true", help="make the data anew even if it is there")
    parser.add_argument("--grids", type=int)
    parser.add_argument("--cases", type=int)
    parser.add_argument("--buildings", type=int)
    args = parser.parse_args()
    quick = args.quick
    grids = args.grids or (2_000 if quick else 50_000)
    scale = Scale(grids, args.buildings or (20_000 if quick else 500_000),
                  args.cases or (50_000 if quick else 5_000_000),
                  "gridmap_layers_quick" if quick else database_for(grids))
    repeats, rounds, passes, z16 = (5, 2, 2, 20) if quick else (10, 5, 3, 30)
    say(f"load average at start: {loads()} ({os.cpu_count()} cores); {code_state()}")
    tipg_python = ensure_venv(say)
    cluster = EmbeddedCluster(CLUSTER_DIR, PORT, database=scale.database)
    started = cluster.ensure_running()
    settings, made = ensure_data(cluster, scale, args.rebuild)
    assert settings.database_url is not None
    database = open_database(settings)
    try:
        say(f"sweeper catch-up: {catch_up_flags(database)} flags set")
        profile = data_profile(database)
        say(profile)
        m = measure_measures(database)
        say("layer breakdown in process, and EXPLAIN ANALYZE of the measures statement")
        breakdown = layer_breakdown(database)
        plan = explain_measures(database, BENCH_DIR / "layers-explain.txt")
        tiles = tile_set(database, z16)
        with database.session() as session:
            key = create_user(session, f"bench-layers-{int(time.time())}", "command_centre")
        tipg_url = f"postgresql://postgres@127.0.0.1:{PORT}/{scale.database}"
        with served_app(settings.database_url) as app_url, \
                served_tipg(tipg_url, max_features=scale.grids) as t_url:
            say(f"serving ours on {app_url}, tipg on {t_url}")
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=app_url, headers=headers, timeout=300) as app, \
                    httpx.Client(base_url=t_url, timeout=300) as tipg:
                lay = layer_over_http(app, database, rounds, repeats, scale.grids)
                items = tipg_items(tipg, repeats, scale.grids)
                compared = tiles_compared(app, tipg, database, tiles, passes)
    finally:
        database.close()
    print_report(scale, made, profile, versions(tipg_python), m, breakdown, plan, lay, items, compared)
    say(f"load average at end: {loads()}")
    if started:
        cluster.stop()
    return 0 if compared["agree"] == compared["tiles"] else 1


if __name__ == "__main__":
    sys.exit(main())
