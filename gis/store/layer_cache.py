"""What the map layers keep between requests: small LRU stores with one computation per key at a time,
entries refreshed in the background when they age, and built bodies with their gzip made once."""

from __future__ import annotations

import gzip
import logging
import struct
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

__all__ = ["GZIP_LEVEL", "VALUES_MAX_AGE_SECONDS", "VALUES_MIN_INTERVAL_SECONDS", "LayerBody", "LayerCache",
           "LruStore", "Newest", "gzip_joined", "pack"]

GZIP_LEVEL = 5
RENEW_AFTER_SECONDS = 600.0
"""Rows whose last full computation is this old are computed in full again in a background thread and
swapped in (`gis.store.measure_rows.renew_rows`): the safety net of gis/store/incremental.py, whose
`FULL_AFTER_SECONDS` then applies inline only to rows twice as old (renewals that failed)."""
VALUES_MAX_AGE_SECONDS = 30.0
"""Measures older than this (same data version) are refreshed in the background."""
VALUES_MIN_INTERVAL_SECONDS = 2.0
"""Measures are recomputed at most this often when the data version keeps changing (every Open311 post
and worker action changes it): meanwhile the newest values are served, tagged with the version they were
computed at, so the wall asks again and shows a change within a few seconds."""

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class _Entry:
    value: Any
    made: float


class LruStore:
    """A small LRU store, one computation per key at a time (concurrent askers wait for the first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._flights: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, make: Callable[[], T], ttl: float | None = None,
            accept: Callable[[Any, float], bool] | None = None) -> T:
        """The cached value of `key` if younger than `ttl` seconds (None: no limit) and, when given,
        `accept(value, age)` holds; else `make()`, once however many ask together."""
        hit = self._accepted(key, ttl, accept)
        if hit is not None:
            return hit.value
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:
            hit = self._accepted(key, ttl, accept)
            if hit is not None:
                return hit.value
            try:
                value = make()
                self._store(key, value)
            finally:
                with self._lock:
                    self._flights.pop(key, None)
            return value

    @contextmanager
    def holding(self, key: Hashable) -> Iterator[None]:
        """Hold `key`'s computation slot: no `get` or background refresh of `key` makes its value meanwhile
        (they wait), so a value changed from outside (a swap) cannot interleave with one."""
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:
            try:
                yield
            finally:
                with self._lock:
                    self._flights.pop(key, None)

    def refreshing(self, key: Hashable, make: Callable[[Session], T], session: Session, max_age: float,
                   sessions: Callable[[], AbstractContextManager[Session]] | None) -> T:
        """`make(session)` once per key; later, an entry older than `max_age` seconds is returned as it is
        while one background thread makes its successor in a session of its own from `sessions`. Keys
        carry the data version, so a stale entry differs from a fresh one only by the passing of time
        (overdue counts, the end of a running period), never by a change of data. Without `sessions`,
        an aged entry is recomputed inline."""
        entry = self._fresh(key, None)
        if entry is None or (time.monotonic() - entry.made > max_age and sessions is None):
            return self.get(key, lambda: make(session), max_age)
        if time.monotonic() - entry.made > max_age and sessions is not None:
            self._refresh_later(key, make, sessions)
        return entry.value

    def versioned(self, key: Hashable, version: Hashable, make: Callable[[Session], T], session: Session, *,
                  min_interval: float, max_age: float,
                  sessions: Callable[[], AbstractContextManager[Session]] | None) -> T:
        """`make(session)` for data at `version`; values carry the version they were made at (`.version`).

        An entry of the same version is served (and refreshed in the background once older than
        `max_age`, as `refreshing`). An entry of an older version is still served while it is younger than
        `min_interval` seconds, so data that changes many times a second is recomputed at most that often;
        after that the next asker recomputes it (the others wait for that one computation)."""
        entry = self._fresh(key, None)
        if entry is not None and entry.value.version == version:
            return self.refreshing(key, make, session, max_age, sessions)

        def accept(value: Any, age: float) -> bool:
            return (value.version == version and age <= max_age) or age < min_interval

        return self.get(key, lambda: make(session), accept=accept)

    def _accepted(self, key: Hashable, ttl: float | None, accept: Callable[[Any, float], bool] | None) -> _Entry | None:
        entry = self._fresh(key, ttl)
        if entry is None or accept is None or accept(entry.value, time.monotonic() - entry.made):
            return entry
        return None

    def _refresh_later(self, key: Hashable, make: Callable[[Session], T],
                       sessions: Callable[[], AbstractContextManager[Session]]) -> None:
        with self._lock:
            if key in self._flights:
                return
            flight = self._flights[key] = threading.Lock()
            flight.acquire()

        def run() -> None:
            try:
                with sessions() as session:
                    value = make(session)
                self._store(key, value)
            except Exception:  # noqa: BLE001 - the old entry stays; the next request tries again
                log.exception("refreshing layer cache entry %r failed", key)
            finally:
                with self._lock:
                    self._flights.pop(key, None)
                flight.release()

        threading.Thread(target=run, name="layer-refresh", daemon=True).start()

    def _store(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = _Entry(value, time.monotonic())
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def _fresh(self, key: Hashable, ttl: float | None) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or (ttl is not None and time.monotonic() - entry.made > ttl):
                return None
            self._entries.move_to_end(key)
            return entry


class Newest(dict[Hashable, Any]):
    """The newest value per key, for the few most recent keys (a new day's period makes a new key: the
    old ones are forgotten, not kept for ever)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def keep(self, key: Hashable, value: Any) -> Any:
        with _NEWEST_LOCK:
            self.pop(key, None)
            self[key] = value
            while len(self) > self.size:
                self.pop(next(iter(self)))
        return value


