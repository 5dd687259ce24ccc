"""Every case's row and events: the report, its walk, and the sweeper's flags where it ran late."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from gis.categories import CategoryKind, HandlingRule
from gis.sample import KEY_PREFIX, Progress
from gis.sample.places import Places, Routed
from gis.sample.reports import Report
from gis.sample.walk import SURNAMES, Clock, Ledger, make_teams, walk
from gis.sample.write import CASE_COLUMNS
from gis.store.supervision import escalation_note, supervision_note
from gis.workcalendar import WorkCalendar
from gis.workflow import (
    CLOCK_STATUSES,
    CaseStatus,
    Source,
)


def _flag_overdue(ledger: Ledger, grace: timedelta) -> None:
    """What the overdue sweeper would have done: supervise when first open with the clock running past the
    deadline, escalate when still so `grace` later; each flag one event, as `sweep_overdue` writes it."""
    deadline = ledger.row["deadline"]
    found = _first_running(ledger, deadline) if deadline else None
    if found is None:
        return
    at, status, index = found
    ledger.row["supervised_at"] = at
    ledger.events.insert(index, _flag(ledger, at, "supervise", status, supervision_note(deadline)))
    found = _first_running(ledger, max(deadline + grace, at))
    if found is None:
        return
    at, status, index = found
    ledger.row["escalated_at"] = at
    community = ledger.row["community_code"]
    ledger.events.insert(index, _flag(ledger, at, "escalate", status, escalation_note(grace, community),
                                      {"community_code": community}))


def _first_running(ledger: Ledger, since: datetime) -> tuple[datetime, CaseStatus, int] | None:
    """The first moment ≥ `since` (and ≤ end) the case is in a clock status; that status; the index where an
    event at that moment belongs."""
    events, status = ledger.events, CaseStatus.reported
    for index, event in enumerate(events):
        status = CaseStatus(event["to_status"])
        if status not in CLOCK_STATUSES:
            continue
        at = max(event["at"], since)
        if (at < events[index + 1]["at"]) if index + 1 < len(events) else (at <= ledger.end):
            return at, status, index + 1
    return None


def _flag(ledger: Ledger, at: datetime, action: str, status: CaseStatus, note: str,
          data: dict | None = None) -> dict[str, Any]:
    return {"at": at, "actor": "system", "action": action, "from_status": status.value,
            "to_status": status.value, "note": note, "position": None,
            "data": json.dumps(data, ensure_ascii=False) if data else None,
            "district_code": ledger.row["district_code"], "street_code": ledger.row["street_code"]}


def _case_row(n: int, seed: int, report: Report, routed: Routed, places: Places, rng: random.Random) -> dict:
    """The service_case row as reported; the walk fills in the rest."""
    grid, category, source = routed.grid, report.category, report.source
    intended = places.by_code.get(report.intended or "")
    first_contact = {
        Source.hotline: f"hotline-operator-{rng.randint(1, 12)}",
        Source.patrol: f"worker-{report.intended}",
        Source.work_day_visit: f"worker-{report.intended}",
        Source.resident: "resident-app",
        Source.reception_day: f"community-{intended.community_code if intended else routed.community_code}",
        Source.video: "video-centre",
        Source.referral: "district-referral",
    }[source]
    person = source in (Source.hotline, Source.resident, Source.reception_day, Source.work_day_visit)
    where = report.address or "辖区内"
    if category.kind is CategoryKind.livelihood:
        description = f"居民反映{category.name_zh}问题（{where}）"
    else:
        description = f"{category.name_zh}：{where}，请尽快处理"
    owner = category.handling_rule is HandlingRule.owner_first
    row: dict[str, Any] = dict.fromkeys(CASE_COLUMNS)
    row.update(
        source=source.value, category_code=category.code, description=description, address=report.address,
        reporter_name=f"{rng.choice(SURNAMES)}{rng.choice(('先生', '女士'))}" if person else None,
        reporter_contact=f"1390000{rng.randint(0, 9999):04d}" if person else None,
        position=(routed.lon, routed.lat), given_crs=routed.given_crs, given_lon=routed.given_lon,
        given_lat=routed.given_lat, grid_id=grid and grid.id, grid_code=grid and grid.code,
        community_code=routed.community_code, street_code=routed.street_code,
        district_code=routed.district_code, team_id=grid and grid.team_id, branch_id=grid and grid.branch_id,
        department=f"{category.group_zh}权属单位" if owner else None,  # as intake sets it
        first_contact=first_contact, created_by=first_contact, idempotency_key=f"{KEY_PREFIX}{seed}:{n}",
        status=CaseStatus.reported.value, reported_at=report.reported_at, rework_count=0,
    )
    return row


def walk_all(
    reports: list[Report], routed: list[Routed], places: Places, calendar: WorkCalendar, *, seed: int,
    end: datetime, grace: timedelta, progress: Progress,
) -> tuple[list[dict], list[dict]]:
    """Every case's row, and all events in order (each with `case`, the index of its row)."""
    rng = random.Random(seed)
    clock = Clock(rng, calendar, end)
    teams = make_teams(rng, places, end)
    rows: list[dict] = []
    events: list[dict] = []
    for n, (report, where) in enumerate(zip(reports, routed, strict=True)):
        row = _case_row(n, seed, report, where, places, rng)
        ledger = Ledger(row, end, calendar, report.category)
        code = row["grid_code"]
        note = f"routed to grid {code}" if code else "outside every grid: waiting in the unrouted queue"
        given = {"crs": where.given_crs, "lon": where.given_lon, "lat": where.given_lat}
        ledger.record(report.reported_at, row["first_contact"], "create", None, CaseStatus.reported, note,
                      {"source": row["source"], "category": row["category_code"], "grid_code": code,
                       "given": given}, (where.lon, where.lat))
        walk(ledger, report, where, clock, teams[code])
        _flag_overdue(ledger, grace)
        row["updated_at"] = ledger.events[-1]["at"]  # the last event, a sweeper flag included
        rows.append(row)
        for event in ledger.events:
            event["case"] = n
        events += ledger.events
        if (n + 1) % 10000 == 0:
            progress(f"history: walked {n + 1:,} of {len(reports):,} cases")
    return rows, events

