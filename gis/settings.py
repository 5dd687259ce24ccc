"""Runtime settings, built explicitly (never at import time) so tests and tools can make their own."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

CITY_SCALE_GRIDS = 2000
"""From this many current grids on, the wall draws vector tiles coloured from its measure table
(api/pages/wall.py) and the server computes that table at start-up instead of at the first wall's request
(gis/store/warmth.py): below it, both are quick enough to make when first asked."""


@dataclass(frozen=True)
class Settings:
    """Everything gridmap needs to know about where it runs.

    `database_url` None means: manage an embedded PostgreSQL cluster under `data_dir`.
    """

    database_url: str | None = None
    read_database_url: str | None = None  # a streaming replica for wall, layer and tile reads; writes go to the primary
    embedded_replica: bool = False  # with no URLs: also run a local streaming standby and read from it
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    embedded_port: int = 54329
    host: str = "127.0.0.1"
    port: int = 8000
    default_language: str = "zh-CN"
    households_per_worker_target: int = 500
    grid_households_range: tuple[int, int] = (200, 1500)  # households per grid a redraw plan should keep to
    escalation_grace_hours: float = 24.0  # overdue this long after the deadline: escalate to the community
    sweep_interval_seconds: float = 30.0  # how often the overdue sweeper runs inside the server
    warm_from_grids: int = CITY_SCALE_GRIDS  # from this many grids, the wall's first answers are made at start-up
    warm_interval_seconds: float = 60.0  # and kept warm this often (a new day's measures, aged rows)
    # The basemap beneath the grids (gis/basemap.py): an archive, else the one in <data_dir>/basemap/, or a
    # tile service with its coordinate system declared; none of them: the grids alone.
    basemap: Path | None = None  # a .pmtiles or .mbtiles file
    basemap_url: str | None = None  # XYZ {z}/{x}/{y} or WMTS {TileMatrix}/{TileRow}/{TileCol} template
    basemap_crs: str | None = None  # wgs84 or cgcs2000 (gcj02 and bd09 are refused)
    basemap_attribution: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read GRIDMAP_* variables; unset ones keep their defaults."""
        env = dict(os.environ if env is None else env)
        kwargs: dict[str, object] = {}
        if env.get("GRIDMAP_DATABASE_URL"):
            kwargs["database_url"] = env["GRIDMAP_DATABASE_URL"]
        if env.get("GRIDMAP_READ_DATABASE_URL"):
            kwargs["read_database_url"] = env["GRIDMAP_READ_DATABASE_URL"]
        if env.get("GRIDMAP_EMBEDDED_REPLICA", "").lower() in ("1", "true", "yes"):
            kwargs["embedded_replica"] = True
        if env.get("GRIDMAP_DATA_DIR"):
            kwargs["data_dir"] = Path(env["GRIDMAP_DATA_DIR"]).resolve()
        if env.get("GRIDMAP_EMBEDDED_PORT"):
            kwargs["embedded_port"] = int(env["GRIDMAP_EMBEDDED_PORT"])
        if env.get("GRIDMAP_HOST"):
            kwargs["host"] = env["GRIDMAP_HOST"]
        if env.get("GRIDMAP_PORT"):
            kwargs["port"] = int(env["GRIDMAP_PORT"])
        if env.get("GRIDMAP_HOUSEHOLDS_PER_WORKER"):
            kwargs["households_per_worker_target"] = int(env["GRIDMAP_HOUSEHOLDS_PER_WORKER"])
        if env.get("GRIDMAP_GRID_HOUSEHOLDS"):
            low, _, high = env["GRIDMAP_GRID_HOUSEHOLDS"].partition("-")
            kwargs["grid_households_range"] = (int(low), int(high))
        if env.get("GRIDMAP_ESCALATION_GRACE_HOURS"):
            kwargs["escalation_grace_hours"] = float(env["GRIDMAP_ESCALATION_GRACE_HOURS"])
        if env.get("GRIDMAP_SWEEP_INTERVAL_SECONDS"):
            kwargs["sweep_interval_seconds"] = float(env["GRIDMAP_SWEEP_INTERVAL_SECONDS"])
        if env.get("GRIDMAP_WARM_FROM_GRIDS"):
            kwargs["warm_from_grids"] = int(env["GRIDMAP_WARM_FROM_GRIDS"])
        if env.get("GRIDMAP_WARM_INTERVAL_SECONDS"):
            kwargs["warm_interval_seconds"] = float(env["GRIDMAP_WARM_INTERVAL_SECONDS"])
        if env.get("GRIDMAP_BASEMAP"):
            kwargs["basemap"] = Path(env["GRIDMAP_BASEMAP"]).resolve()
        for name in ("url", "crs", "attribution"):
            if env.get(f"GRIDMAP_BASEMAP_{name.upper()}"):
                kwargs[f"basemap_{name}"] = env[f"GRIDMAP_BASEMAP_{name.upper()}"]
        if env.get("GRIDMAP_API_KEYS"):
            raise ValueError("GRIDMAP_API_KEYS is not read: keys belong to users; create one with "
                             "`gridmap user NAME --role ROLE`, which prints its key")
        return cls(**kwargs)  # type: ignore[arg-type]
