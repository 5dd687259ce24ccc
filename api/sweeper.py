"""The overdue sweeper: flags and escalates late cases on a timer, with nobody opening a page."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from gis.settings import Settings
from gis.store.cases import sweep_overdue
from gis.store.database import Database
from gis.store.layers import compact_changes

log = logging.getLogger(__name__)


def sweep_once(database: Database, settings: Settings) -> dict[str, int]:
    with database.session() as session:
        result = sweep_overdue(session, escalation_grace=timedelta(hours=settings.escalation_grace_hours))
    if database.read_engine is not None:  # map reads go to the replica, which cannot fold the change log
        with database.session() as session:
            compact_changes(session)
    return result


async def run_sweeper(database: Database, settings: Settings) -> None:
    """Sweep every `sweep_interval_seconds` until cancelled; a failed sweep is logged and retried."""
    while True:
        try:
            result = await asyncio.to_thread(sweep_once, database, settings)
            if result["supervised"] or result["escalated"]:
                log.info("overdue sweep: %(supervised)d flagged for supervision, %(escalated)d escalated", result)
        except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
            log.exception("overdue sweep failed; retrying in %.0f s", settings.sweep_interval_seconds)
        await asyncio.sleep(settings.sweep_interval_seconds)
