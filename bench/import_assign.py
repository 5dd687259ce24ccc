"""Benchmark: import and assign 50,000 grids and 1,000,000 buildings, against an in-memory baseline.

Baseline (same run, same data): geopandas `sjoin(points, polygons, predicate="within")` on frames
already in memory. Measured: `gridmap import grids` + `gridmap import buildings` through the real code
path (read the GeoPackage with pyogrio, check every feature, assign, write to PostGIS).
Target: import + assignment ≤ 3× the baseline and under 120 s on this machine. Then the same buildings
file again, unchanged: what a quiet re-import costs (nothing written, spatial index not rebuilt), against
the first import in the same run.

    .venv/bin/python bench/import_assign.py [--grids 50000] [--buildings 1000000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import psycopg
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.cli import import_file  # noqa: E402
from bench.synthetic import make_grids, make_points  # noqa: E402
from gis.settings import PROJECT_ROOT, Settings  # noqa: E402
from gis.store.embedded import EmbeddedCluster  # noqa: E402


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=50_000)
    parser.add_argument("--buildings", type=int, default=1_000_000)
    args = parser.parse_args()

    say(f"generating {args.grids} grids and {args.buildings} buildings (seeded)")
    communities, grids = make_grids(args.grids)
    points = make_points(args.buildings, args.grids)

    say("baseline: geopandas sjoin in memory")
    start = time.perf_counter()
    joined = gpd.sjoin(points[["geometry"]], grids[["code", "geometry"]], how="left", predicate="within")
    baseline = time.perf_counter() - start
    inside = joined["code"].notna().sum()
    say(f"baseline: {baseline:.2f} s, {inside} points inside a grid")

    cluster = EmbeddedCluster(PROJECT_ROOT / "var" / "bench", 54349, database="gridmap_bench", fast_unsafe=False)
    started = cluster.ensure_running()
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS gridmap_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE gridmap_bench")
    settings = Settings(database_url=cluster.url())

    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, frame in (("communities", communities), ("grids", grids), ("buildings", points)):
            paths[name] = Path(folder) / f"{name}.gpkg"
            say(f"writing {paths[name].name} ({len(frame)} features)")
            frame.to_file(paths[name], engine="pyogrio")
        import_file(settings, "communities", paths["communities"])
        timings = {}
        for kind in ("grids", "buildings"):
            start = time.perf_counter()
            import_file(settings, kind, paths[kind])
            timings[kind] = time.perf_counter() - start
            say(f"import {kind}: {timings[kind]:.2f} s")
        start = time.perf_counter()
        again = import_file(settings, "buildings", paths["buildings"])
        timings["reimport"] = time.perf_counter() - start
        say(f"re-import of the unchanged buildings: {timings['reimport']:.2f} s ({again})")

    with psycopg.connect(cluster.dsn(), row_factory=dict_row) as conn:
        stored_inside = conn.execute("SELECT count(*) AS inside FROM building WHERE grid_id IS NOT NULL"
                                     ).fetchone()["inside"]
    total = timings["grids"] + timings["buildings"]
    ratio = total / baseline
    print()
    print(f"grids            {args.grids:>10}")
    print(f"buildings        {args.buildings:>10}")
    print(f"baseline sjoin   {baseline:>10.2f} s  ({inside} inside)")
    print(f"import grids     {timings['grids']:>10.2f} s")
    print(f"import buildings {timings['buildings']:>10.2f} s  ({stored_inside} inside, stored)")
    print(f"import + assign  {total:>10.2f} s")
    print(f"ratio            {ratio:>10.2f} ×  (target ≤ 3.0; under 120 s: {'yes' if total < 120 else 'NO'})")
    print(f"re-import, unchanged {timings['reimport']:>6.2f} s  "
          f"({timings['reimport'] / timings['buildings']:.2f} × the first import; "
          f"{again.get('changed', '?')} changed, index rebuilt: {again.get('index_rebuilt', '?')})")
    if stored_inside != inside:
        print(f"MISMATCH: stored {stored_inside} inside vs baseline {inside}")
        return 1
    if started:  # another benchmark may share the cluster
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
