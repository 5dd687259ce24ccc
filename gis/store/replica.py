"""A read replica: PostgreSQL streaming replication, and how far behind the primary it is.

Wall, layer and tile reads may go to a standby (`GRIDMAP_READ_DATABASE_URL`) so a room of wall screens
never competes with intake; every write goes to the primary. With no URL configured and
`GRIDMAP_EMBEDDED_REPLICA=1`, gridmap runs the standby itself beside its embedded cluster (as the tests do).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, text

from gis.store.embedded import SERVER_USER, EmbeddedCluster, EmbeddedDatabaseError

log = logging.getLogger(__name__)

__all__ = ["LagMonitor", "StandbyCluster", "replication_lag", "standby_for"]


@dataclass
class StandbyCluster(EmbeddedCluster):
    """A hot standby of `primary`, made with pg_basebackup and kept current by streaming replication."""

    primary: EmbeddedCluster | None = None

    def _initdb(self) -> None:
        if self.primary is None:
            raise EmbeddedDatabaseError("a standby needs a primary cluster to copy")
        log.info("creating a streaming standby of 127.0.0.1:%s in %s", self.primary.port, self.pgdata)
        self._run_pg(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", SERVER_USER,
            "-D", str(self.pgdata), "-R", "-X", "stream", "--checkpoint=fast",
        )
        conf = self.pgdata / "postgresql.auto.conf"
        with conf.open("a", encoding="utf-8") as handle:  # the copy carries the primary's port and socket
            handle.write(f"\n# standby, written by gridmap\nport = {self.port}\n"
                         f"unix_socket_directories = '{self.socket_dir}'\nhot_standby = on\n")

    def _ensure_database(self) -> None:
        """A standby is read-only: wait for the primary's database to arrive instead of creating it."""
        deadline = time.monotonic() + 30
        while True:
            with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone():
                    return
            if time.monotonic() > deadline:
                raise EmbeddedDatabaseError(f"database {self.database!r} did not reach the standby on {self.port}")
            time.sleep(0.2)


def standby_for(primary: EmbeddedCluster) -> StandbyCluster:
    """The standby gridmap keeps beside its embedded cluster: `<data_dir>/replica`, the next port."""
    return StandbyCluster(Path(primary.data_dir) / "replica", primary.port + 1, database=primary.database,
                          fast_unsafe=primary.fast_unsafe, primary=primary)


def replication_lag(primary: Engine, replica: Engine) -> dict[str, Any]:
    """How far the replica is behind: WAL bytes not yet replayed, and seconds since the last replayed
    transaction when there is any such backlog (0 when it has replayed everything)."""
    with primary.connect() as connection:
        current = connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
    with replica.connect() as connection:
        row = connection.execute(text(
            "SELECT pg_is_in_recovery() AS standby, pg_wal_lsn_diff(CAST(:current AS pg_lsn), "
            "pg_last_wal_replay_lsn()) AS behind_bytes, "
            "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) AS since_replay"
        ), {"current": current}).mappings().one()
    if not row["standby"]:
        return {"status": "not a standby", "lag_bytes": None, "lag_seconds": None}
    behind = max(int(row["behind_bytes"] or 0), 0)
    seconds = 0.0 if behind == 0 else round(float(row["since_replay"] or 0.0), 3)
    return {"status": "streaming", "lag_bytes": behind, "lag_seconds": seconds}


class LagMonitor:
    """`replication_lag`, measured at most once per `max_age` seconds: every wall screen polls it."""

    def __init__(self, primary: Engine, replica: Engine, max_age: float = 1.0) -> None:
        self.primary, self.replica, self.max_age = primary, replica, max_age
        self._measured_at = float("-inf")
        self._last: dict[str, Any] = {}

    def lag(self) -> dict[str, Any]:
        if time.monotonic() - self._measured_at > self.max_age:
            self._last = replication_lag(self.primary, self.replica)
            self._measured_at = time.monotonic()
        return self._last
