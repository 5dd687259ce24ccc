"""The FastAPI application, built from explicit settings (nothing happens at import time)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from api import logs
from api.admission import AdmissionMiddleware
from api.audit import AuditMiddleware
from api.deps import storable_query
from api.errors import install_error_handlers
from api.openapi import install_openapi
from api.pages import page_routers, shell
from api.pages.assets import mount_vendor
from api.routers import accounts, basemap, cases, docs, health, layers, ledger, open311, places, plans, tiles, workdays
from api.routers.features import router as ogc_features
from api.routers.focus import router as focus_routes
from api.routers.liaisons import router as liaison_routes
from api.routers.party import router as party_routes
from api.routers.repeats import router as repeat_routes
from api.sweeper import run_sweeper
from api.throttle import SignInThrottle
from api.warmer import run_warmer
from gis.basemap import configured as configured_basemap
from gis.settings import Settings
from gis.store.database import Database, open_database

log = logging.getLogger(__name__)

GZIP_MIN_BYTES = 1024  # below this, compressing costs more than it saves
GZIP_LEVEL = 6  # zlib's default: most of level 9's saving at a fraction of its CPU
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # a zip already


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app. With `database` given (tests, tools) the caller owns it; otherwise it is opened
    at start-up (embedded cluster if no URL is configured) and closed at shutdown."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = None
        if getattr(app.state, "database", None) is None:
            owned = open_database(settings)
            app.state.database = owned
        swept = asyncio.Event()  # the first sweep is done: the warmer starts after it (api/warmer.py)
        sweeper = asyncio.create_task(run_sweeper(app.state.database, settings, swept))
        warmer = asyncio.create_task(run_warmer(app, settings, swept))
        try:
            yield
        finally:
            for task in (warmer, sweeper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if owned is not None:
                owned.close()
                app.state.database = None

    app = FastAPI(
        title="gridmap",
        summary="Grid-management map service for urban community governance",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(storable_query)],
    )
    app.state.settings = settings
    app.state.database = database
    app.state.basemap = configured_basemap(settings)  # checked now: a bad basemap stops the start
    install_error_handlers(app)
    app.state.sign_in_throttle = SignInThrottle()
    logs.install()
    app.add_middleware(AuditMiddleware)
    app.add_middleware(AdmissionMiddleware)
    app.include_router(health.router)
    app.include_router(accounts.router)
    app.include_router(docs.router)
    app.include_router(places.router)
    app.include_router(cases.router)
    app.include_router(plans.router)
    app.include_router(ledger.router)
    app.include_router(open311.router)
    app.include_router(layers.router)
    app.include_router(tiles.router)
    app.include_router(basemap.router)
    app.include_router(ogc_features)  # OGC API - Features at /ogc
    app.include_router(workdays.router)
    app.include_router(focus_routes)  # focus households (关爱对象), issue 12.2
    app.include_router(liaison_routes)
    app.include_router(party_routes)  # party strength, commitments, evaluations, 双公开 (issue 12.5-6)
    app.include_router(repeat_routes)  # repeats, duplicates, long-standing problems (issue 12.3)
    for page in page_routers():  # every module of api/pages with a router: the pages and the sign-in
        app.include_router(page)
    install_openapi(app)
    mount_vendor(app)
    shell.mount_static(app)
    # Pages and JSON answers compressed when the client accepts it; answers that are already compressed
    # (the layer API's prebuilt gzip, photos, workbooks) pass through untouched.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL,
                       exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, XLSX))
    return app
