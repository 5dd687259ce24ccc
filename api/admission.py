"""Admission: how many requests work at once, so cheap ones (the wall's version poll, a worker's action,
an Open311 post) are never starved by expensive ones (map layers, tiles, pages, exports).

Two bounded classes, waited for in the event loop (a waiting request holds no thread and no connection):
- heavy: whole-district layers, tiles, ledger exports and Open311 listings, `HEAVY_SLOTS` at once;
- everything else that touches the database, `GENERAL_SLOTS` at once.
Static files and the favicon are not counted.

Why the bound matters beyond speed: a sync endpoint holds its database connection while FastAPI waits for
a second pool thread to check its answer. With more requests in flight than connections, every thread can
end up waiting for a connection held by a request waiting for a thread (bench/load.py stalled at 70
concurrent polls). Admitting fewer requests than there are connections (`POOL_CONNECTIONS` in
gis/store/database.py) and threads (anyio's 40) makes that impossible.
"""

from __future__ import annotations

from anyio import Semaphore
from anyio.lowlevel import RunVar
from starlette.types import ASGIApp, Receive, Scope, Send

from gis.store.database import POOL_CONNECTIONS

HEAVY_SLOTS = 4
GENERAL_SLOTS = POOL_CONNECTIONS - HEAVY_SLOTS - 4  # a few connections spare for the sweeper and tools
HEAVY_PREFIXES = ("/api/layers/grids", "/api/layers/summary", "/api/layers/legend", "/api/layers/overdue",
                  "/api/layers/coverage", "/tiles/", "/api/ledger")
HEAVY_PATHS: tuple[str, ...] = ()  # pages are built once per language and served from memory: cheap
FREE_PREFIXES = ("/static/", "/vendor/", "/favicon")

_semaphores: RunVar[dict[str, Semaphore]] = RunVar("gridmap_admission")


def request_class(method: str, path: str) -> str | None:
    """'heavy', 'general', or None for requests that are not counted."""
    if path.startswith(FREE_PREFIXES):
        return None
    if path in HEAVY_PATHS or path.startswith(HEAVY_PREFIXES):
        return "heavy"
    if method == "GET" and path.startswith("/open311/v2/requests"):
        return "heavy"
    return "general"


def _semaphore(kind: str) -> Semaphore:
    """The class's semaphore in this event loop (tests run several loops in one process)."""
    try:
        semaphores = _semaphores.get()
    except LookupError:
        semaphores = {"heavy": Semaphore(HEAVY_SLOTS), "general": Semaphore(GENERAL_SLOTS)}
        _semaphores.set(semaphores)
    return semaphores[kind]


class AdmissionMiddleware:
    """Pure ASGI middleware: a request waits for a slot of its class, keeps it until its answer is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = request_class(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        async with _semaphore(kind):
            await self.app(scope, receive, send)
