"""The sweeper: on a timer, with nobody opening a page, it flags and escalates late cases, and settles
redraw plans whose effective date has come (buildings reassigned, open cases re-homed)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from gis.settings import Settings
from gis.store.cases import sweep_overdue
from gis.store.database import Database
from gis.store.layers import compact_changes
from gis.store.plans import settle_due_plans

log = logging.getLogger(__name__)


def sweep_once(database: Database, settings: Settings) -> dict[str, int]:
    with database.session() as session:
        result = sweep_overdue(session, escalation_grace=timedelta(hours=settings.escalation_grace_hours))
    with database.session() as session:
        result["plans_settled"] = settle_due_plans(session)
    if database.read_engine is not None:  # map reads go to the replica, which cannot fold the change log
        with database.session() as session:
            compact_changes(session)
    return result


async def run_sweeper(database: Database, settings: Settings, swept: asyncio.Event | None = None) -> None:
    """Sweep every `sweep_interval_seconds` until cancelled; a failed sweep is logged and retried. `swept` is
    set once the first sweep has ended (the warmer waits for it: a server that was down flags a backlog of
    late cases at once, which would otherwise change the measures it has just warmed)."""
    while True:
        try:
            result = await asyncio.to_thread(sweep_once, database, settings)
            if result["supervised"] or result["escalated"]:
                log.info("overdue sweep: %(supervised)d flagged for supervision, %(escalated)d escalated", result)
            if result["plans_settled"]:
                log.info("redraw plans settled on their effective date: %(plans_settled)d", result)
        except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
            log.exception("overdue sweep failed; retrying in %.0f s", settings.sweep_interval_seconds)
        if swept is not None:
            swept.set()
        await asyncio.sleep(settings.sweep_interval_seconds)
