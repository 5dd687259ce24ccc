"""Writing the generated history: COPY into staging tables, one INSERT … SELECT each."""

from __future__ import annotations

import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import Conflict
from gis.sample import KEY_PREFIX, VISIT_NOTE_PREFIX, Progress
from gis.store.bulk import copy_frame, ewkb_hex

# -- writing ---------------------------------------------------------------------------------------

_TS = "timestamptz"
CASE_COLUMNS: dict[str, str] = {
    "id": "bigint", "source": "text", "category_code": "text", "description": "text", "address": "text",
    "reporter_name": "text", "reporter_contact": "text", "position": "geometry", "given_crs": "text",
    "given_lon": "float8", "given_lat": "float8", "grid_id": "integer", "grid_code": "text",
    "community_code": "text", "street_code": "text", "district_code": "text", "team_id": "integer",
    "branch_id": "integer", "department": "text", "first_contact": "text", "created_by": "text",
    "idempotency_key": "text", "status": "text", "reported_at": _TS, "filed_at": _TS, "declined_at": _TS,
    "dispatched_at": _TS, "accepted_at": _TS, "handled_at": _TS, "closed_at": _TS, "reworked_at": _TS,
    "evaluated_at": _TS, "first_action_at": _TS, "deadline": _TS, "supervised_at": _TS,
    "escalated_at": _TS, "decline_reason": "text", "rework_count": "integer", "satisfaction": "text",
    "updated_at": _TS,
}
EVENT_COLUMNS: dict[str, str] = {
    "seq": "bigint", "case_id": "bigint", "at": _TS, "actor": "text", "action": "text",
    "from_status": "text", "to_status": "text", "note": "text", "position": "geometry", "data": "jsonb",
    "district_code": "text", "street_code": "text",
}
VISIT_COLUMNS: dict[str, str] = {"building_id": "bigint", "person_id": "integer", "visited_at": _TS,
                                 "note": "text", "district_code": "text", "street_code": "text"}


def _points_hex(positions: list[tuple[float, float] | None]) -> list[str | None]:
    """Hex EWKB per position; None stays None (an empty CSV field, so NULL)."""
    present = [i for i, p in enumerate(positions) if p is not None]
    hexes: list[str | None] = [None] * len(positions)
    if present:
        for i, value in zip(present, ewkb_hex(shapely.points([positions[i] for i in present])), strict=True):
            hexes[i] = value
    return hexes


def copy_insert(session: Session, table: str, columns: dict[str, str], values: dict[str, list],
                 order: str | None = None) -> None:
    """COPY into a staging table (object columns: ints stay ints, None is NULL), then one INSERT … SELECT;
    NOT NULL text columns take '' for an empty field, `seq` only orders the rows."""
    frame = pd.DataFrame({name: pd.Series(values[name], dtype=object) for name in columns})
    stage = f"history_{table}_stage"
    copy_frame(session, stage, ", ".join(f"{name} {kind}" for name, kind in columns.items()), frame)
    names = [name for name in columns if name != "seq"]
    select = [f"COALESCE({n}, '')" if n in ("note", "description", "address") else n for n in names]
    session.execute(text(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(select)} FROM {stage}"
                         + (f" ORDER BY {order}" if order else "")))


def write_cases(session: Session, rows: list[dict], events: list[dict]) -> None:
    """Case ids come from the table's sequence, in report order; events keep their order through `seq`."""
    ids = session.execute(text("SELECT nextval(pg_get_serial_sequence('service_case', 'id')) "
                               "FROM generate_series(1, :n)"), {"n": len(rows)}).scalars().all()
    for row, case_id in zip(rows, sorted(ids), strict=True):
        row["id"] = case_id
    values = {name: [row[name] for row in rows] for name in CASE_COLUMNS}
    values["position"] = _points_hex(values["position"])
    copy_insert(session, "service_case", CASE_COLUMNS, values)
    values = {name: [e.get(name) for e in events] for name in EVENT_COLUMNS}
    values["seq"] = list(range(len(events)))
    values["case_id"] = [rows[e["case"]]["id"] for e in events]
    values["position"] = _points_hex(values["position"])
    copy_insert(session, "case_event", EVENT_COLUMNS, values, order="seq")


def make_room(session: Session, replace: bool, progress: Progress) -> None:
    """Refuse to add to existing cases or generated visits unless replacing the generated history."""
    cases = session.execute(text("SELECT count(*) FROM service_case")).scalar_one()
    visits = session.execute(text("SELECT count(*) FROM visit WHERE note LIKE :p"),
                             {"p": VISIT_NOTE_PREFIX + "%"}).scalar_one()
    if not (cases or visits):
        return
    if not replace:
        raise Conflict(
            f"the database already holds {cases:,} cases and {visits:,} generated visits; pass --replace "
            f"(replace=True) to delete the generated history (cases keyed '{KEY_PREFIX}…', visits noted "
            f"'{VISIT_NOTE_PREFIX}…') and write it again", details={"cases": cases, "visits": visits})
    deleted = session.execute(text("DELETE FROM service_case WHERE idempotency_key LIKE :p"),
                              {"p": KEY_PREFIX + "%"}).rowcount
    removed = session.execute(text("DELETE FROM visit WHERE note LIKE :p"),
                              {"p": VISIT_NOTE_PREFIX + "%"}).rowcount
    progress(f"history: replacing: deleted {deleted:,} generated cases (with events), {removed:,} visits")

