"""The warmer: at start-up, and then on a timer, the wall's first answers are made in the server's own
time rather than in the first wall's request (gis/store/warmth.py says why and what). Its last result is
`app.state.warmth`, shown by `/healthz` as `warmth`, so a deployment (or a benchmark) can tell a server
that has finished warming from one still busy."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from api.routers.layers import app_layer_cache
from gis.settings import Settings
from gis.store.data_version import data_version
from gis.store.warmth import Warmth, warm_wall

log = logging.getLogger(__name__)

WARMING = {"state": "warming"}
"""`app.state.warmth` until the first warming has finished."""


FIRST_SWEEP_WAIT_SECONDS = 120.0
"""How long the first warming waits for the sweeper's first pass (api/sweeper.py) before going ahead."""
PASSES = 3
"""Warmings in a row while the data changes under them: what is warm is the data as it stands at the end."""


def warm_once(app: FastAPI, settings: Settings) -> Warmth:
    """Warm, and again while the data version moved during the pass (a sweep, a burst of cases)."""
    cache = app_layer_cache(app)
    with app.state.database.read_session() as session:
        for _ in range(PASSES):
            before = data_version(session)
            warmth = warm_wall(session, cache, from_grids=settings.warm_from_grids,
                               language=settings.default_language,
                               households_per_worker_target=settings.households_per_worker_target)
            if warmth.state != "warm" or data_version(session) == before:
                break
    return warmth


async def run_warmer(app: FastAPI, settings: Settings, swept: asyncio.Event | None = None) -> None:
    """Warm once the sweeper's first pass is done (`swept`; at most `FIRST_SWEEP_WAIT_SECONDS`), then every
    `warm_interval_seconds` until cancelled; a failure is logged and retried."""
    app.state.warmth = dict(WARMING)
    if swept is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(swept.wait(), FIRST_SWEEP_WAIT_SECONDS)
    first = True
    while True:
        try:
            warmth = await asyncio.to_thread(warm_once, app, settings)
            app.state.warmth = warmth.as_json()
            if first and warmth.state == "warm":
                log.info("the wall's measure table for %d grids was made at start-up in %.1f s",
                         warmth.grids, warmth.seconds)
            first = False
        except Exception:  # noqa: BLE001 - the loop must survive a database hiccup; requests make what they need
            log.exception("warming the wall's measures failed; retrying in %.0f s", settings.warm_interval_seconds)
        await asyncio.sleep(settings.warm_interval_seconds)
