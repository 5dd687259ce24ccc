"""Add a year of seeded, realistic case history and household visits to the loaded district.

    .venv/bin/gridmap sample
    .venv/bin/python -m gis.sample.history [--seed N] [--days D] [--end ISO] [--rate R] [--replace]

Reports are drawn near the buildings of each grid (hotline, patrol, app … in plausible proportions, a
weekly rhythm, a seasonal swing), routed by the product's rule (`gis.store.routing.route_points`, and
intake's `responsible_for` outside every grid), then walked through the workflow with plausible delays.
Every step goes through `gis.workflow.check_transition` and is written as one `case_event`, so the ledger
can be rebuilt from the events alone. Deadlines are `Category.deadline(first dispatch, calendar)` on the
work calendar as the database holds it (`gis.store.reference.load_calendar`); late cases get the flags
the overdue sweeper (`gis.store.supervision`) would have set, with its notes, at the first moment it
would have seen them late. About 1% of reports lie outside every grid (the sample's hole, just
outside the district edge): they stay unrouted (`grid_code` NULL) and are declined, filed by hand for
the community, or still waiting in the unrouted queue.

Generated cases carry the idempotency key `gridmap-history:<seed>:<n>`, generated visits a note starting
with `入户走访：`; `--replace` deletes exactly those before writing again.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from gis.errors import Conflict
from gis.sample import Progress
from gis.sample.cases import walk_all
from gis.sample.places import Places, load_places, route
from gis.sample.reports import draw_reports
from gis.sample.visits import draw_visits
from gis.sample.write import VISIT_COLUMNS, copy_insert, make_room, write_cases
from gis.store.reference import all_categories, load_calendar
from gis.workcalendar import SHANGHAI
from gis.workflow import CaseStatus, Satisfaction


def generate_history(
    session: Session, *, seed: int = 2026, end: datetime | None = None, days: int = 365,
    progress: Progress = print, cases_per_grid_day: float = 0.4, outside_share: float = 0.01,
    escalation_grace: timedelta = timedelta(hours=24), replace: bool = False,
) -> dict[str, Any]:
    """Write `days` of cases (with their events) ending at `end` (default now), and the visits of the same
    period, into the district already loaded. Same seed, end and places: same history. Returns counts and
    the DOMAIN.md measures over what was written (see `_summary`)."""
    started = time.perf_counter()
    end = (end or datetime.now(UTC)).astimezone(SHANGHAI).replace(microsecond=0)
    start = end - timedelta(days=days)
    make_room(session, replace, progress)
    places = load_places(session)
    if not places.grids:
        raise Conflict("no current grids: load a district first (gridmap sample)")
    calendar, rng = load_calendar(session), np.random.default_rng(seed)
    progress(f"history: {days} days to {end:%Y-%m-%d %H:%M}, {len(places.grids)} grids, seed {seed}")
    reports = draw_reports(rng, places, all_categories(session), calendar, start, end, cases_per_grid_day,
                            outside_share, progress)
    routed = route(session, rng, places, reports)
    rows, events = walk_all(reports, routed, places, calendar, seed=seed, end=end, grace=escalation_grace,
                             progress=progress)
    progress(f"history: writing {len(rows):,} cases and {len(events):,} events")
    write_cases(session, rows, events)
    visits = draw_visits(rng, places, calendar, start, end)
    progress(f"history: writing {len(visits['building_id']):,} household visits")
    copy_insert(session, "visit", VISIT_COLUMNS, visits)
    summary = _summary(rows, len(events), visits, places, end)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    progress(f"history: done in {summary['seconds']} s")
    return summary


def _summary(rows: list[dict], events: int, visits: dict[str, list], places: Places, end: datetime) -> dict:
    """Counts and shares. Due = deadline passed by `end`; closure and on-time closure are over due cases;
    rework over handled; satisfaction = satisfied or basically satisfied / rated (latest rating)."""
    closed = {CaseStatus.closed.value, CaseStatus.evaluated.value}
    due = [r for r in rows if r["deadline"] is not None and r["deadline"] <= end]
    closed_due = [r for r in due if r["status"] in closed]
    rated = [r["satisfaction"] for r in rows if r["satisfaction"]]
    handled = [r for r in rows if r["handled_at"]]
    recent = {b for b, at in zip(visits["building_id"], visits["visited_at"], strict=True)
              if at > end - timedelta(days=30)}
    unrouted = [r for r in rows if r["grid_code"] is None]

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    return {
        "cases": len(rows), "events": events, "visits": len(visits["building_id"]),
        "unrouted": len(unrouted), "unrouted_waiting": sum(r["status"] == "reported" for r in unrouted),
        "declined": sum(r["status"] == CaseStatus.declined.value for r in rows),
        "open": sum(r["status"] not in closed and r["status"] != CaseStatus.declined.value for r in rows),
        "due": len(due), "closure_rate": share(len(closed_due), len(due)),
        "on_time_closure_rate": share(sum(r["closed_at"] <= r["deadline"] for r in closed_due), len(due)),
        "rework_rate": share(sum(r["rework_count"] > 0 for r in handled), len(handled)),
        "rated_share": share(len(rated), sum(r["closed_at"] is not None for r in rows)),
        "satisfaction": share(sum(s != Satisfaction.unsatisfied.value for s in rated), len(rated)),
        "supervised": sum(r["supervised_at"] is not None for r in rows),
        "escalated": sum(r["escalated_at"] is not None for r in rows),
        "buildings_visited_30d": share(len(recent), int(places.buildings["grid_code"].notna().sum())),
    }


# -- command line ----------------------------------------------------------------------------------


def _parse_end(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Generate into the configured database (GRIDMAP_DATABASE_URL, else the embedded cluster)."""
    from gis.errors import GridmapError
    from gis.settings import Settings
    from gis.store.database import open_database

    parser = argparse.ArgumentParser(description="Add seeded case history and household visits")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--end", type=_parse_end, help="last moment, ISO 8601 (naive: Asia/Shanghai)")
    parser.add_argument("--rate", type=float, default=0.4, help="cases per grid per day on average")
    parser.add_argument("--replace", action="store_true", help="delete the generated history first")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    database = open_database(settings)
    try:
        with database.session() as session:
            summary = generate_history(
                session, seed=args.seed, end=args.end, days=args.days, progress=_progress,
                cases_per_grid_day=args.rate, replace=args.replace,
                escalation_grace=timedelta(hours=settings.escalation_grace_hours))
    except GridmapError as error:
        print(f"history: {error}", file=sys.stderr)
        return 2
    finally:
        database.close()
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
