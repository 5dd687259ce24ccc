"""Benchmark: the impact preview of a community redraw plan (issue 10, part 5), against an in-memory baseline.

On the sample district (a copy of bench/load.py's template, in its cluster): the community with the most
buildings gets a plan made from its current grids (`gis.store.plans.create_plan`) in which one boundary moves
— a strip about 40 m wide along the edge two neighbouring grids share goes from one to the other. Measured:
`gis.store.plans.impact` through the store (read the area's buildings and cases from PostGIS, the boundary
rule on the plan's polygons, balance before and after, what changes hands), the median of `--runs`.
Baseline (same run, same data): geopandas `sjoin` of the community's buildings and open cases, already in
memory, with the plan's polygons, and the rows whose grid changes. Target: under 0.5 s.

    .venv/bin/python bench/plans.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load  # noqa: E402
from gis.permissions import Actor  # noqa: E402
from gis.plans.model import PlanGrid  # noqa: E402
from gis.settings import Settings  # noqa: E402
from gis.store import plan_review as review  # noqa: E402
from gis.store import plans as store  # noqa: E402
from gis.store.database import open_database  # noqa: E402
from gis.store.embedded import EmbeddedCluster  # noqa: E402
from gis.store.vocabulary import open_case_sql  # noqa: E402

DATABASE = "gridmap_plans_bench"
TARGET_S = 0.5
STRIP_DEGREES = 0.0004  # ≈ 40 m at Chongqing's latitude
PLANNER = Actor(username="bench-planner", role="planner")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fresh_database(cluster: EmbeddedCluster) -> str:
    """A copy of bench/load.py's sample template (loaded by it first if it is missing or stale)."""
    return load.fresh_copy(cluster, DATABASE)


def moved_boundary(grids: list[PlanGrid]) -> tuple[list[PlanGrid], str, str]:
    """The grids with one shared edge moved: a strip of the second grid along it goes to the first."""
    for first in grids:
        for second in grids:
            if first.code >= second.code or first.geometry.intersection(second.geometry).length < 0.002:
                continue
            strip = second.geometry.intersection(first.geometry.buffer(STRIP_DEGREES))
            changed = {first.code: first.geometry.union(strip), second.code: second.geometry.difference(strip)}
            return [PlanGrid(g.code, g.name, changed.get(g.code, g.geometry), g.branch_id, g.team_id, g.sources)
                    for g in grids], first.code, second.code
    raise RuntimeError("no two grids of the community share an edge")


def baseline(points: gpd.GeoDataFrame, grids: list[PlanGrid]) -> tuple[float, int]:
    """geopandas: which plan grid holds each point, and how many change grid (frames already in memory)."""
    polygons = gpd.GeoDataFrame({"plan_code": [g.code for g in grids]}, geometry=[g.geometry for g in grids],
                                crs="EPSG:4326")
    start = time.perf_counter()
    joined = gpd.sjoin(points, polygons, how="left", predicate="intersects")
    joined = joined.sort_values("plan_code").groupby(level=0).first()  # a point on an edge: smallest code
    changed = int((joined["plan_code"].fillna("") != joined["grid_code"].fillna("")).sum())
    return time.perf_counter() - start, changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    load.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    cluster = EmbeddedCluster(load.CLUSTER_DIR, load.PORT, database=DATABASE)
    started = cluster.ensure_running()
    try:
        say("copying the sample district")
        database = open_database(Settings(database_url=fresh_database(cluster)))
        with database.session() as session:
            area = session.execute(text(
                "SELECT left(g.code, 12) FROM building AS b JOIN grid AS g ON g.id = b.grid_id "
                "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar_one()
            plan_id = store.create_plan(session, area, "bench: one boundary moved", PLANNER)
            grids, gaining, losing = moved_boundary(store.plan_grids(session, plan_id))
            store.replace_grids(session, plan_id, grids, PLANNER)
            say(f"community {area}: {len(grids)} grids; plan {plan_id} moves the edge of {losing} to {gaining}")
            frame = gpd.read_postgis(text(
                "SELECT b.code AS id, g.code AS grid_code, b.geom FROM building AS b "
                "LEFT JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code "
                f"WHERE left(coalesce(g.code, ''), 12) = :area UNION ALL "
                "SELECT c.id::text, c.grid_code, c.position FROM service_case AS c "
                f"WHERE left(coalesce(c.grid_code, ''), 12) = :area AND {open_case_sql('c')}"),
                session.connection(), geom_col="geom", params={"area": area})
        say(f"{len(frame)} buildings and open cases in the community")
        impact_times, answer = [], None
        for run in range(1, args.runs + 1):
            with database.session() as session:
                start = time.perf_counter()
                answer = review.impact(session, plan_id, 500)
                impact_times.append(time.perf_counter() - start)
            say(f"impact run {run}/{args.runs}: {impact_times[-1]:.3f} s")
        base_times, changed = [], 0
        for _ in range(args.runs):
            elapsed, changed = baseline(frame, grids)
            base_times.append(elapsed)
        say(f"baseline: {len(base_times)} runs")
        database.close()
    finally:
        if started:
            cluster.stop()
    assert answer is not None
    impact_s, base_s = statistics.median(impact_times), statistics.median(base_times)
    moved = len(answer["buildings"]) + len(answer["open_cases"])
    print()
    print(f"community               {area} ({len(grids)} grids, {len(frame)} buildings and open cases)")
    print(f"impact, through store   {impact_s:8.3f} s median of {args.runs}  ({len(answer['buildings'])} buildings, "
          f"{len(answer['open_cases'])} unfinished cases change grid)  target < {TARGET_S} s: "
          f"{'yes' if impact_s < TARGET_S else 'NO'}")
    print(f"baseline, sjoin memory  {base_s:8.3f} s median of {args.runs}  ({changed} points change grid)")
    print(f"ratio                   {impact_s / base_s:8.1f} ×  (the store also reads PostGIS and counts balance "
          "before and after)")
    if shapely.__version__ and moved == 0:
        print("NOTE: nothing changed hands; the moved strip held no building")
    return 0


if __name__ == "__main__":
    sys.exit(main())
