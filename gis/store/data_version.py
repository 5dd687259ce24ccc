"""The data version the wall polls: one tiny query over `layer_change`, a log that statement-level
triggers write in the changing transaction (migration 0003), summed per kind: cases, places,
org(anisations), visits. Every cache of the layers and tiles is keyed by it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["COMPACT_AFTER", "VERSION_KINDS", "DataVersion", "compact_changes", "data_version"]

COMPACT_AFTER = 256
"""`layer_change` rows beyond which a reader folds them into one row per kind."""
VERSION_KINDS = ("cases", "places", "org", "visits")


@dataclass(frozen=True)
class DataVersion:
    """Committed changes so far, per kind; `token` is the opaque string the wall compares."""

    cases: int = 0
    places: int = 0
    org: int = 0
    visits: int = 0

    @property
    def token(self) -> str:
        return f"c{self.cases}.p{self.places}.o{self.org}.v{self.visits}"


def data_version(session: Session) -> DataVersion:
    """The current version: sums over the few rows of `layer_change` (compacted when they pile up)."""
    rows = session.execute(text(
        "SELECT kind, sum(n) AS total, count(*) AS entries FROM layer_change GROUP BY kind")).mappings().all()
    if sum(r["entries"] for r in rows) > COMPACT_AFTER and not session.info.get("replica"):
        compact_changes(session)
    sums = {r["kind"]: int(r["total"]) for r in rows if r["kind"] in VERSION_KINDS}
    return DataVersion(**sums)


def compact_changes(session: Session) -> None:
    """Fold the log into one row per kind; the sums, and so the version, stay the same. Readers on the
    primary do it as they go; with a read replica, the sweeper does it (a replica cannot write)."""
    locked = text("SELECT pg_try_advisory_xact_lock(hashtext('gridmap.layer_change'))")
    if session.execute(locked).scalar_one():
        session.execute(text(
            "WITH gone AS (DELETE FROM layer_change RETURNING kind, n) "
            "INSERT INTO layer_change (kind, n) SELECT kind, sum(n) FROM gone GROUP BY kind"
        ))
