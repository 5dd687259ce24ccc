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
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from gis.errors import GridmapError
from gis.settings import Settings
from gis.store.embedded import EmbeddedCluster

Progress = Callable[[str], None]

PG_LIB = Path("/usr/lib/postgresql")
PROGRESS_EVERY = 2.0  # seconds between "now on table …" lines, so a small database prints start and end only
TABLE_LINE = re.compile(r'^pg_(?:dump|restore): (?:dumping contents of|processing data for) table "([^"]+)"')
CHATTER = re.compile(r"^pg_(?:dump|restore): (?!error:|warning:|detail:|hint:)")


class BackupError(GridmapError):
    """A backup or restore could not be made; the message says what and what to do."""


# -- where the database is -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A database as libpq sees it: connection keywords without the password, and the password apart."""

    params: Mapping[str, str]
    password: str | None = field(default=None, repr=False)

    @property
    def dbname(self) -> str:
        return self.params["dbname"]

    @property
    def label(self) -> str:
        """For people: database, server and user, never the password."""
        where = f"{self.params.get('host', 'local socket')}:{self.params.get('port', '5432')}"
        return f'database "{self.dbname}" on {where} as {self.params.get("user", os.environ.get("USER", "?"))}'

    def with_dbname(self, dbname: str) -> Target:
        return replace(self, params={**self.params, "dbname": dbname})

    def conninfo(self) -> str:
        return make_conninfo(**self.params)

    def connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.conninfo(), password=self.password, autocommit=True, connect_timeout=15)
        except psycopg.OperationalError as exc:
            raise BackupError(f"cannot connect to {self.label}: {_first_line(str(exc))}") from exc


def target_from_url(url: str) -> Target:
    """SQLAlchemy's postgresql+driver://user:pw@host:port/db?opts → libpq keywords (the driver part dropped;
    query options such as sslmode are libpq keywords already)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise BackupError(f"backups need a PostgreSQL database; the configured URL is for {parsed.get_backend_name()}")
    if not parsed.database:
        raise BackupError("the configured database URL names no database (…/DBNAME at its end)")
    params: dict[str, str] = {"dbname": parsed.database}
    if parsed.host:
        params["host"] = parsed.host
    if parsed.port:
        params["port"] = str(parsed.port)
    if parsed.username:
        params["user"] = parsed.username
    for key, value in parsed.query.items():
        params[key] = value if isinstance(value, str) else ",".join(value)
    return Target(params, parsed.password)


@contextmanager
def opened_target(settings: Settings, progress: Progress, *, create: bool) -> Iterator[Target]:
    """The configured database, or the embedded cluster's (started for the command, stopped after it; created
    only if `create`: a restore may set up a new machine, a backup of a cluster never made is a mistake)."""
    if settings.database_url:
        yield target_from_url(settings.database_url)
        return
    cluster = EmbeddedCluster(settings.data_dir, settings.embedded_port)
    if not create and not (cluster.pgdata / "PG_VERSION").exists():
        raise BackupError(f"there is no embedded database in {cluster.pgdata} (set GRIDMAP_DATA_DIR, or "
                          "GRIDMAP_DATABASE_URL for a database server)")
    started = cluster.ensure_running()
    if started:
        progress(f"started the embedded PostgreSQL in {cluster.pgdata}")
    try:
        yield target_from_url(cluster.url())
    finally:
        if started:
            cluster.stop()


# -- what is in it ---------------------------------------------------------------------------------

OWN_RELATIONS_SQL = """
SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p')), count(*)
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
"""


@dataclass(frozen=True)
class Facts:
    """What a database holds, enough to tell people what is being copied and to refuse to overwrite."""

    server_major: int
    server_version: str
    size: int
    tables: int
    relations: int  # tables, views, sequences … of its own (extension objects such as spatial_ref_sys don't count)
    revision: str | None
    cases: int | None

    def describe(self) -> str:
        parts = [f"PostgreSQL {self.server_version}", human_size(self.size), f"{self.tables} tables"]
        if self.revision:
            parts.append(f"schema revision {self.revision}")
        if self.cases is not None:
            parts.append(f"{self.cases} cases")
        return ", ".join(parts)


def facts(target: Target) -> Facts:
    with target.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
        tables, relations = conn.execute(OWN_RELATIONS_SQL).fetchone()  # type: ignore[misc]
        revision = cases = None
        if conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0]:  # type: ignore[index]
            found = conn.execute("SELECT string_agg(version_num, ',') FROM alembic_version").fetchone()
            revision = found[0] if found else None
        if conn.execute("SELECT to_regclass('service_case')").fetchone()[0]:  # type: ignore[index]
            cases = conn.execute("SELECT count(*) FROM service_case").fetchone()[0]  # type: ignore[index]
        return Facts(conn.info.server_version // 10000, version.split()[0], size, tables, relations, revision, cases)


def database_exists(target: Target) -> bool:
    try:
        with target.connect():
            return True
    except BackupError as exc:
        if re.search(r'database ".*" does not exist', str(exc)):
            return False
        raise


def server_major(target: Target) -> int:
    """The server's major version, asked of the target database or, if that is missing, of `postgres`."""
    for candidate in (target, target.with_dbname("postgres"), target.with_dbname("template1")):
        if database_exists(candidate):
            with candidate.connect() as conn:
                return conn.info.server_version // 10000
    raise BackupError(f"cannot connect to {target.label} nor to its server's postgres or template1 databases")


