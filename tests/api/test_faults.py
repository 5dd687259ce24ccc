"""Fault injection (issue 7): clients keep posting cases through both APIs while the gridmap server is
SIGKILLed and restarted and PostgreSQL is stopped (cleanly and as a crash) and started again.

Afterwards: every acknowledged case is stored exactly once under its idempotency key with the id it was
acknowledged with, nothing else was stored, every case has exactly one 'create' event, the server answered
503 with Retry-After while the database was away (native JSON, /healthz JSON, Open311's own errors
document), and it recovered by itself when the database came back.

Runs on its own cluster under var/test-faults-<pid> (never the suite's shared one) with gridmap as a
separate server process. GRIDMAP_FAULT_CASES (default 200) sets how many cases the clients post; every
further 200 cases add another round of faults, for longer local runs.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import asdict
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import text

from gis.settings import PROJECT_ROOT, Settings
from gis.store.database import make_engine, open_database
from gis.store.embedded import EmbeddedCluster
from gis.store.users import create_user
from tests import drawn
from tests.api.conftest import load_drawn
from tests.faults import (
    NATIVE,
    OPEN311,
    GridmapProcess,
    Poster,
    Record,
    Seen503,
    body_of,
    free_port,
    log_tail,
    post_until_acknowledged,
    run_client,
    start_database,
    stop_database,
)

CASES = int(os.environ.get("GRIDMAP_FAULT_CASES", "200"))
CLIENTS = 4
ROUNDS = max(1, CASES // 200)
# Each database stop is another chance to catch a write answered before its commit (it dies with the connection).
SCHEDULE = ["kill", "db-fast", "kill", "db-immediate", "db-fast", "kill", "db-immediate"] * ROUNDS
OUTAGE_SECONDS = 1.0  # how long PostgreSQL stays down (at least; until every probe has seen a 503)
SEED = int(os.environ.get("GRIDMAP_FAULT_SEED", "7"))

CENTRE, CENTRE_KEY = "fault-centre", "key-fault-centre"
HOTLINE, HOTLINE_KEY = "fault-hotline", "key-fault-hotline"

# Points well inside each drawn grid (never on the shared edge at lon 106.510).
POSITIONS = [
    (106.505, 29.555, drawn.WEST_CODE),
    (106.515, 29.555, drawn.EAST_CODE),
    (106.502, 29.558, drawn.WEST_CODE),
    (106.518, 29.552, drawn.EAST_CODE),
]


@pytest.fixture
def fault_cluster(tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, Settings]]:
    """A private cluster with the hand-drawn places and two users; stopped and removed whatever happens."""
    directory = PROJECT_ROOT / "var" / f"test-faults-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    cluster = EmbeddedCluster(directory, free_port(), database="gridmap_faults", fast_unsafe=True)
    try:
        cluster.ensure_running()
        # fast_unsafe turns synchronous_commit off, so a crash (stop -m immediate) could drop the last
        # commits inside PostgreSQL itself; with it on (fsync stays off) a crash loses nothing committed.
        with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_commit = on")
            conn.execute("SELECT pg_reload_conf()")
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
        settings = Settings(database_url=cluster.url())
        database = open_database(settings)  # migrates
        try:
            load_drawn(settings, tmp_path)
            with database.session() as session:
                create_user(session, CENTRE, "command_centre", key=CENTRE_KEY)
                create_user(session, HOTLINE, "open311_client", key=HOTLINE_KEY)
        finally:
            database.close()
        yield cluster, settings
    finally:
        with suppress(OSError):  # kept with the test's other artifacts
            shutil.copy(cluster.log_file, tmp_path / "postgres.log")
        try:
            cluster.stop()
        except Exception:  # noqa: BLE001 - a cluster left half-started: make sure it is gone
            with suppress(Exception):
                stop_database(cluster, "immediate")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def fault_server(fault_cluster: tuple[EmbeddedCluster, Settings], tmp_path: Path) -> Iterator[GridmapProcess]:
    _, settings = fault_cluster
    assert settings.database_url is not None
    server = GridmapProcess(settings.database_url, free_port(), tmp_path / "gridmap.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- the fault thread -----------------------------------------------------------------------------


def database_outage(server: GridmapProcess, cluster: EmbeddedCluster, poster: Poster, record: Record, mode: str,
                    number: int, recoveries: list[dict[str, object]]) -> None:
    """Stop PostgreSQL, probe the still-running server until each route has answered 503, start it again,
    then post through both APIs on the same server process."""
    pid = server.pid
    record.outage = True
    stop_database(cluster, mode)
    record.event(f"PostgreSQL stopped ({mode}) right after ack {record.acknowledged}")
    began = time.monotonic()
    seen: set[str] = set()
    with httpx.Client(timeout=5.0) as client:
        probe = 0
        while time.monotonic() - began < OUTAGE_SECONDS or (len(seen) < 3 and time.monotonic() - began < 20):
            probe += 1
            for route in ("healthz", NATIVE, OPEN311):
                key = f"outage{number}-{route}-{probe}"
                try:
                    if route == "healthz":
                        response = client.get(f"{server.url}/healthz")
                    else:
                        response = poster.send(client, route, key, 106.505, 29.555)
                except httpx.TransportError as error:
                    record.add("failures", f"outage probe {route}: no answer from the running server: {error!r}")
                    continue
                if route != "healthz":
                    record.add("refused_keys", (poster.username(route), key))
                if response.status_code == 503:
                    seen.add(route)
                    record.add("unavailable", Seen503("probe", route, response.headers.get("retry-after"),
                                                      body_of(response), True))
                else:
                    record.add("failures", f"outage probe {route}: answered {response.status_code} "
                                           f"{body_of(response)!r} while PostgreSQL was down")
            time.sleep(0.2)
    down_for = time.monotonic() - began
    start_database(cluster)
    record.outage = False
    record.event(f"PostgreSQL started again after {down_for:.1f} s; probes answered 503 on {sorted(seen)}")
    # Recovery: the same gridmap process must take posts again, with no restart.
    with httpx.Client(timeout=10.0) as client:
        for api in (NATIVE, OPEN311):
            ack = post_until_acknowledged(poster, client, record, api, f"recovery{number}-{api}", 106.515, 29.555,
                                          drawn.EAST_CODE, give_up_after=20.0)
            recoveries.append({"after": mode, "api": api, "acknowledged": ack is not None,
                               "attempts": ack.attempts if ack else None,
                               "same_process": server.pid == pid and server.process is not None
                               and server.process.poll() is None})
        health = client.get(f"{server.url}/healthz")
        recoveries.append({"after": mode, "api": "healthz", "acknowledged": health.status_code == 200,
                           "attempts": 1, "same_process": server.pid == pid})


def run_faults(server: GridmapProcess, cluster: EmbeddedCluster, poster: Poster, record: Record,
               clients_done: Callable[[], bool], recoveries: list[dict[str, object]]) -> None:
    """Each fault fires when the clients have had a further share of their cases acknowledged, so every
    fault lands while they are posting (whatever the machine's speed)."""
    rng = random.Random(SEED)
    for number, fault in enumerate(SCHEDULE, start=1):
        threshold = CASES * number // (len(SCHEDULE) + 1)
        while record.acknowledged < threshold and not clients_done():
            time.sleep(0.01)
        if clients_done():
            record.add("failures", f"fault {number} ({fault}) came after the clients had finished")
        if fault == "kill":
            time.sleep(rng.uniform(0.0, 0.05))  # land anywhere inside a request
            old = server.pid
            record.event(f"SIGKILL gridmap {old} at {record.acknowledged} acks")
            server.kill()
            took = server.start()
            record.event(f"gridmap {server.pid} healthy in {took:.1f} s")
        else:
            # Right after a native answer: a commit still pending behind a sent 201 would die with the server.
            record.wait_for_fresh_ack(NATIVE)
            database_outage(server, cluster, poster, record, fault.removeprefix("db-"), number, recoveries)


def guarded(record: Record, name: str, target: Callable[..., None], *args: object) -> threading.Thread:
    def run() -> None:
        try:
            target(*args)
        except Exception:  # noqa: BLE001 - reported as a failure of the test, not lost in a thread
            record.add("failures", f"{name} crashed:\n{traceback.format_exc()}")

    return threading.Thread(target=run, name=name, daemon=True)


# -- the test -------------------------------------------------------------------------------------


def test_acknowledged_cases_survive_kills_and_database_restarts(
    fault_cluster: tuple[EmbeddedCluster, Settings], fault_server: GridmapProcess, tmp_path: Path,
) -> None:
    cluster, settings = fault_cluster
    server = fault_server
    record = Record()
    poster = Poster(server.url, CENTRE, CENTRE_KEY, HOTLINE, HOTLINE_KEY)
    recoveries: list[dict[str, object]] = []
    started = time.monotonic()

    stop = threading.Event()
    shares = [CASES // CLIENTS + (1 if n < CASES % CLIENTS else 0) for n in range(CLIENTS)]
    clients = [guarded(record, f"client-{n}", run_client, poster, record, n, shares[n], POSITIONS, "c", stop.is_set)
               for n in range(CLIENTS)]
    faults = guarded(record, "faults", run_faults, server, cluster, poster, record,
                     lambda: not any(c.is_alive() for c in clients), recoveries)
    for thread in (*clients, faults):
        thread.start()
    deadline = time.monotonic() + 600
    for thread in (*clients, faults):
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in (*clients, faults)):
        stop.set()
        record.add("failures", "threads still running after 600 s")
    elapsed = time.monotonic() - started

    # A client that retries after it was answered (its answer lost on the way) gets the same case, 200.
    repeated = []
    with httpx.Client(timeout=10.0) as client:
        for ack in [a for a in record.acks if a.api == NATIVE][:5] + [a for a in record.acks if a.api == OPEN311][:5]:
            response = poster.send(client, ack.api, ack.key, ack.lon, ack.lat)
            again = poster.case_id(ack.api, response) if response.status_code in (200, 201) else None
            repeated.append((ack.api, ack.key, ack.case_id, response.status_code, again))

    # What the database holds (a fresh engine: the test's own pool saw the restarts too).
    engine = make_engine(str(settings.database_url))
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT id, idempotency_key, grid_code FROM service_case")).all()
            creates = dict(conn.execute(text(
                "SELECT c.id, count(e.id) FILTER (WHERE e.action = 'create') FROM service_case AS c "
                "LEFT JOIN case_event AS e ON e.case_id = c.id GROUP BY c.id")).all())
            orphan_creates = conn.execute(text(
                "SELECT count(*) FROM case_event AS e WHERE e.action = 'create' "
                "AND NOT EXISTS (SELECT 1 FROM service_case AS c WHERE c.id = e.case_id)")).scalar_one()
    finally:
        engine.dispose()

    (tmp_path / "faults.json").write_text(json.dumps({
        "acks": [asdict(a) for a in record.acks], "events": record.events,
        "failures": record.failures, "stored": [list(row) for row in stored], "recoveries": recoveries,
    }, indent=1), encoding="utf-8")
    unavailable = record.unavailable
    summary = (
        f"{len(record.acks)} acknowledged ({sum(a.status == 200 for a in record.acks)} as 200 retries) in "
        f"{elapsed:.1f} s; {server.starts - 1} restarts of gridmap; {record.transport_errors} lost connections, "
        f"{record.retries} retries, {len(unavailable)} answers 503 "
        f"({sum(s.who == 'client' for s in unavailable)} to clients, "
        f"{sum(s.who == 'client' and not s.during_outage for s in unavailable)} of them outside the outages); "
        f"recoveries {recoveries}\n"
        + "\n".join(record.events)
    )
    print(summary)
    context = f"{summary}\n(details in {tmp_path})\n--- gridmap log ---\n{log_tail(server.log_path)}"

    assert not record.failures, "\n".join(record.failures) + "\n" + context

    # Every acknowledged case is stored exactly once, under its key, with the id it was acknowledged with.
    by_key: dict[str | None, list[tuple[int, str | None]]] = defaultdict(list)
    for case_id, key, grid in stored:
        by_key[key].append((case_id, grid))
    assert None not in by_key, f"cases stored without an idempotency key: {by_key.get(None)}"
    duplicates = {key: rows for key, rows in by_key.items() if len(rows) > 1}
    assert not duplicates, f"keys stored more than once: {duplicates}"
    outages = sum(f.startswith("db-") for f in SCHEDULE)
    assert len(record.acks) == CASES + 2 * outages, context  # the clients' cases and two recovery posts per outage
    acked_keys = [f"{a.username}:{a.key}" for a in record.acks]
    assert len(set(acked_keys)) == len(acked_keys)
    by_id = {case_id: (key, grid) for case_id, key, grid in stored}
    lost = [(a, by_key.get(f"{a.username}:{a.key}"), by_id.get(a.case_id)) for a in record.acks
            if by_key.get(f"{a.username}:{a.key}") != [(a.case_id, a.expected_grid)]]
    assert not lost, "acknowledged but not stored as acknowledged (ack, stored under its key, stored under its id):\n" \
        + "\n".join(map(str, lost)) + "\n" + context
    acked_ids = [a.case_id for a in record.acks]
    assert len(set(acked_ids)) == len(acked_ids), "two keys were acknowledged with the same case id"
    unacknowledged = sorted(set(by_key) - set(acked_keys))
    assert not unacknowledged, f"stored but never acknowledged (503 answers must store nothing): {unacknowledged}"
    refused = {f"{user}:{key}" for user, key in record.refused_keys}
    assert refused and not refused & set(by_key)

    # The ledger: exactly one 'create' event per case, none for a case that does not exist.
    wrong = {case_id: n for case_id, n in creates.items() if n != 1}
    assert not wrong, f"cases whose 'create' events are not exactly one: {wrong}"
    assert orphan_creates == 0

    # Posting an acknowledged key again answers 200 with the same case; every kill was followed by a restart.
    assert all(status == 200 and again == first for _, _, first, status, again in repeated), repeated
    assert len([f for f in SCHEDULE if f == "kill"]) + 1 == server.starts, context

    # The outage was answered 503 + Retry-After, each API in its own format.
    probes = {s.route: s for s in unavailable if s.who == "probe" and s.during_outage}
    assert set(probes) == {"healthz", NATIVE, OPEN311}, context
    for seen in unavailable:
        assert seen.retry_after is not None and seen.retry_after.isdigit() and int(seen.retry_after) > 0, seen
        if seen.route == NATIVE:
            assert isinstance(seen.body, dict) and seen.body.get("error") == "ServiceUnavailable", seen
        elif seen.route == OPEN311:
            assert isinstance(seen.body, list) and seen.body and all(e.get("code") == 503 for e in seen.body), seen
    health = probes["healthz"].body
    assert isinstance(health, dict) and health["status"] == "unavailable" and health["database"] == "unreachable"

    # The server came back by itself after every outage.
    assert recoveries and all(r["acknowledged"] and r["same_process"] for r in recoveries), context
