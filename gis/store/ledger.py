"""The ledger's queries: the names above a scope (for the title) and, in one query, every case of the
scope reported in the period with all it needs for a ledger row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.ledger import LedgerScope, PlaceNames, ScopeLevel
from gis.periods import Period
from gis.permissions import Actor, CaseScope, sees_personal_data
from gis.privacy import mask_row
from gis.store.area import case_visibility_sql
from gis.store.vocabulary import current_day, current_sql, overdue_sql

_PLACES_SQL = {
    # A grid keeps its code across redraws: the current version's name, else the latest one's.
    ScopeLevel.grid: (
        "SELECT d.name AS district, s.name AS street, c.name AS community, g.name AS grid FROM grid AS g "
        "JOIN community AS c ON c.id = g.community_id "
        "JOIN street AS s ON s.code = c.street_code LEFT JOIN district AS d ON d.code = s.district_code "
        f"WHERE g.code = :code ORDER BY {current_sql('g')} DESC, g.valid_from DESC LIMIT 1"
    ),
    ScopeLevel.community: (
        "SELECT d.name AS district, s.name AS street, c.name AS community FROM community AS c "
        "JOIN street AS s ON s.code = c.street_code "
        "LEFT JOIN district AS d ON d.code = s.district_code WHERE c.code = :code"
    ),
    ScopeLevel.street: (
        "SELECT d.name AS district, s.name AS street FROM street AS s "
        "LEFT JOIN district AS d ON d.code = s.district_code WHERE s.code = :code"
    ),
}


def scope_places(session: Session, scope: LedgerScope) -> PlaceNames:
    """District, street, community and grid names down to the scope; NotFound for an unknown code."""
    row = session.execute(text(_PLACES_SQL[scope.level]), {"code": scope.code, "on": current_day()}).mappings().first()
    if row is None:
        raise NotFound(f"unknown {scope.level} {scope.code!r}")
    return PlaceNames(**row)


# The grid, team and branch are those the case answered to (its own grid version row), not today's.
_LEDGER_SQL = """
SELECT c.id, c.reported_at, c.source, c.category_code, k.name_zh AS category_zh, k.name_en AS category_en,
       k.group_zh AS category_group, c.description, c.address, c.reporter_name, c.reporter_contact,
       c.district_code, d.name AS district_name, c.street_code, s.name AS street_name,
       c.community_code, m.name AS community_name, c.grid_code, g.name AS grid_name,
       b.name AS branch_name, t.name AS team_name, c.department,
       c.first_contact, coalesce(u.display_name, c.first_contact) AS first_contact_name,
       c.status, c.filed_at, c.declined_at, c.dispatched_at, c.accepted_at, c.handled_at, c.closed_at,
       c.reworked_at, c.evaluated_at, c.first_action_at, c.deadline,
       {overdue} AS overdue,
       c.supervised_at, c.escalated_at, c.decline_reason, c.rework_count, c.satisfaction,
       c.outcome, c.expected_by, c.merged_into, c.repeat_of,
       n.note AS latest_note, n.at AS latest_note_at, c.updated_at
FROM service_case AS c
JOIN case_category AS k ON k.code = c.category_code
LEFT JOIN grid AS g ON g.id = c.grid_id
LEFT JOIN community AS m ON m.code = c.community_code
LEFT JOIN street AS s ON s.code = c.street_code
LEFT JOIN district AS d ON d.code = c.district_code
LEFT JOIN service_team AS t ON t.id = c.team_id
LEFT JOIN party_org AS b ON b.id = c.branch_id
LEFT JOIN app_user AS u ON u.username = c.first_contact
LEFT JOIN LATERAL (
    SELECT e.note, e.at FROM case_event AS e WHERE e.case_id = c.id AND e.note <> ''
    ORDER BY e.at DESC, e.id DESC LIMIT 1
) AS n ON TRUE
WHERE {where}
ORDER BY c.reported_at, c.id
"""


def ledger_cases(
    session: Session, scope: LedgerScope, period: Period, actor: Actor, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The scope's cases reported in [period start, period end), oldest first, as plain dicts (aware
    datetimes). The actor's own area (gis/store/area.py) applies on top, as for every case listing, and the
    reporter's name and contact and the exact address are masked on rows the actor may not see them on
    (`sees_personal_data`); each row's `personal_data` says "shown" or "masked", as a case's does."""
    start, end = period.bounds()
    clauses = [f"c.{scope.column} = :scope_code", "c.reported_at >= :start", "c.reported_at < :end"]
    params: dict[str, Any] = {"scope_code": scope.code, "start": start, "end": end,
                              "now": now or datetime.now(UTC)}
    visible, visible_params = case_visibility_sql(actor)
    clauses.append(visible)
    params.update(visible_params)
    sql = _LEDGER_SQL.format(where=" AND ".join(clauses), overdue=overdue_sql("c", ":now"))
    rows = session.execute(text(sql), params).mappings().all()
    return [_as_seen(actor, dict(row)) for row in rows]


def _as_seen(actor: Actor, row: dict[str, Any]) -> dict[str, Any]:
    scope = CaseScope(row["grid_code"], row["street_code"], "", row["community_code"])
    if sees_personal_data(actor, scope):
        return {**row, "personal_data": "shown"}
    return {**mask_row(row), "personal_data": "masked"}
