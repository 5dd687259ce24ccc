"""Engines, sessions and schema migrations."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from gis.settings import Settings
from gis.store.embedded import EmbeddedCluster
from gis.store.seed import sync_reference_data

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass
class Database:
    """A connected database: its engine, a session factory and, if embedded, the cluster we run."""

    engine: Engine
    sessions: sessionmaker[Session]
    cluster: EmbeddedCluster | None = None
    started_cluster: bool = False
    read_engine: Engine | None = None
    """A streaming replica for wall, layer and tile reads (None: they read the primary)."""
    replica_cluster: EmbeddedCluster | None = None
    started_replica: bool = False
    _lag_monitor: Any = field(default=None, repr=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A unit of reading for the map: on the replica when there is one (marked `info["replica"]`, so
        code that would tidy up as it reads knows not to write), else the same as `session()`."""
        if self.read_engine is None:
            with self.session() as session:
                yield session
            return
        session = self.replica_sessions()
        session.info["replica"] = True
        try:
            yield session
            session.rollback()
        finally:
            session.close()

    def replica_sessions(self) -> Session:
        """A new session on the read replica (call only when `read_engine` is set)."""
        if self.read_engine is None:
            raise RuntimeError("no read replica is configured")
        return Session(self.read_engine, expire_on_commit=False)

    def replica_lag(self) -> dict[str, Any] | None:
        """How far the read replica is behind the primary (None without a replica); see gis.store.replica."""
        if self.read_engine is None:
            return None
        if self._lag_monitor is None:
            from gis.store.replica import LagMonitor

            self._lag_monitor = LagMonitor(self.engine, self.read_engine)
        return self._lag_monitor.lag()

    def close(self) -> None:
        """Dispose connections and stop the embedded clusters we started."""
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()
        if self.replica_cluster is not None and self.started_replica:
            self.replica_cluster.stop()
        if self.cluster is not None and self.started_cluster:
            self.cluster.stop()


POOL_SIZE, POOL_OVERFLOW = 10, 20
POOL_CONNECTIONS = POOL_SIZE + POOL_OVERFLOW
"""Connections one engine opens at most; api/admission.py admits fewer requests than this at once."""


def make_engine(url: str) -> Engine:
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_pre_ping=True, future=True)


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Connect to the configured server, or create/start the embedded cluster; bring the schema up."""
    cluster: EmbeddedCluster | None = None
    started = False
    url = settings.database_url
    if url is None:
        cluster = EmbeddedCluster(settings.data_dir, settings.embedded_port)
        started = cluster.ensure_running()
        url = cluster.url()
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    database = Database(engine, sessionmaker(engine, expire_on_commit=False), cluster, started)
    if settings.read_database_url:
        database.read_engine = make_engine(settings.read_database_url)
    elif cluster is not None and settings.embedded_replica:
        from gis.store.replica import standby_for

        database.replica_cluster = standby_for(cluster)
        database.started_replica = database.replica_cluster.ensure_running()
        database.read_engine = make_engine(database.replica_cluster.url())
    return database


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent), then sync the reference data (gis.store.seed)."""
    command.upgrade(alembic_config(engine), revision)
    with engine.begin() as connection:
        sync_reference_data(connection)
