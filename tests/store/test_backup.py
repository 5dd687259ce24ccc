"""`gridmap backup` / `gridmap restore`: a database with places, teams, users, cases, events and photos
comes back row for row (geometries and sequence positions included) in a fresh cluster, through the
embedded path and through a configured URL; missing files, non-archives and non-empty targets are refused
with a clear message and change nothing."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from api.cli import main
from gis.cases import CaseInput, Photo
from gis.permissions import Actor
from gis.settings import PROJECT_ROOT, Settings
from gis.store import cases as store
from gis.store.database import Database
from gis.store.embedded import EmbeddedCluster
from gis.store.users import create_user
from tests.api.conftest import load_drawn

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
TABLES_SQL = """
SELECT format('%I.%I', n.nspname, c.relname),
       coalesce((SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum))
                 FROM pg_index AS i JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                 WHERE i.indrelid = c.oid AND i.indisprimary), '{}')
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
ORDER BY 1
"""


def snapshot(dsn: str) -> dict[str, tuple[object, ...]]:
    """Per table: row count and the md5 of every row's text in primary-key order (geometries appear as
    their EWKB hex, photos as bytea hex); per sequence its position; and the extensions with versions."""
    result: dict[str, tuple[object, ...]] = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for table, key in conn.execute(TABLES_SQL).fetchall():
            order = sql.SQL(", ").join(sql.Identifier(k) for k in key) if key else sql.SQL("t::text")
            query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {}), '')) "
                            "FROM {} AS t").format(order, sql.SQL(table))
            result[table] = tuple(conn.execute(query).fetchone())  # type: ignore[arg-type]
        for name, last_value in conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"):
            result[f"sequence {name}"] = (last_value,)
        for name, version in conn.execute("SELECT extname, extversion FROM pg_extension"):
            result[f"extension {name}"] = (version,)
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def fresh_cluster() -> Iterator[EmbeddedCluster]:
    """A second, empty cluster (its own data dir and port) to restore into; removed at the end. Under var/
    because the server runs as `postgres`, which must be able to write there (tmp dirs may be private)."""
    cluster = EmbeddedCluster(PROJECT_ROOT / "var" / f"test-backup-{os.getpid()}", _free_port(), fast_unsafe=True)
    try:
        cluster.ensure_running()  # also creates its empty `gridmap` database
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.data_dir, ignore_errors=True)


def use_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", url)


def use_embedded(monkeypatch: pytest.MonkeyPatch, cluster: EmbeddedCluster) -> None:
    monkeypatch.delenv("GRIDMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(cluster.data_dir))
    monkeypatch.setenv("GRIDMAP_EMBEDDED_PORT", str(cluster.port))


def fill(db: Database, settings: Settings, folder: Path) -> None:
    """The hand-drawn places and teams, users, and cases routed, unrouted, moved along and with a photo."""
    load_drawn(settings, folder)
    admin = Actor("admin", "admin")
    when = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    with db.session() as session:
        create_user(session, "admin", "admin", key="key-admin")
        create_user(session, "worker", "grid_worker", grid_code="500103001001001", key="key-worker")
        routed, _ = store.create_case(session, CaseInput(
            source="hotline", category_code="exposed_rubbish", lon=106.505, lat=29.555, description="路边垃圾",
            reporter_name="李四", photos=(Photo("image/png", PNG),)), admin, now=when)
        store.create_case(session, CaseInput(source="patrol", category_code="exposed_rubbish", lon=106.53,
                                             lat=29.555, crs="gcj02"), admin, now=when)
        store.apply_action(session, routed, store.ActionInput("file"), admin, now=when)
        store.apply_action(session, routed, store.ActionInput("dispatch"), admin, now=when)


def test_backup_then_restore_into_a_fresh_cluster_gives_back_every_row(
    db: Database, db_settings: Settings, fresh_cluster: EmbeddedCluster, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    fill(db, db_settings, tmp_path)
    source_dsn = db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    source = snapshot(source_dsn)
    for table in ("public.grid", "public.building", "public.service_team", "public.app_user", "public.service_case",
                  "public.case_event", "public.case_photo", "public.case_category", "public.spatial_ref_sys"):
        assert source[table][0] > 0, table
    archive = tmp_path / "gridmap.dump"

    use_url(monkeypatch, str(db_settings.database_url))
    assert main(["backup", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "backup: dumping database" in out and "schema revision" in out and "backup: done" in out
    assert archive.stat().st_size > 0 and not archive.with_name("gridmap.dump.partial").exists()

    # The embedded path: no URL, the fresh cluster as the data dir; its `gridmap` database is empty.
    use_embedded(monkeypatch, fresh_cluster)
    assert main(["restore", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "restore: done" in out and "is this gridmap's" in out
    restored_dsn = fresh_cluster.dsn("gridmap")
    assert snapshot(restored_dsn) == source

    # Again, over the now full database: refused, nothing changed.
    with psycopg.connect(restored_dsn, autocommit=True) as conn:
        conn.execute("UPDATE grid SET name = name || '（改）'")
    changed = snapshot(restored_dsn)
    assert main(["restore", str(archive)]) == 2
    error = capsys.readouterr().err
    assert 'database "gridmap"' in error and "is not empty" in error and "--force" in error
    assert snapshot(restored_dsn) == changed

    # --force replaces it (built beside it, then swapped in).
    assert main(["restore", "--force", str(archive)]) == 0
    assert "replacing" in capsys.readouterr().out
    assert snapshot(restored_dsn) == source

    # A configured URL naming a database that does not exist yet: created, then restored.
    use_url(monkeypatch, fresh_cluster.url("gridmap_new"))
    assert main(["restore", str(archive)]) == 0
    assert snapshot(fresh_cluster.dsn("gridmap_new")) == source


def test_errors_are_for_people(
    db_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    use_url(monkeypatch, str(db_settings.database_url))
    missing = tmp_path / "nowhere.dump"
    assert main(["restore", str(missing)]) == 2
    assert f"gridmap: no backup file at {missing}" in capsys.readouterr().err

    not_archive = tmp_path / "notes.dump"
    not_archive.write_text("not a dump\n", encoding="utf-8")
    assert main(["restore", str(not_archive)]) == 2
    error = capsys.readouterr().err
    assert "is not a backup this pg_restore can read" in error and "valid archive" in error

    assert main(["backup", str(tmp_path / "no-such-folder" / "x.dump")]) == 2
    assert "does not exist" in capsys.readouterr().err

    # No URL and no embedded cluster in the data dir: nothing to back up (and none is created for it).
    monkeypatch.delenv("GRIDMAP_DATABASE_URL")
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(tmp_path / "var"))
    assert main(["backup", str(tmp_path / "x.dump")]) == 2
    assert "there is no embedded database in" in capsys.readouterr().err
    assert not (tmp_path / "var").exists()


def test_tool_failure_is_summarised_and_the_password_never_shown(
    db_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from gis.store.pg_tools import BackupError, pg_tool, run_tool, target_from_url, tool_env

    url = str(db_settings.database_url).replace("postgres@", "postgres:s3cret%3Apw@")
    target = target_from_url(url)
    assert target.password == "s3cret:pw" and "s3cret" not in target.conninfo() + target.label

    # The tool's own error line comes through, without its verbose chatter.
    missing = target.with_dbname("no_such_database")
    command = [str(pg_tool("pg_dump", 15)), "--verbose", f"--file={tmp_path / 'x.dump'}",
               f"--dbname={missing.conninfo()}"]
    with tool_env(missing) as env, pytest.raises(BackupError) as failure:
        run_tool(command, env, print, what="dumping", tables=0)
    assert env["PGPASSFILE"] and not Path(env["PGPASSFILE"]).exists()  # the passfile is gone afterwards
    message = str(failure.value)
    assert message.startswith("pg_dump failed (exit code 1) while dumping: pg_dump: error:")
    assert 'database "no_such_database" does not exist' in message and "s3cret" not in message

    # Through the command: a database that is not there is named, the password is not.
    use_url(monkeypatch, url.replace("/gridmap_t", "/missing_gridmap_t"))
    assert main(["backup", str(tmp_path / "y.dump")]) == 2
    error = capsys.readouterr().err
    assert "does not exist" in error and "missing_gridmap_t" in error and "s3cret" not in error
    assert not (tmp_path / "y.dump").exists()
