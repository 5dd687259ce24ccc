"""Throttling of sign-in attempts per client address: after `LIMIT` failures within `WINDOW` seconds the
address waits (429 with Retry-After), whatever username it tries. Accounts lock on their own after
repeated wrong passwords (gis/passwords.py); this stops one address from trying many accounts. Kept in
memory per server process: a restart forgets, which is acceptable for a throttle (the lock is stored)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from gis.errors import GridmapError

LIMIT = 20
WINDOW = 600.0


class TooManyAttempts(GridmapError):
    """Too many failed sign-ins from one address (HTTP 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins from this address: try again in {retry_after} s",
                         details={"retry_after": retry_after})
        self.retry_after = retry_after


class SignInThrottle:
    def __init__(self, limit: int = LIMIT, window: float = WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures[address]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, address: str | None) -> None:
        """Raise TooManyAttempts if this address has failed too often lately."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(address or "-", now)
            if len(failures) >= self.limit:
                raise TooManyAttempts(max(1, int(failures[0] + self.window - now) + 1))

    def failed(self, address: str | None) -> None:
        with self._lock:
            self._recent(address or "-", time.monotonic()).append(time.monotonic())
