"""Fault-injection helpers: a private PostgreSQL cluster, gridmap as a separate (killable) server process,
clients that retry a case post with the same idempotency key until it is acknowledged, and a record of
what everybody saw.

Used by tests/api/test_faults.py; nothing here touches the suite's shared test cluster.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gis.settings import PROJECT_ROOT
from gis.store.embedded import EmbeddedCluster

NATIVE = "native"
OPEN311 = "open311"
RETRYABLE_STATUS = 503
ACKNOWLEDGED = (201, 200)  # 201 created; 200 a retry of a case stored already


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- the database ---------------------------------------------------------------------------------


def stop_database(cluster: EmbeddedCluster, mode: str, timeout: float = 60.0) -> None:
    """What `pg_ctl stop -m fast|immediate` does (SIGINT or SIGQUIT to the postmaster), sent directly so that
    it lands within microseconds of the moment the caller picked; returns once the postmaster has gone.
    Immediate is a crash: no shutdown checkpoint, recovery on the next start."""
    pid = int((cluster.pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(pid, {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode])
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL (pid {pid}) did not stop ({mode}) within {timeout:.0f} s")
        time.sleep(0.01)


def start_database(cluster: EmbeddedCluster) -> None:
    cluster.ensure_running()


# -- the gridmap server process -------------------------------------------------------------------


class GridmapProcess:
    """`uvicorn --factory api.app:create_app` on a fixed loopback port, configured only by environment."""

    def __init__(self, database_url: str, port: int, log_path: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
        self.env["GRIDMAP_DATABASE_URL"] = database_url
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 40.0) -> float:
        """Start and wait until /healthz answers 200; returns the seconds it took."""
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start #{self.starts + 1} at {time.strftime('%H:%M:%S')} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning"],
                cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        self.starts += 1
        deadline = began + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"gridmap exited with {self.process.returncode} while starting:\n"
                                       f"{log_tail(self.log_path)}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return time.monotonic() - began
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gridmap did not become healthy in {timeout:.0f} s:\n{log_tail(self.log_path)}")
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, open transactions die with their connections."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


# -- what everybody saw ---------------------------------------------------------------------------


@dataclass
class Ack:
    api: str
    username: str
    key: str
    case_id: int
    status: int
    attempts: int
    expected_grid: str
    lon: float
    lat: float
    sent_at: float  # seconds since the record began, when the acknowledged attempt was sent
    answered_at: float


@dataclass
class Seen503:
    who: str  # "client", or the outage probe's route
    route: str
    retry_after: str | None
    body: Any
    during_outage: bool


@dataclass
class Record:
    lock: threading.Lock = field(default_factory=threading.Lock)
    began: float = field(default_factory=time.monotonic)
    acks: list[Ack] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # unexpected answers, requests given up
    unavailable: list[Seen503] = field(default_factory=list)
    transport_errors: int = 0
    retries: int = 0
    refused_keys: list[tuple[str, str]] = field(default_factory=list)  # (username, key) answered 503, never retried
    events: list[str] = field(default_factory=list)
    outage: bool = False  # the database is down right now

    def add(self, attribute: str, value: object) -> None:
        with self.lock:
            getattr(self, attribute).append(value)

    def count(self, attribute: str) -> None:
        with self.lock:
            setattr(self, attribute, getattr(self, attribute) + 1)

    def now(self) -> float:
        return round(time.monotonic() - self.began, 3)

    def event(self, text: str) -> None:
        self.add("events", f"t={self.now():.3f} {text}")

    @property
    def acknowledged(self) -> int:
        with self.lock:
            return len(self.acks)

    def wait_for_fresh_ack(self, api: str, timeout: float = 2.0) -> None:
        """Until a request through `api` has just been acknowledged (or `timeout` passed)."""
        before = self.acknowledged
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.acks) > before and self.acks[-1].api == api:
                    return
                before = len(self.acks)
            time.sleep(0.0005)


# -- posting cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Poster:
    """Posts one case through either API and reads the answer the way that API's clients would."""

    base_url: str
    native_user: str
    native_key: str
    open311_user: str
    open311_key: str

    def username(self, api: str) -> str:
        return self.native_user if api == NATIVE else self.open311_user

    def send(self, client: httpx.Client, api: str, key: str, lon: float, lat: float) -> httpx.Response:
        if api == NATIVE:
            body = {"source": "hotline", "category": "exposed_rubbish", "description": f"fault test {key}",
                    "lon": lon, "lat": lat}
            return client.post(f"{self.base_url}/api/cases", json=body,
                               headers={"Authorization": f"Bearer {self.native_key}", "Idempotency-Key": key})
        form = {"api_key": self.open311_key, "service_code": "exposed_rubbish", "lat": str(lat), "long": str(lon),
                "description": f"fault test {key}", "idempotency_key": key}
        return client.post(f"{self.base_url}/open311/v2/requests.json", data=form)

    @staticmethod
    def case_id(api: str, response: httpx.Response) -> int:
        body = response.json()
        return int(body["id"]) if api == NATIVE else int(body[0]["service_request_id"])


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


def post_until_acknowledged(
    poster: Poster, client: httpx.Client, record: Record, api: str, key: str, lon: float, lat: float,
    expected_grid: str, *, give_up_after: float = 90.0, rng: random.Random | None = None,
) -> Ack | None:
    """The client side of the contract: the same request (same key) again on a lost connection, a timeout
    or a 503, until it is acknowledged (201/200). Anything else is recorded as a failure."""
    rng = rng or random.Random()
    deadline = time.monotonic() + give_up_after
    attempts = 0
    while True:
        attempts += 1
        sent_at = record.now()
        try:
            response = poster.send(client, api, key, lon, lat)
        except httpx.TransportError:
            record.count("transport_errors")
        else:
            if response.status_code in ACKNOWLEDGED:
                ack = Ack(api, poster.username(api), key, poster.case_id(api, response), response.status_code,
                          attempts, expected_grid, lon, lat, sent_at, record.now())
                record.add("acks", ack)
                return ack
            if response.status_code != RETRYABLE_STATUS:
                record.add("failures", f"{api} {key}: unexpected {response.status_code} {body_of(response)!r}")
                return None
            record.add("unavailable", Seen503("client", api, response.headers.get("retry-after"), body_of(response),
                                              record.outage))
        if time.monotonic() > deadline:
            record.add("failures", f"{api} {key}: not acknowledged after {attempts} attempts in {give_up_after:.0f} s")
            return None
        record.count("retries")
        # A real client would wait Retry-After (5 s); a test waits a little, so requests pile into the faults.
        time.sleep(rng.uniform(0.05, 0.25))


def run_client(
    poster: Poster, record: Record, number: int, count: int, positions: list[tuple[float, float, str]], tag: str,
    stop: Callable[[], bool],
) -> None:
    """One client thread: `count` cases, alternating the two APIs, each with its own idempotency key."""
    rng = random.Random(f"{tag}-{number}")
    with httpx.Client(timeout=httpx.Timeout(10.0, connect=2.0)) as client:
        for i in range(count):
            if stop():
                return
            api = NATIVE if (i + number) % 2 == 0 else OPEN311
            lon, lat, grid = positions[(i + number) % len(positions)]
            post_until_acknowledged(poster, client, record, api, f"{tag}-c{number}-{i}", lon, lat, grid, rng=rng)
