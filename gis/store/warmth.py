"""The wall's first answers made before anyone asks, at city scale.

Why: a server that has just started holds no measure rows. At 50,000 grids and 5,000,000 cases the first
full computation reads every case of the period (about 6 s), and classing ten wall measures for 50,000
grids takes another half second, so the first wall opened after a start (or after midnight, when the day's
period changes) waited 8 s for its colours while its tiles were drawn in 3. Everything after that first
computation is incremental (gis/store/incremental.py). So the server makes that computation itself: at
start-up and then every `warm_interval_seconds`, for the wall's default period, it asks for exactly what a
wall's first load asks for — the measure table (`gis.store.tile_classes`) with its JSON body in the default
language, the summary of the wall's first measure, the overdue cases and the coverage gaps, each body
gzipped as a browser takes it — through the same cached functions, so the next wall finds them made
(the overdue and coverage layers are kept only for seconds while cases change; a wall opened later
finds them as the other walls' polling left them). Below `warm_from_grids` current grids nothing is
made: the district answers its first wall quickly anyway, and tests keep their caches cold.

A later call costs a version check and cache look-ups while the data is unchanged, and the incremental
refresh of the touched grids when it has changed; a new day recomputes in full here, not in a request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gis.periods import DEFAULT_PERIOD, parse_period
from gis.store.layer_cache import LayerCache
from gis.store.layers import coverage, layer_query, overdue, summary
from gis.store.tile_classes import WALL_MEASURES, class_table, table_body
from gis.store.tiles import current_grids

__all__ = ["Warmth", "warm_wall"]


@dataclass(frozen=True)
class Warmth:
    """What one warming did: `state` is "warm" (made or found made) or "small" (below the threshold,
    nothing made); `grids` the current grids counted; `seconds` how long it took; `stamp` the table's."""

    state: str
    grids: int
    seconds: float
    stamp: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "grids": self.grids, "seconds": round(self.seconds, 3), "stamp": self.stamp}


def warm_wall(session: Session, cache: LayerCache, *, from_grids: int, language: str = "zh-CN",
              households_per_worker_target: int = 500) -> Warmth:
    """Make (or find made) the wall's measure table, its body and its first measure's summary for the
    default period, when there are at least `from_grids` current grids."""
    started = time.perf_counter()
    grids, _ = current_grids(session)  # the count the wall page decides its drawing by
    if grids < from_grids:
        return Warmth("small", grids, time.perf_counter() - started)
    period = parse_period(DEFAULT_PERIOD)
    table = class_table(session, cache, period, households_per_worker_target=households_per_worker_target)
    bodies = [table_body(cache, table, period, language=language,
                         households_per_worker_target=households_per_worker_target)]
    summary(session, cache, layer_query(WALL_MEASURES[0], period), language=language,
            households_per_worker_target=households_per_worker_target)
    bodies += [overdue(session, cache, language=language), coverage(session, cache)]
    for body in bodies:
        body.gzipped  # noqa: B018 - made now, kept with the body: what a browser is sent
    return Warmth("warm", grids, time.perf_counter() - started, table.stamp)
