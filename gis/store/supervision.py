"""Supervision (督办): the sweeper's flags on open cases past their deadline, and escalation to the
community a grace period later. Which cases can be late is `gis.store.vocabulary.CLOCK_STATUSES`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.periods import district_today
from gis.store.case_log import record_event
from gis.store.liaisons import liaisons_for_grids
from gis.store.vocabulary import CLOCK_STATUSES, past_deadline_sql
from gis.workflow import CaseStatus

__all__ = ["escalation_note", "supervision_note", "sweep_overdue"]


def supervision_note(deadline: datetime) -> str:
    return f"overdue since {deadline.isoformat()}: flagged for supervision"


def escalation_note(escalation_grace: timedelta, community: str | None) -> str:
    return f"still open {escalation_grace} after its deadline: escalated to community {community or '-'}"


def sweep_overdue(session: Session, *, now: datetime | None = None, escalation_grace: timedelta) -> dict[str, int]:
    """Flag open cases past their deadline for supervision (督办), and escalate to the community those
    still open `escalation_grace` after the deadline. Runs on a timer; each flag is set once, with an event."""
    at = now or datetime.now(UTC)
    supervised = session.execute(text(
        "UPDATE service_case SET supervised_at = :at, updated_at = :at WHERE supervised_at IS NULL "
        f"AND {past_deadline_sql('status = ANY(:statuses)', 'deadline', ':at')} "
        "RETURNING id, status, district_code, street_code, deadline"
    ), {"at": at, "statuses": list(CLOCK_STATUSES)}).mappings().all()
    for row in supervised:
        status = CaseStatus(row["status"])
        record_event(session, row["id"], "system", "supervise", status, status,
                     supervision_note(row["deadline"]), None, at, None,
                     row["district_code"], row["street_code"])
    escalated = session.execute(text(
        "UPDATE service_case SET escalated_at = :at, updated_at = :at WHERE escalated_at IS NULL "
        f"AND supervised_at IS NOT NULL AND {past_deadline_sql('status = ANY(:statuses)', 'deadline', ':cutoff')} "
        "RETURNING id, status, district_code, street_code, community_code, grid_code"
    ), {"at": at, "cutoff": at - escalation_grace, "statuses": list(CLOCK_STATUSES)}).mappings().all()
    # The liaison (联络员) of the case's grid on the day is named in the escalation (gis/liaisons.py).
    liaisons = liaisons_for_grids(session, [r["grid_code"] for r in escalated if r["grid_code"]], district_today(at))
    for row in escalated:
        status, community = CaseStatus(row["status"]), row["community_code"]
        named = [{"id": a["id"], "name": a["name"]} for a in liaisons.get(row["grid_code"], [])]
        note = escalation_note(escalation_grace, community) + "".join(f"; liaison {a['name']}" for a in named[:1])
        record_event(session, row["id"], "system", "escalate", status, status, note, None, at,
                     {"community_code": community, "liaisons": named}, row["district_code"], row["street_code"])
    return {"supervised": len(supervised), "escalated": len(escalated)}
