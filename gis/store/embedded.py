"""An embedded PostgreSQL + PostGIS cluster that gridmap creates, starts and stops itself.

Used when no database URL is configured, and by the test suite. Debian's `initdb`/`pg_ctl` refuse to
run as root, so when we are root the server runs as the unprivileged `postgres` user, which then owns
the data directory.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

SERVER_USER = "postgres"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded cluster could not be created or started; the message says what to do."""


def find_pg_bin() -> Path:
    """The newest PostgreSQL server binaries on this machine (Debian keeps them per version)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise EmbeddedDatabaseError(
        "PostgreSQL server binaries not found; run `scripts/install-system.sh` (installs postgresql and postgis)"
    )


@dataclass
class EmbeddedCluster:
    """One cluster in `data_dir`, listening on loopback `port` only."""

    data_dir: Path
    port: int
    database: str = "gridmap"
    fast_unsafe: bool = False  # fsync off: for throwaway test clusters only

    def __post_init__(self) -> None:
        # The server runs with cwd "/" as another user: every path it is given must be absolute.
        self.data_dir = Path(self.data_dir).resolve()

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def url(self, database: str | None = None) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database or self.database}"

    def dsn(self, database: str | None = None) -> str:
        return f"host=127.0.0.1 port={self.port} user={SERVER_USER} dbname={database or self.database}"

    # -- lifecycle -------------------------------------------------------------------------------

    def ensure_running(self) -> bool:
        """Create the cluster if needed and start it if it is not running. True if we started it."""
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        started = False
        if not self.is_running():
            self._start()
            started = True
        self._wait_ready()
        self._ensure_database()
        return started

    def is_running(self) -> bool:
        result = self._run_pg("pg_ctl", "status", "-D", str(self.pgdata), check=False)
        return result.returncode == 0

    def stop(self) -> None:
        """Stop cleanly (fast mode: roll back open transactions, then checkpoint)."""
        if self.is_running():
            self._run_pg("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w")
            log.info("embedded PostgreSQL stopped")

    # -- steps -----------------------------------------------------------------------------------

    def _prepare_dirs(self) -> None:
        for directory in (self.data_dir, self.pgdata, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            for directory in (self.data_dir, self.pgdata, self.socket_dir):
                os.chown(directory, user.pw_uid, user.pw_gid)
            os.chmod(self.pgdata, 0o700)
            if self.log_file.exists():
                os.chown(self.log_file, user.pw_uid, user.pw_gid)

    def _initdb(self) -> None:
        log.info("creating embedded PostgreSQL cluster in %s", self.pgdata)
        self._run_pg(
            "initdb", "-D", str(self.pgdata), "-U", SERVER_USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8",
        )
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "shared_buffers = 512MB",
            "work_mem = 64MB",
            "maintenance_work_mem = 512MB",
            "max_wal_size = 4GB",
            "timezone = 'Asia/Shanghai'",
        ]
        if self.fast_unsafe:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        conf = self.pgdata / "postgresql.auto.conf"
        with conf.open("a", encoding="utf-8") as handle:
            handle.write("\n# written by gridmap\n" + "\n".join(settings) + "\n")

    def _start(self) -> None:
        log.info("starting embedded PostgreSQL on 127.0.0.1:%s", self.port)
        self._run_pg(
            "pg_ctl", "start", "-D", str(self.pgdata), "-l", str(self.log_file), "-w", "-t", "60",
            "-o", f"-p {self.port}",
        )

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise EmbeddedDatabaseError(
                        f"embedded PostgreSQL did not accept connections on port {self.port}: {exc}; "
                        f"see {self.log_file}"
                    ) from exc
                time.sleep(0.2)

    def _ensure_database(self) -> None:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def _run_pg(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(find_pg_bin() / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
        if check and result.returncode != 0:
            raise EmbeddedDatabaseError(
                f"`{program} {' '.join(args[:2])}` failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return result