_NEWEST_LOCK = threading.Lock()


COVERAGE_MIN_INTERVAL_SECONDS = 10.0
"""While only cases change (new unrouted cases are among its points), the coverage layer is recomputed at
most this often; a change of places recomputes it at once. The wall fetches it every 30 s at most."""


class LayerCache(LruStore):
    """What the layers keep between requests, in stores sized by what they hold: small entries here
    (district summaries, grid boxes); measure rows in `measures` (and the newest per period in `latest`,
    refreshed incrementally); per-grid frames in `frames`; built layer bodies in `bodies` (and their
    pieces in `pieces`); vector tiles in `tiles`. `sessions` (a factory of units of work) lets an
    aged entry be refreshed in the background (`LruStore.refreshing`)."""

    def __init__(self, sessions: Callable[[], AbstractContextManager[Session]] | None = None) -> None:
        super().__init__(32)
        self.measures = LruStore(3)
        self.frames = LruStore(6)
        self.bodies = LruStore(4)
        self.tiles = LruStore(1024)
        self.sessions = sessions
        self.values_min_interval = VALUES_MIN_INTERVAL_SECONDS
        self.coverage_min_interval = COVERAGE_MIN_INTERVAL_SECONDS
        self.computations = 0
        """How many measure row sets, overdue and coverage layers were computed (for tests and benchmarks)."""
        self.latest = Newest(3)
        """The newest measure rows per period (`gis.store.layers`), refreshed from on the next change."""
        self.classed = Newest(16)
        """The newest classing per layer query, whose classes a refresh of a few grids mostly keeps."""
        self.pieces = Newest(4)
        """The newest body pieces per layer (gis/store/layer_pieces.py), rebuilt from on the next change."""
        self.changes = Newest(8)
        """Per period, which grids each computation of its rows recomputed (`layer_pieces.Changes`)."""
        self.renew_after = RENEW_AFTER_SECONDS
        self.renewals = 0
        """How many background renewals of the rows were swapped in (`gis.store.measure_rows.renew_rows`)."""
        self._renewing: set[Hashable] = set()

    def start_renewal(self, key: Hashable) -> bool:
        """Claim the one background renewal of `key`'s rows; False while one runs."""
        with self._lock:
            if key in self._renewing:
                return False
            self._renewing.add(key)
            return True

    def end_renewal(self, key: Hashable) -> None:
        with self._lock:
            self._renewing.discard(key)


class LayerBody:
    """A built layer: UTF-8 JSON, and its gzip made once on first use. Made from `pieces` ((raw, packed)
    pairs, gis/store/layer_pieces.py), its JSON is their texts joined and its gzip their deflated bytes
    joined (`gzip_joined`), each made only when asked for."""

    def __init__(self, raw: bytes | None = None, *, pieces: Sequence[tuple[bytes, bytes]] | None = None) -> None:
        if (raw is None) == (pieces is None):
            raise ValueError("a layer body is made from its raw bytes or from pieces")
        self._raw = raw
        self._pieces = pieces
        self._gzipped: bytes | None = None

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            assert self._pieces is not None
            self._raw = b"".join(raw for raw, _ in self._pieces)
        return self._raw

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            if self._pieces is not None:
                self._gzipped = gzip_joined(self._pieces)
            else:
                self._gzipped = gzip.compress(self.raw, compresslevel=GZIP_LEVEL)
        return self._gzipped


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def pack(raw: bytes, level: int) -> bytes:
    """`raw` deflated on its own, ended by a sync flush (byte-aligned, not final): joinable."""
    packer = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(raw) + packer.flush(zlib.Z_SYNC_FLUSH)


_END = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)
"""An empty final block: the end of a deflate stream of joined pieces."""


def gzip_joined(pieces: Sequence[tuple[bytes, bytes]]) -> bytes:
    """One gzip member of the (raw, packed) pieces in order: header, their deflated bytes, CRC-32 and size."""
    crc, size = 0, 0
    for raw, _ in pieces:
        crc = zlib.crc32(raw, crc)
        size += len(raw)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return b"".join([_GZIP_HEADER, *(packed for _, packed in pieces), _END, trailer])
