"""Backups of the gridmap database with PostgreSQL's own tools: `pg_dump -Fc` and `pg_restore`.

Why these tools: a custom-format archive holds the schema, every row (geometries as PostGIS stores
them), sequence positions and the `CREATE EXTENSION postgis` line, and `pg_restore` can read it on any
newer server. We run the binaries of the server's major version (Debian keeps one set per version
under /usr/lib/postgresql/<major>/bin) because pg_dump refuses newer servers.

Restore rules (also in the README):
- into a database that does not exist (created here) or holds no tables of its own: always allowed;
- into a database that holds tables: refused unless `force`; then the archive is restored into a
  scratch database beside it, and only when that has fully succeeded is the old one dropped and the
  scratch one renamed; a failed restore leaves the old database as it was.
- the restore runs in one transaction, objects are owned by the restoring user and grants are not
  restored (`--no-owner --no-privileges`), so a backup of the embedded cluster loads on a real server
  and back.

Passwords never reach a command line or a message: the tools get them through a private passfile.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from gis.settings import Settings
from gis.store.pg_tools import (
    BackupError,
    Facts,
    Progress,
    Target,
    database_exists,
    elapsed,
    facts,
    first_line,
    human_size,
    one_row,
    opened_target,
    pg_tool,
    run_tool,
    server_major,
    summarise,
    tool_env,
)

__all__ = ["BackupError", "backup", "restore"]


# -- backup ----------------------------------------------------------------------------------------


def backup(settings: Settings, path: Path, *, progress: Progress) -> Path:
    """Write a custom-format archive of the whole database to `path`. Written beside it first and renamed,
    so a failed or interrupted backup never leaves a half file nor spoils an older backup of that name."""
    path = Path(path).resolve()
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the backup a file name, e.g. {path / 'gridmap.dump'}")
    if not path.parent.is_dir():
        raise BackupError(f"cannot write {path}: the folder {path.parent} does not exist")
    partial = path.with_name(path.name + ".partial")
    with opened_target(settings, progress, create=False) as target:
        found = facts(target)
        if found.revision is None:
            progress(f"backup: warning: {target.label} holds no gridmap schema (no alembic_version table)")
        tool = pg_tool("pg_dump", found.server_major)
        progress(f"backup: dumping {target.label} ({found.describe()}) to {path}")
        started = time.monotonic()
        command = [str(tool), "--format=custom", "--verbose", f"--file={partial}", f"--dbname={target.conninfo()}"]
        try:
            with tool_env(target) as env:
                warnings = run_tool(command, env, progress, what="dumping", tables=found.tables)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    for warning in warnings:
        progress(f"backup: {warning}")
    progress(f"backup: done: {path} ({human_size(path.stat().st_size)}) in {elapsed(started)}")
    return path


# -- restore ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Archive:
    """What `pg_restore --list` says about an archive, and the list to restore from."""

    source_database: str
    created: str
    dumped_from: str
    tables: int
    table_data: int
    has_postgis: bool
    has_gridmap: bool
    entries: list[str]

    def describe(self) -> str:
        return (f'backup of database "{self.source_database}" taken {self.created}, '
                f"from PostgreSQL {self.dumped_from}, {self.tables} tables")


def read_archive(tool: Path, path: Path) -> Archive:
    """Check the file is a pg_dump custom-format archive this pg_restore can read, before touching anything."""
    result = subprocess.run([str(tool), "--list", str(path)], capture_output=True, text=True, errors="replace",
                            check=False, cwd="/")
    if result.returncode != 0:
        raise BackupError(f"{path} is not a backup this pg_restore can read ({tool}): "
                          f"{summarise(result.stderr.splitlines())}")
    header = dict(re.findall(r"^;\s+([A-Za-z ]+?)(?::| at)\s+(.*)$", result.stdout, re.M))
    entries = [line for line in result.stdout.splitlines() if line and not line.startswith(";")]
    return Archive(
        source_database=header.get("dbname", "?"),
        created=header.get("Archive created", "?"),
        dumped_from=header.get("Dumped from database version", "?").split()[0],
        tables=sum(bool(re.match(r"\d+; \d+ \d+ TABLE (?!DATA )", e)) for e in entries),
        table_data=sum(" TABLE DATA " in e for e in entries),
        has_postgis=any(re.search(r" EXTENSION - postgis\s*$", e) for e in entries),
        has_gridmap=any(re.search(r" TABLE \S+ alembic_version ", e) for e in entries),
        entries=entries,
    )


def restore(settings: Settings, path: Path, *, force: bool = False, progress: Progress) -> Facts:
    """Load an archive into the configured database (see the module docstring for when it refuses)."""
    path = Path(path).resolve()
    if not path.exists():
        raise BackupError(f"no backup file at {path}")
    if not path.is_file() or path.stat().st_size == 0:
        raise BackupError(f"{path} is {'empty' if path.is_file() else 'not a file'}; it cannot be a backup")
    with opened_target(settings, progress, create=True) as target:
        tool = pg_tool("pg_restore", server_major(target))
        archive = read_archive(tool, path)
        progress(f"restore: {path} ({human_size(path.stat().st_size)}): {archive.describe()}")
        if not archive.has_gridmap:
            raise BackupError(f"{path} is a PostgreSQL backup but not of a gridmap database "
                              "(it has no alembic_version table); nothing was restored")
        exists = database_exists(target)
        current = facts(target) if exists else None
        if current and current.relations and not force:
            raise BackupError(
                f"{target.label} is not empty ({current.describe()}); nothing was restored. Restore into an "
                "empty or new database (point GRIDMAP_DATABASE_URL at it), or add --force to replace this one "
                "(it is dropped only once the restore has succeeded)")
        replacing = bool(current and current.relations)
        if archive.has_postgis:
            check_postgis(target, new_database=replacing or not exists)
        started = time.monotonic()
        if replacing and current:
            progress(f"restore: --force: replacing {target.label} ({current.describe()}) once the restore succeeds")
            replace_database(tool, path, archive, target, progress)
        elif exists:
            load_archive(tool, path, archive, target, progress)
        else:
            progress(f'restore: creating database "{target.dbname}"')
            with_new_database(target, lambda: load_archive(tool, path, archive, target, progress))
        progress("restore: analyzing (fresh planner statistics)")
        with target.connect() as conn:
            conn.execute("ANALYZE")
        restored = facts(target)
    progress(f"restore: done in {elapsed(started)}: {target.label} now holds {restored.describe()}")
    if restored.revision:
        progress(f"restore: {revision_note(restored.revision)}")
    return restored


def check_postgis(target: Target, *, new_database: bool) -> None:
    """PostGIS must be installed on the server, and the restoring user must be allowed to create it unless it
    is in the target database already (it is not a trusted extension: superusers only). Checked first, so
    people learn it before anything is created."""
    with (_maintenance(target) if new_database else target.connect()) as conn:
        trusted = one_row(conn, "SELECT bool_or(trusted) AS trusted FROM pg_available_extension_versions "
                             "WHERE name = 'postgis'")["trusted"]
        if trusted is None:
            raise BackupError(f"the server of {target.label} has no PostGIS extension available; install PostGIS for "
                              "its PostgreSQL version (Debian: postgresql-<major>-postgis-3); nothing was restored")
        present = not new_database and conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
        superuser = one_row(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")["rolsuper"]
    if not (present or superuser or trusted):
        raise BackupError(
            f"{target.params.get('user', 'this user')} may not create the PostGIS extension (superusers only) "
            f"{'in a new database' if new_database else f'in database {target.dbname!r}'}: have a superuser create "
            "an empty database and run CREATE EXTENSION postgis in it, then restore into it without --force; "
            "nothing was restored")


def restore_list(tool: Path, path: Path, archive: Archive) -> list[str]:
    """The archive's entries less two that only a superuser or the extension's owner may restore and that carry
    nothing of ours: the extension comments, and spatial_ref_sys's data when it is empty (pg_dump keeps that
    table's user-added rows only; gridmap adds none, but if someone did they are restored)."""
    entries = [e for e in archive.entries if " COMMENT - EXTENSION " not in e]
    srs = [e for e in entries if re.search(r" TABLE DATA \S+ spatial_ref_sys ", e)]
    if srs:
        with tempfile.TemporaryDirectory(prefix="gridmap-restore-") as folder:
            one = Path(folder) / "srs.list"
            one.write_text("\n".join(srs) + "\n", encoding="utf-8")
            script = subprocess.run([str(tool), f"--use-list={one}", "--file=-", str(path)], capture_output=True,
                                    text=True, errors="replace", check=False, cwd="/").stdout
        if re.search(r"^COPY [^\n]*FROM stdin;\n\\\.$", script, re.M):
            entries = [e for e in entries if e not in srs]
    return entries