# -- the tools -------------------------------------------------------------------------------------


def installed_tools(name: str) -> dict[int, Path]:
    """Every installed copy of a client tool by major version: Debian's per-version directories, else PATH."""
    found = {int(p.parts[-3]): p for p in PG_LIB.glob(f"*/bin/{name}") if p.parts[-3].isdigit()}
    if not found and (on_path := shutil.which(name)):
        output = subprocess.run([on_path, "--version"], capture_output=True, text=True, check=False).stdout
        if match := re.search(r"(\d+)(?:\.\d+)*", output):
            found[int(match[1])] = Path(on_path)
    return found


def pg_tool(name: str, major: int) -> Path:
    """The tool of the server's major version, else the nearest newer one (pg_dump can dump older servers,
    never newer ones)."""
    tools = installed_tools(name)
    if major in tools:
        return tools[major]
    newer = sorted(m for m in tools if m > major)
    if newer:
        return tools[newer[0]]
    have = ", ".join(str(m) for m in sorted(tools)) or "none"
    raise BackupError(f"the server runs PostgreSQL {major} but no {name} of that version or newer is installed "
                      f"(installed: {have}); install postgresql-client-{major}")


@contextmanager
def tool_env(target: Target) -> Iterator[dict[str, str]]:
    """The environment for a tool: the password in a private passfile (not argv, which `ps` shows)."""
    env = dict(os.environ)
    if target.password is None:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="gridmap-pg-") as folder:  # mode 0700
        passfile = Path(folder) / "pgpass"
        escaped = target.password.replace("\\", "\\\\").replace(":", "\\:")
        descriptor = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(f"*:*:*:*:{escaped}\n")
        env.pop("PGPASSWORD", None)
        env["PGPASSFILE"] = str(passfile)
        yield env


def run_tool(command: list[str], env: Mapping[str, str], progress: Progress, *, what: str, tables: int) -> list[str]:
    """Run pg_dump/pg_restore with -v, turning its per-table lines into occasional progress and keeping its
    warnings and errors; raises BackupError with a summary of them if it fails. Returns the warnings."""
    tool = Path(command[0]).name
    started = last = time.monotonic()
    done = 0
    notes: list[str] = []
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, errors="replace", env=dict(env), cwd="/")
    try:
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.rstrip()
            if match := TABLE_LINE.match(line):
                done += 1
                now = time.monotonic()
                if now - last >= PROGRESS_EVERY:
                    progress(f"{what}: table {match[1]} ({done}/{max(tables, done)}, {elapsed(started)})")
                    last = now
            elif line and not CHATTER.match(line):
                notes.append(line)
        code = process.wait()
    except BaseException:  # Ctrl-C or a broken pipe: do not leave the tool running behind us
        process.kill()
        process.wait()
        raise
    if code != 0:
        raise BackupError(f"{tool} failed (exit code {code}) while {what}: {summarise(notes)}")
    return notes


def summarise(notes: list[str], limit: int = 6) -> str:
    """The tool's own error lines, shortened: the first few, each at most 300 characters."""
    if not notes:
        return "it printed no error message"
    important = [n for n in notes if re.search(r"error|fatal|detail|hint|command was", n, re.I)] or notes
    shown = [n if len(n) <= 300 else n[:297] + "..." for n in important[:limit]]
    more = f" (and {len(important) - limit} more lines)" if len(important) > limit else ""
    return " | ".join(shown) + more


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
        trusted = conn.execute(
            "SELECT bool_or(trusted) FROM pg_available_extension_versions WHERE name = 'postgis'").fetchone()[0]
        if trusted is None:
            raise BackupError(f"the server of {target.label} has no PostGIS extension available; install PostGIS for "
                              "its PostgreSQL version (Debian: postgresql-<major>-postgis-3); nothing was restored")
        present = not new_database and conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
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
            raise BackupError(f"cannot create database {name!r} next to {target.label}: {_first_line(str(exc))}"
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
                          f"be replaced by it: {_first_line(str(exc))}; drop the old one (if still there) and rename "
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


# -- for people ------------------------------------------------------------------------------------


def human_size(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def elapsed(started: float) -> str:
    seconds = time.monotonic() - started
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {int(seconds % 60)} s"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)
