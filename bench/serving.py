"""Servers for benchmarks: a command under uvicorn in a subprocess on a free loopback port, up until its
readiness URL answers 200, and stopped (terminate, then kill) when the benchmark is done."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served_process(
    command: list[str], *, ready_path: str, log_path: Path, cwd: Path, env: Mapping[str, str],
    port: int, name: str, timeout: float = 120.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (which listens on 127.0.0.1:`port`) until `ready_path` answers 200; yield the process."""
    url = f"http://127.0.0.1:{port}{ready_path}"
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(url, server, name, log_path, timeout)
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_ready(url: str, server: subprocess.Popen[bytes], name: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{name} exited ({server.returncode}); see {log_path}")
        try:
            if httpx.get(url, timeout=5.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer {url} within {timeout:.0f} s; see {log_path}")


@contextmanager
def served_app(database_url: str, log_path: Path, *, timeout: float = 60) -> Iterator[tuple[str, int]]:
    """gridmap under uvicorn in a subprocess on a free loopback port, on `database_url`; yields its base URL
    and pid. The benchmarks measure the same server a deployment runs, not an in-process test client."""
    port = free_port()
    env = {**os.environ, "GRIDMAP_DATABASE_URL": database_url, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log"]
    with served_process(command, ready_path="/healthz", log_path=log_path, cwd=Path(__file__).resolve().parents[1],
                        env=env, port=port, name="the server", timeout=timeout) as server:
        yield f"http://127.0.0.1:{port}", server.pid


def database_stamp(conn: psycopg.Connection[Any], database: str) -> dict[str, Any] | None:
    """What a benchmark database says it holds: the JSON of its COMMENT, written last by a complete build
    (so a half-built one has none), or None."""
    with conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute("SELECT shobj_description(oid, 'pg_database') AS stamp FROM pg_database "
                             "WHERE datname = %s", (database,)).fetchone()
    try:
        return dict(json.loads(row["stamp"])) if row and row["stamp"] else None
    except ValueError:
        return None


class CpuMeter:
    """CPU seconds of the server process, PostgreSQL's processes (the postmaster and its children) and this
    process, whichever of them is known. A PostgreSQL backend that exits between two snapshots is missed."""

    def __init__(self, server_pid: int | None, postmaster_pid: int | None) -> None:
        self.server_pid, self.postmaster_pid = server_pid, postmaster_pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def _stat(self, pid: int) -> tuple[int, float]:
        """(parent pid, user + system CPU seconds) from /proc/<pid>/stat."""
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / self.tick

    def snapshot(self) -> dict[str, dict[int, float]]:
        own = os.times()
        parts: dict[str, dict[int, float]] = {"load generator": {0: own.user + own.system}}
        if self.server_pid:
            with suppress(OSError):  # gone
                parts["server"] = {self.server_pid: self._stat(self.server_pid)[1]}
        if self.postmaster_pid:
            postgres = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        parent, seconds = self._stat(int(entry.name))
                    except (OSError, IndexError, ValueError):
                        continue  # gone meanwhile
                    if self.postmaster_pid in (parent, int(entry.name)):
                        postgres[int(entry.name)] = seconds
            parts["PostgreSQL"] = postgres
        return parts

    @staticmethod
    def shares(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], seconds: float
               ) -> dict[str, float]:
        """CPU used as a share of one core (%), per part."""
        def used(part: str) -> float:
            return sum(s - before.get(part, {}).get(pid, 0.0) for pid, s in after[part].items())

        return {part: used(part) / max(seconds, 1e-9) * 100 for part in after}

    @staticmethod
    def text(shares: dict[str, float]) -> str:
        return ", ".join(f"{part} {share:.0f} %" for part, share in shares.items())

    @staticmethod
    def per_request(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], requests: int
                    ) -> dict[str, float]:
        """CPU milliseconds per request, per part."""
        def used(part: str) -> float:
            return sum(s - before.get(part, {}).get(pid, 0.0) for pid, s in after[part].items())

        return {part: used(part) / max(requests, 1) * 1000 for part in after}