def load_archive(tool: Path, path: Path, archive: Archive, target: Target, progress: Progress) -> None:
    """One transaction: either every object and row arrives or none does."""
    with tempfile.TemporaryDirectory(prefix="gridmap-restore-") as folder:
        listing = Path(folder) / "toc.list"
        listing.write_text("\n".join(restore_list(tool, path, archive)) + "\n", encoding="utf-8")
        command = [str(tool), "--verbose", "--single-transaction", "--no-owner", "--no-privileges",
                   f"--use-list={listing}", f"--dbname={target.conninfo()}", str(path)]
        with tool_env(target) as env:
            for warning in run_tool(command, env, progress, what="restoring", tables=archive.table_data):
                progress(f"restore: {warning}")


def _maintenance(target: Target) -> psycopg.Connection:
    """A connection to the server outside the target database (needed to create, drop and rename it)."""
    for name in ("postgres", "template1"):
        candidate = target.with_dbname(name)
        if database_exists(candidate):
            return candidate.connect()
    raise BackupError(f"cannot reach the postgres or template1 database on the server of {target.label}")


def _create(target: Target, name: str) -> None:
    with _maintenance(target) as conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise BackupError(f"{target.params.get('user', 'this user')} may not create databases on the server of "
                              f"{target.label}: have one created (empty) and restore without --force") from exc
        except psycopg.Error as exc:
            raise BackupError(f"cannot create database {name!r} next to {target.label}: {first_line(str(exc))}"
                              ) from exc


