"""Engines, sessions and schema migrations."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from gis.settings import Settings
from gis.store.embedded import EmbeddedCluster

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass
class Database:
    """A connected database: its engine, a session factory and, if embedded, the cluster we run."""

    engine: Engine
    sessions: sessionmaker[Session]
    cluster: EmbeddedCluster | None = None
    started_cluster: bool = False

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

    def close(self) -> None:
        """Dispose connections and stop the embedded cluster if we started it."""
        self.engine.dispose()
        if self.cluster is not None and self.started_cluster:
            self.cluster.stop()


def make_engine(url: str) -> Engine:
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, future=True)


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
    return Database(engine, sessionmaker(engine, expire_on_commit=False), cluster, started)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)
