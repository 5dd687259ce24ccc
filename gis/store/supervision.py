"""Supervision (督办): the sweeper's flags on open cases past their deadline, and escalation to the
community a grace period later. Which cases can be late is `gis.store.vocabulary.CLOCK_STATUSES`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.store.case_log import record_event
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
        "RETURNING id, status, district_code, street_code, community_code"
    ), {"at": at, "cutoff": at - escalation_grace, "statuses": list(CLOCK_STATUSES)}).mappings().all()
    for row in escalated:
        status, community = CaseStatus(row["status"]), row["community_code"]
        record_event(session, row["id"], "system", "escalate", status, status,
                     escalation_note(escalation_grace, community), None, at, {"community_code": community},
                     row["district_code"], row["street_code"])
    return {"supervised": len(supervised), "escalated": len(escalated)}
