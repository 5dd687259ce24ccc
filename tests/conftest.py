"""Shared fixtures: a real PostGIS cluster started by the suite, fresh databases cloned from a migrated
template, the sample district loaded once, and a live server on loopback for API and browser tests."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import pytest
import uvicorn
from sqlalchemy import text

from gis.settings import PROJECT_ROOT, Settings
from gis.store.database import Database, make_engine, open_database, upgrade
from gis.store.embedded import EmbeddedCluster

TEST_PORT = int(os.environ.get("GRIDMAP_TEST_PORT", "54339"))
# A cluster is its data directory: a run on another port needs its own (bench/suite_time.py gives one).
TEST_DATA_DIR = Path(os.environ.get("GRIDMAP_TEST_DATA_DIR", PROJECT_ROOT / "var" / "test"))
TEMPLATE = "gridmap_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[EmbeddedCluster]:
    """A throwaway cluster (fsync off) under var/test, stopped when the session ends."""
    cluster = EmbeddedCluster(TEST_DATA_DIR, TEST_PORT, database=TEMPLATE, fast_unsafe=True)
    started = cluster.ensure_running()
    engine = make_engine(cluster.url(TEMPLATE))
    upgrade(engine)
    engine.dispose()
    yield cluster
    # Several pytest runs may share the cluster while developing: GRIDMAP_TEST_KEEP_CLUSTER=1 leaves it up.
    if started and not os.environ.get("GRIDMAP_TEST_KEEP_CLUSTER"):
        cluster.stop()


def _clone(cluster: EmbeddedCluster, name: str) -> None:
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')


def _drop(cluster: EmbeddedCluster, name: str) -> None:
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings_for(cluster: EmbeddedCluster, name: str, **overrides: object) -> Settings:
    return Settings(database_url=cluster.url(name), **overrides)  # type: ignore[arg-type]


def _open_clone(cluster: EmbeddedCluster, name: str) -> Database:
    """A clone of a template made this session: migrated and its reference data synced already (the
    template's `upgrade` in `pg_cluster`), so it is opened without running the migrations again."""
    return open_database(settings_for(cluster, name), migrate=False)


class _Copies:
    """Fresh copies of the session's templates, each made one test ahead by a background thread: a test
    takes the copy made while the test before it ran (or waits for it), and the copy it leaves is dropped
    there too. The copies are the same clones as ever (CREATE DATABASE ... TEMPLATE), never shared by two
    tests; only the wait for the server moves off the test, which is busy in Python meanwhile."""

    def __init__(self, cluster: EmbeddedCluster) -> None:
        self._cluster = cluster
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db-copies")
        self._ready: dict[str, Future[str]] = {}

    def take(self, template: str) -> str:
        """The name of a fresh copy of `template`, no one else's; the next copy is started at once."""
        ready = self._ready.pop(template, None) or self._make(template)
        self._ready[template] = self._make(template)
        return ready.result()

    def drop(self, name: str) -> None:
        self._worker.submit(_drop, self._cluster, name)

    def close(self) -> None:
        """Drop the copies made ahead and not taken; wait for every drop."""
        for ready in self._ready.values():
            with suppress(Exception):  # a copy that failed to be made has nothing to drop
                self.drop(ready.result())
        self._worker.shutdown(wait=True)

    def _make(self, template: str) -> Future[str]:
        name = f"gridmap_t{os.getpid()}_{next(_counter)}"  # unique across concurrent pytest runs

        def make() -> str:
            _clone_from(self._cluster, template, name)
            return name

        return self._worker.submit(make)


@pytest.fixture(scope="session")
def copies(pg_cluster: EmbeddedCluster) -> Iterator[_Copies]:
    made = _Copies(pg_cluster)
    yield made
    made.close()


@pytest.fixture(scope="session")
def drawn_template(pg_cluster: EmbeddedCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The name of a database holding the hand-drawn places (tests/drawn.py), loaded once through the
    real import path (`load_drawn`) and left without connections, so that copies of it are quick clones."""
    from tests.api.conftest import load_drawn

    name = f"gridmap_drawn_tpl_{os.getpid()}"
    _clone(pg_cluster, name)
    load_drawn(settings_for(pg_cluster, name), tmp_path_factory.mktemp("drawn"))
    yield name
    _drop(pg_cluster, name)


@pytest.fixture
def db(request: pytest.FixtureRequest, pg_cluster: EmbeddedCluster, copies: _Copies) -> Iterator[Database]:
    """A fresh, migrated database for one test: empty, or, for a test that uses the API's `client`,
    holding the hand-drawn places that `client` serves (a clone of `drawn_template`)."""
    template = request.getfixturevalue("drawn_template") if "client" in request.fixturenames else TEMPLATE
    name = copies.take(template)
    database = _open_clone(pg_cluster, name)
    yield database
    database.close()
    copies.drop(name)


@pytest.fixture
def db_settings(pg_cluster: EmbeddedCluster, db: Database) -> Settings:
    """Settings pointing at the `db` fixture's database (for CLI-level calls)."""
    return Settings(database_url=str(db.engine.url.render_as_string(hide_password=False)))


def _clone_from(cluster: EmbeddedCluster, template: str, name: str) -> None:
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


@pytest.fixture(scope="session")
def sample_template(pg_cluster: EmbeddedCluster) -> Iterator[str]:
    """The name of a database holding the sample district, loaded once through the real import path and
    then left without connections, so that copies of it are quick clones. Dropped at the end."""
    from api.cli import import_file
    from gis.sample import SAMPLE_DIR, SAMPLE_FILES

    name = f"gridmap_sample_tpl_{os.getpid()}"
    _clone(pg_cluster, name)
    settings = settings_for(pg_cluster, name)
    for kind, file_name in SAMPLE_FILES:
        import_file(settings, kind, SAMPLE_DIR / file_name)
    yield name
    _drop(pg_cluster, name)


# The tables a test that writes to the shared sample district would change (users, cases, their events).
GUARDED_TABLES = ("app_user", "service_case", "case_event")


def _row_counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in GUARDED_TABLES}


@pytest.fixture(scope="session")
def sample_db(pg_cluster: EmbeddedCluster, sample_template: str) -> Iterator[Database]:
    """The sample district, shared by the session. Read-only by contract: a test that writes takes
    `own_sample_db` (or `module_sample_db`) instead. Checked when the session ends: the row counts of
    `GUARDED_TABLES` must be what they were when it was made, or the run fails."""
    name = f"gridmap_sample_{os.getpid()}"
    _clone_from(pg_cluster, sample_template, name)
    database = _open_clone(pg_cluster, name)
    at_start = _row_counts(database)
    yield database
    try:
        at_end = _row_counts(database)
        if at_end != at_start:
            changed = {t: f"{at_start[t]} -> {at_end[t]}" for t in GUARDED_TABLES if at_start[t] != at_end[t]}
            pytest.fail(f"the shared sample database (sample_db, live_server) was written to: {changed}; "
                        "a test that writes takes own_sample_db or module_sample_db", pytrace=False)
    finally:
        database.close()
        _drop(pg_cluster, name)


@contextmanager
def _sample_copy(cluster: EmbeddedCluster, template: str) -> Iterator[Database]:
    # Made and dropped in step, not ahead in the background: most takers are browser tests that time
    # the pages, and a clone of the sample district working beside them would be in their figures.
    name = f"gridmap_sample_t{os.getpid()}_{next(_counter)}"
    _clone_from(cluster, template, name)
    database = _open_clone(cluster, name)
    try:
        yield database
    finally:
        database.close()
        _drop(cluster, name)


@pytest.fixture
def own_sample_db(pg_cluster: EmbeddedCluster, sample_template: str) -> Iterator[Database]:
    """A copy of the sample district for one test to write to (a clone: well under a second)."""
    with _sample_copy(pg_cluster, sample_template) as database:
        yield database


@pytest.fixture(scope="module")
def module_sample_db(pg_cluster: EmbeddedCluster, sample_template: str) -> Iterator[Database]:
    """A copy of the sample district shared by one module's tests, for the set-up they write (a user to
    sign in with); a test whose writes others would see (cases, deadlines) takes `own_sample_db`."""
    with _sample_copy(pg_cluster, sample_template) as database:
        yield database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """uvicorn in a background thread on a free loopback port."""

    def __init__(self, app: object) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def sample_app(sample_db: Database, pg_cluster: EmbeddedCluster):  # noqa: ANN201
    from api.app import create_app

    settings = Settings(database_url=str(sample_db.engine.url))
    return create_app(settings, database=sample_db)


@pytest.fixture(scope="session")
def live_server(sample_app: object) -> Iterator[LiveServer]:
    with LiveServer(sample_app) as server:
        yield server


@pytest.fixture(scope="session")
def output_dir() -> Path:
    path = PROJECT_ROOT / "test-output"
    path.mkdir(exist_ok=True)
    return path


def _free_port_pair() -> int:
    """A port p with p and p+1 free (primary and standby)."""
    for _ in range(50):
        port = _free_port()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port
    raise RuntimeError("no two free neighbouring ports")


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Database]]:
    """Its own embedded primary with a streaming standby that gridmap starts, the drawn places, and a
    command-centre user with key 'key-centre'. Removed at the end."""
    from gis.store.users import create_user
    from tests.api.conftest import load_drawn

    data_dir = PROJECT_ROOT / "var" / f"test-replica-{os.getpid()}"
    settings = Settings(data_dir=data_dir, embedded_port=_free_port_pair(), embedded_replica=True,
                        sweep_interval_seconds=3600)
    database = open_database(settings)
    try:
        load_drawn(settings, Path(tmp_path_factory.mktemp("replica")))
        with database.session() as session:
            create_user(session, "centre", "command_centre", key="key-centre")
        yield settings, database
    finally:
        database.close()
        shutil.rmtree(data_dir, ignore_errors=True)
