"""The grid measure rows behind every map layer of today, kept per period in the layer cache: refreshed for
the grids a change touched (gis/store/incremental.py), and renewed by a full computation in the cache's own
thread once they descend from one 10 minutes old (`renew_rows`), so no request pays for that safety net.
Another day's rows (`as_of`) are computed as they stood then. `gis.store.layers` classes and draws them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any

from sqlalchemy.orm import Session

from gis.metrics import MEASURES
from gis.periods import Period
from gis.store.data_version import DataVersion, data_version
from gis.store.incremental import FULL_AFTER_SECONDS, MeasureRows, fresh_rows
from gis.store.layer_cache import VALUES_MAX_AGE_SECONDS, LayerCache
from gis.store.layer_pieces import Changes
from gis.store.measures import ORG_COUNTS, grid_measures
from gis.store.vocabulary import no_jit
from gis.workcalendar import SHANGHAI

__all__ = ["KEPT", "Rows", "measure_rows", "renew_rows"]

log = logging.getLogger(__name__)

KEPT = ("code", "name", *MEASURES, "overdue_open", *ORG_COUNTS)  # ORG_COUNTS: summary reuses them
"""What a cached measure row keeps (50,000 full rows of counts would weigh hundreds of megabytes)."""


@dataclass
class Rows:
    """`grid_measures` rows by code computed at `generated_at` for the data at `version`, and their
    classings by `LayerQuery.key`; `serial` numbers the computation in `changes`, which says which grids
    each computation of this period's rows recomputed; `fresh` is what the next refresh starts from."""

    version: DataVersion
    generated_at: datetime
    rows: dict[str, dict[str, Any]]
    changes: Changes
    serial: int
    fresh: MeasureRows | None = None
    classed: dict[tuple[Hashable, ...], Any] = field(default_factory=dict)  # LayerValues by query key


def measure_rows(session: Session, cache: LayerCache, period: Period, version: DataVersion,
                  target: int, as_of: date | None = None) -> Rows:
    key = ("rows", period.first_day, period.last_day, target, as_of)
    changes = cache.changes.keep(key, cache.changes.get(key) or Changes())

    def make(s: Session) -> Rows:
        no_jit(s)
        at = datetime.now(UTC)
        cache.computations += 1
        if as_of is None:  # today: the newest rows refreshed for the grids touched since (gis/store/incremental.py)
            before = cache.latest.get(key)
            background = cache.sessions is not None  # the safety net's full computation runs there (renew_rows)
            fresh = fresh_rows(s, before.fresh if before is not None else None, period, "grid", version, at,
                               households_per_worker_target=target, kept=KEPT,
                               full_after=max(2 * cache.renew_after, FULL_AFTER_SECONDS) if background
                               else FULL_AFTER_SECONDS)
            if background and fresh.changed is not None and monotonic() - fresh.made > cache.renew_after:
                _renew_later(cache, key, period, target)
            return cache.latest.keep(key, Rows(version, at, fresh.rows, changes, changes.add(fresh.changed), fresh))
        # Another day: the grids valid that day, and (for a past day) the cases' states at its end.
        moment = datetime.combine(as_of + timedelta(days=1), time(), SHANGHAI) - timedelta(microseconds=1)
        rows = grid_measures(s, period, at=moment, households_per_worker_target=target)
        return Rows(version, at, {row["code"]: {k: row[k] for k in KEPT} for row in rows}, changes,
                     changes.add(None))

    return cache.measures.versioned(key, version, make, session, min_interval=cache.values_min_interval,
                                    max_age=VALUES_MAX_AGE_SECONDS, sessions=cache.sessions)


def renew_rows(cache: LayerCache, period: Period, target: int = 500) -> bool:
    """The safety net of gis/store/incremental.py without a request paying for it: today's rows of `period`
    computed in full in a session of the cache's own, then swapped in as the newest (under the rows' own
    computation slot, so no refresh interleaves), with the grids whose rows differ recorded as changed, so
    classings and layer pieces rebuild only those. The rows served do not change until the next refresh,
    which starts from these. False (nothing swapped) when the day, places or organisations moved on
    meanwhile: that refresh computes in full anyway."""
    if cache.sessions is None:
        raise ValueError("renewing rows needs the cache's own sessions")
    key = ("rows", period.first_day, period.last_day, target, None)
    with cache.sessions() as session:
        no_jit(session)
        at = datetime.now(UTC)
        version = data_version(session)
        full = fresh_rows(session, None, period, "grid", version, at, households_per_worker_target=target,
                          kept=KEPT)
    with cache.measures.holding(key):
        before = cache.latest.get(key)
        old = before.fresh if before is not None else None
        if (before is None or old is None or old.day != full.day or old.version.places != version.places
                or old.version.org != version.org):
            return False
        changed = None if before.rows.keys() != full.rows.keys() else frozenset(
            code for code, row in full.rows.items() if before.rows[code] != row)
        cache.latest.keep(key, Rows(version, at, full.rows, before.changes, before.changes.add(changed), full))
        cache.renewals += 1
    return True


def _renew_later(cache: LayerCache, key: tuple[Any, ...], period: Period, target: int) -> None:
    if not cache.start_renewal(key):
        return

    def run() -> None:
        try:
            renew_rows(cache, period, target)
        except Exception:  # noqa: BLE001 - refreshes go on; past twice the age a request computes in full
            log.exception("renewing the measure rows of %s in the background failed", period)
        finally:
            cache.end_renewal(key)

    threading.Thread(target=run, name="measure-renewal", daemon=True).start()
