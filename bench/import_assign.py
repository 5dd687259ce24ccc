"""Benchmark: import and assign 1,000,000 buildings on 50,000 grids, against the floor of any design.

Baseline (same run, same files, same database): the least any import must spend — geopandas reads the
buildings' GeoPackage (pyogrio, Arrow) and joins them to the grids in memory (`sjoin(points, polygons,
predicate="within")`, the grids already in memory), then a plain `COPY` of the same rows (CSV from pandas,
geometry as hex EWKB) into an unindexed table of the same columns. Measured: `gridmap import buildings`
through the real code path (read, check every feature, assign by the boundary rule, write to PostGIS in one
transaction with the spatial index), split into its steps from the import's own progress lines.
Target (issue 11.4): the import within 2× the baseline. Also: the grids' import (which reassigns nothing
yet), and the same buildings file again, unchanged (nothing written, index not rebuilt).

    .venv/bin/python bench/import_assign.py [--grids 50000] [--buildings 1000000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import psycopg
import pyogrio
import shapely
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import cli  # noqa: E402
from api.cli import import_file  # noqa: E402
from gis.generate.lattice import make_grids, make_points  # noqa: E402
from gis.settings import PROJECT_ROOT, Settings  # noqa: E402
from gis.store.embedded import EmbeddedCluster  # noqa: E402

TARGET = 2.0
STEPS: list[tuple[float, str]] = []


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", flush=True)


def _timed_progress(message: str) -> None:
    """The import's progress lines, timestamped, so the steps can be told apart."""
    STEPS.append((time.perf_counter(), message))
    say(f"  | {message}")


def baseline(path: Path, grids: gpd.GeoDataFrame, dsn: str) -> dict[str, float | int]:
    """Read + sjoin + plain COPY of the joined rows into an unindexed table."""
    out: dict[str, float | int] = {}
    start = time.perf_counter()
    points = pyogrio.read_dataframe(path, use_arrow=True)
    out["read"] = time.perf_counter() - start
    start = time.perf_counter()
    joined = gpd.sjoin(points, grids[["code", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    out["sjoin"] = time.perf_counter() - start
    out["inside"] = int(joined["code_right"].notna().sum())
    start = time.perf_counter()
    frame = joined.assign(geom=shapely.to_wkb(shapely.set_srid(joined.geometry.values, 4326), hex=True,
                                              include_srid=True))
    frame = frame[["code_left", "households", "residents", "floors", "code_right", "geom"]]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_copy")
        conn.execute("CREATE TABLE floor_copy (code text, households integer, residents integer, floors integer, "
                     "grid_code text, geom geometry)")
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False)
        with conn.cursor() as cursor, cursor.copy("COPY floor_copy FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        conn.execute("DROP TABLE floor_copy")
    out["copy"] = time.perf_counter() - start
    out["total"] = out["read"] + out["sjoin"] + out["copy"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=50_000)
    parser.add_argument("--buildings", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=54349, help="the bench cluster's port (var/bench)")
    parser.add_argument("--profile", action="store_true", help="cProfile the buildings import (top 25 printed)")
    args = parser.parse_args()
    say(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    say(f"generating {args.grids} grids and {args.buildings} buildings (gis/generate/lattice.py, seeded)")
    communities, grids = make_grids(args.grids)
    points = make_points(args.buildings, args.grids)

    cluster = EmbeddedCluster(PROJECT_ROOT / "var" / "bench", args.port, database="gridmap_bench", fast_unsafe=False)
    started = cluster.ensure_running()
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS gridmap_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE gridmap_bench")
    settings = Settings(database_url=cluster.url())
    cli._progress = _timed_progress  # the import's steps, timed
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, frame in (("communities", communities), ("grids", grids), ("buildings", points)):
            paths[name] = Path(folder) / f"{name}.gpkg"
            say(f"writing {paths[name].name} ({len(frame)} features)")
            frame.to_file(paths[name], engine="pyogrio")
        import_file(settings, "communities", paths["communities"])
        start = time.perf_counter()
        import_file(settings, "grids", paths["grids"])
        timings["grids"] = time.perf_counter() - start
        say(f"import grids: {timings['grids']:.2f} s")
        say("baseline: read + sjoin + plain COPY")
        floor = baseline(paths["buildings"], grids, cluster.dsn())
        say(f"baseline: {floor['total']:.2f} s (read {floor['read']:.2f}, sjoin {floor['sjoin']:.2f}, "
            f"COPY {floor['copy']:.2f})")
        STEPS.clear()
        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        import_file(settings, "buildings", paths["buildings"])
        if profiler:
            profiler.disable()
        timings["buildings"] = time.perf_counter() - start
        ends = [t for t, _ in STEPS[1:]] + [start + timings["buildings"]]
        steps = [(message, end - t) for (t, message), end in zip(STEPS, ends, strict=True)]
        say(f"import buildings: {timings['buildings']:.2f} s")
        start = time.perf_counter()
        again = import_file(settings, "buildings", paths["buildings"])
        timings["reimport"] = time.perf_counter() - start
        say(f"re-import of the unchanged buildings: {timings['reimport']:.2f} s ({again})")

    with psycopg.connect(cluster.dsn(), row_factory=dict_row) as conn:
        stored_inside = conn.execute("SELECT count(*) AS inside FROM building WHERE grid_id IS NOT NULL"
                                     ).fetchone()["inside"]
    ratio = timings["buildings"] / floor["total"]
    print()
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        print(text.getvalue())
    print("where the import's time goes (each progress line of the import, and the time until the next):")
    for message, seconds in steps:
        print(f"  {seconds:7.2f} s  {message[:100]}")
    print(f"grids                    {args.grids:>10}")
    print(f"buildings                {args.buildings:>10}")
    print(f"import grids             {timings['grids']:>10.2f} s")
    print(f"baseline read            {floor['read']:>10.2f} s")
    print(f"baseline sjoin           {floor['sjoin']:>10.2f} s  ({floor['inside']} inside)")
    print(f"baseline COPY            {floor['copy']:>10.2f} s")
    print(f"baseline total           {floor['total']:>10.2f} s")
    print(f"import buildings         {timings['buildings']:>10.2f} s  ({stored_inside} inside, stored)")
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"ratio                    {ratio:>10.2f} ×  (target ≤ {TARGET:.1f}: {verdict})")
    print(f"re-import, unchanged     {timings['reimport']:>10.2f} s  "
          f"({timings['reimport'] / timings['buildings']:.2f} × the first import; "
          f"{again.get('changed', '?')} changed, index rebuilt: {again.get('index_rebuilt', '?')})")
    if started:  # another benchmark may share the cluster
        cluster.stop()
    if stored_inside != floor["inside"]:
        print(f"MISMATCH: stored {stored_inside} inside vs baseline {floor['inside']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