def _drop(target: Target, name: str) -> None:
    with _maintenance(target) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def with_new_database(target: Target, load: Callable[[], None]) -> None:
    """Create the target database, run `load`, and drop the database again if loading fails."""
    _create(target, target.dbname)
    try:
        load()
    except BaseException:
        _drop(target, target.dbname)
        raise


def replace_database(tool: Path, path: Path, archive: Archive, target: Target, progress: Progress) -> None:
    """--force: restore into `<name>_restoring`, then drop the old database and rename the new one; until the
    rename the old database is untouched. Sessions still connected to the old one are ended."""
    scratch = target.with_dbname(f"{target.dbname}_restoring")
    _drop(target, scratch.dbname)  # a leftover of an interrupted earlier restore
    _create(target, scratch.dbname)
    try:
        load_archive(tool, path, archive, scratch, progress)
    except BaseException:
        _drop(target, scratch.dbname)
        raise
    try:
        with _maintenance(target) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(target.dbname)))
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(scratch.dbname), sql.Identifier(target.dbname)))
    except psycopg.Error as exc:
        raise BackupError(f"the backup was restored into database {scratch.dbname!r}, but {target.label} could not "
                          f"be replaced by it: {first_line(str(exc))}; drop the old one (if still there) and rename "
                          f"{scratch.dbname!r} by hand, or restore into an empty database") from exc


def revision_note(revision: str) -> str:
    """Whether this gridmap knows the restored schema revision (a backup from a newer gridmap needs that)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from gis.store.database import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    heads = set(scripts.get_heads())
    if set(revision.split(",")) == heads:
        return f"schema revision {revision} is this gridmap's"
    try:
        known = all(scripts.get_revision(r) is not None for r in revision.split(","))
    except Exception:  # alembic raises its own errors for unknown ids
        known = False
    if known:
        return f"schema revision {revision} is older than this gridmap's; the next gridmap command migrates it"
    return (f"warning: schema revision {revision} is unknown to this gridmap (a backup from a newer version?); "
            "upgrade gridmap before serving this database")
