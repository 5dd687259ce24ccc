"""The transition log: one `case_event` row per change (who, when, where, from, to, note), written from
the model (`gis.store.models.CaseEvent`). The ledger can be rebuilt from these rows alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.orm import Session

from gis.cases import Position
from gis.store.models import CaseEvent
from gis.workflow import CaseStatus

__all__ = ["point_sql", "record_event"]


def point_sql(lon: float | None, lat: float | None) -> Any:
    """A WGS84 point as an SQL expression (None stays NULL)."""
    return None if lon is None or lat is None else func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


def record_event(
    session: Session, case_id: int, actor: str, action: str, from_status: CaseStatus | None,
    to_status: CaseStatus | None, note: str, position: Position | None, at: datetime,
    data: dict[str, Any] | None, district: str, street: str | None,
) -> None:
    session.execute(insert(CaseEvent.__table__).values(
        case_id=case_id, at=at, actor=actor, action=action,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None, note=note,
        position=point_sql(position.lon, position.lat) if position else None,
        data=data or None, district_code=district, street_code=street,
    ))
