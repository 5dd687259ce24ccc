"""`gridmap generate`: a seeded synthetic city of any size in the configured database.

The places (communities, streets, the district, grids, buildings, teams and party branches) go through
the import checks and loaders, as `gridmap import` takes them (gis.importing, gis.store.loaders), from
frames made in memory (gis/generate/lattice.py); the year of case history and the visits are made in SQL
at the database (gis/generate/history.py). The same seed and scale give the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import text

from gis.errors import InvalidInput
from gis.generate import history
from gis.generate.lattice import make_grids, make_points, teams_frame
from gis.generate.progress import Progress
from gis.importing import check_file
from gis.store.database import Database
from gis.store.loaders import load

DEFAULT_SEED = 2024


@dataclass(frozen=True)
class CityScale:
    """How much to make."""

    grids: int
    buildings: int
    cases: int
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        for name in ("grids", "buildings", "cases"):
            if getattr(self, name) < 0:
                raise InvalidInput(f"--{name} must be 0 or more, not {getattr(self, name)}")
        if self.grids < 1:
            raise InvalidInput("--grids must be at least 1")
        if self.grids > 200_000:
            raise InvalidInput(f"--grids {self.grids}: at most 200,000 (three-digit street numbers)")


def dsn_of(database: Database) -> str:
    """A libpq connection string for the database's engine (for sessions of its own: COPY, parallel builds)."""
    return database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def generate_city(database: Database, scale: CityScale, *, show_progress: bool = True,
                  made: datetime | None = None) -> dict[str, Any]:
    """Make the city in an empty database (no grids yet); counts of what was made, and when (`made`: the
    history runs over the year before it)."""
    with database.session() as session:
        existing = session.execute(text("SELECT count(*) FROM grid")).scalar_one()
    if existing:
        raise InvalidInput(f"the database already holds {existing} grids: generate into an empty database")
    made = made or datetime.now(UTC)
    visits_expected = int(0.6 * scale.buildings)
    progress = Progress(scale.grids * 4 + scale.buildings + scale.cases + visits_expected + scale.cases // 5 + 1,
                        enabled=show_progress)
    try:
        progress.note(f"places: {scale.grids} grids, {scale.buildings} buildings (seed {scale.seed})")
        communities, grids = make_grids(scale.grids, seed=scale.seed)
        buildings = make_points(scale.buildings, scale.grids, seed=scale.seed + 1)
        teams = teams_frame(grids["code"].tolist())
        for kind, frame, units in (("communities", communities, scale.grids), ("grids", grids, scale.grids * 2),
                                   ("buildings", buildings, scale.buildings), ("teams", teams, scale.grids)):
            progress.note(f"{kind}: checking and loading {len(frame)} rows")
            checked = check_file(kind, frame, source=f"generated {kind}")  # type: ignore[arg-type]
            with database.session() as session:
                load(session, checked, progress=progress.note)
            progress.advance(units)
        dsn = dsn_of(database)
        with psycopg.connect(dsn, autocommit=True) as conn:
            progress.note("cases: a circle inside every grid")
            history.prepare_picks(conn)
        progress.note(f"cases: inserting {scale.cases} over the year before {made:%Y-%m-%d}")
        history.insert_cases(dsn, scale.cases, made, scale.seed, progress)
        with psycopg.connect(dsn, autocommit=True) as conn:
            progress.note("visits")
            visits = history.insert_visits(conn, made, scale.seed)
            progress.advance(visits_expected)
            history.drop_picks(conn)
            progress.note("VACUUM ANALYZE (hint bits, visibility map, statistics)")
            conn.execute("VACUUM (ANALYZE)")
            progress.advance(scale.cases // 5 + 1)
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM grid), (SELECT count(*) FROM community), "
                "(SELECT count(*) FROM street), (SELECT count(*) FROM building), "
                "(SELECT count(*) FROM service_team), (SELECT count(*) FROM service_case)").fetchone()
        progress.note("done")
    finally:
        progress.close()
    assert counts is not None
    return {"grids": counts[0], "communities": counts[1], "streets": counts[2], "buildings": counts[3],
            "teams": counts[4], "cases": counts[5], "visits": visits, "seed": scale.seed,
            "made": made.isoformat(timespec="seconds")}
