"""PostgreSQL's client tools for backup and restore: where the database is (`Target`), what is in it
(`Facts`), which pg_dump/pg_restore fits the server's major version, and running them with progress.

Passwords never reach a command line or a message: the tools get them through a private passfile."""

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
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
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

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        """An autocommit connection whose rows are read by column name."""
        try:
            return psycopg.connect(self.conninfo(), password=self.password, autocommit=True, connect_timeout=15,
                                   row_factory=dict_row)
        except psycopg.OperationalError as exc:
            raise BackupError(f"cannot connect to {self.label}: {first_line(str(exc))}") from exc


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
SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p')) AS tables, count(*) AS relations
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
        found = one_row(conn, "SELECT current_setting('server_version') AS version, "
                           "pg_database_size(current_database()) AS size, "
                           "to_regclass('alembic_version') IS NOT NULL AS migrated, "
                           "to_regclass('service_case') IS NOT NULL AS has_cases")
        owned = one_row(conn, OWN_RELATIONS_SQL)
        revision = cases = None
        if found["migrated"]:
            revision = one_row(conn, "SELECT string_agg(version_num, ',') AS revision FROM alembic_version")["revision"]
        if found["has_cases"]:
            cases = one_row(conn, "SELECT count(*) AS cases FROM service_case")["cases"]
        return Facts(conn.info.server_version // 10000, found["version"].split()[0], found["size"],
                     owned["tables"], owned["relations"], revision, cases)


def one_row(conn: psycopg.Connection[dict[str, Any]], statement: str) -> dict[str, Any]:
    """The one row a statement answers (an aggregate or a setting), by column name."""
    row = conn.execute(statement).fetchone()  # type: ignore[arg-type]
    if row is None:
        raise BackupError(f"no answer to {statement[:60]!r}")
    return row


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


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)
