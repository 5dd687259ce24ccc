"""Repeats and duplicates in the database: the earlier cases offered beside a case, merging a duplicate,
linking a repeat (the rules are `gis.repeats`; the workflow move is `Action.merge`).

Candidates are found in one statement: earlier cases of the same category within the larger of the two
distances (a box on the spatial index first, then the geodesic distance), or — when the reader may see who
reported — with the same phone number in the window; each with its building (the nearest building point
within `BUILDING_RADIUS_M`). `gis.repeats.find_similar` decides; the answer is the case JSON of each, masked
as `case_dict` masks it for this reader, and only the cases the reader may read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.permissions import Actor, CaseScope, check_action, check_read_case, sees_personal_data
from gis.repeats import (
    BUILDING_RADIUS_M,
    LOOKBACK_DAYS,
    REPORTER_WINDOW_DAYS,
    STREET_RADIUS_M,
    Earlier,
    Report,
    check_link,
    check_merge,
    find_similar,
    phone_key,
    street_level,
)
from gis.store.case_log import record_event
from gis.store.case_reads import CaseFilter, list_cases
from gis.workflow import Action, CaseStatus, Outcome, check_transition

__all__ = ["link_repeat", "merge_case", "similar_cases"]

_NEAR_M = max(STREET_RADIUS_M, 2 * BUILDING_RADIUS_M)
_DEGREES = 1 / 50_000  # per metre, generous at any latitude of China: the box only narrows the index scan
MAX_CANDIDATES = 20

_BUILDING_OF = """(SELECT b.code FROM building AS b
    WHERE b.geom && ST_Expand({point}, :building_deg)
      AND ST_DWithin(b.geom::geography, ({point})::geography, :building_m)
    ORDER BY ST_Distance(b.geom::geography, ({point})::geography), b.code LIMIT 1)"""

_CASE_SQL = f"""
SELECT c.id, c.status, c.category_code, c.reporter_contact, c.reported_at, c.grid_code, c.street_code,
       c.community_code, c.created_by, c.district_code, c.repeat_of, k.kind, k.group_zh,
       {_BUILDING_OF.format(point="c.position")} AS building_code
FROM service_case AS c JOIN case_category AS k ON k.code = c.category_code
WHERE c.id = :id
"""

_EARLIER_SQL = f"""
WITH me AS (SELECT id, position, category_code, reported_at FROM service_case WHERE id = :id)
SELECT o.id, o.status, o.category_code, o.reporter_contact, o.reported_at,
       ST_Distance(o.position::geography, me.position::geography) AS distance_m,
       {_BUILDING_OF.format(point="o.position")} AS building_code
FROM service_case AS o, me
WHERE o.id <> me.id AND o.reported_at <= me.reported_at AND o.status NOT IN ('declined', 'merged')
  AND ((o.category_code = me.category_code
        AND o.reported_at > me.reported_at - make_interval(days => :lookback)
        AND o.position && ST_Expand(me.position, :near_deg)
        AND ST_DWithin(o.position::geography, me.position::geography, :near_m))
    OR (CAST(:tail AS text) IS NOT NULL
        AND o.reported_at > me.reported_at - make_interval(days => :window)
        AND regexp_replace(o.reporter_contact, '\\D', '', 'g') LIKE '%' || CAST(:tail AS text)))
ORDER BY o.reported_at DESC, o.id DESC
LIMIT 500
"""


def _scope(row: Any) -> CaseScope:
    return CaseScope(row["grid_code"], row["street_code"], row["created_by"], row["community_code"])


def _case_row(session: Session, case_id: int, *, lock: bool = False) -> Any:
    sql = _CASE_SQL.replace("WHERE c.id = :id", "WHERE c.id = :id FOR UPDATE OF c") if lock else _CASE_SQL
    row = session.execute(text(sql), _params(id=case_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown case {case_id}")
    return row


def _params(**given: Any) -> dict[str, Any]:
    return {"building_deg": BUILDING_RADIUS_M * _DEGREES, "building_m": BUILDING_RADIUS_M, **given}


def similar_cases(session: Session, case_id: int, actor: Actor, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The earlier cases offered as duplicates or repeats of `case_id`, as this reader may see them: each is
    {"case": the case JSON (masked as case_dict masks it), "suggestion", "reasons", "distance_m"}."""
    row = _case_row(session, case_id)
    check_read_case(actor, _scope(row), case_id)
    reporter_rule = sees_personal_data(actor, _scope(row))
    phone = phone_key(row["reporter_contact"]) if reporter_rule else None
    new = Report(row["id"], row["category_code"], street_level(row["kind"], row["group_zh"]), row["building_code"],
                 phone, row["reported_at"])
    earlier = [
        Earlier(r["id"], r["status"], r["category_code"], r["building_code"], phone_key(r["reporter_contact"]),
                r["reported_at"], r["distance_m"])
        for r in session.execute(text(_EARLIER_SQL), _params(
            id=case_id, lookback=LOOKBACK_DAYS, window=REPORTER_WINDOW_DAYS, near_m=_NEAR_M,
            near_deg=_NEAR_M * _DEGREES, tail=phone[-7:] if phone else None)).mappings()
    ]
    found = find_similar(new, earlier, reporter_rule=reporter_rule)[:MAX_CANDIDATES]
    if not found:
        return []
    shown, _ = list_cases(session, CaseFilter(case_ids=tuple(c.case_id for c in found)), actor,
                          limit=MAX_CANDIDATES, offset=0, now=now)
    by_id = {case["id"]: case for case in shown}
    return [{"case": by_id[c.case_id], "suggestion": c.suggestion.value, "reasons": [r.value for r in c.reasons],
             "distance_m": c.distance_m} for c in found if c.case_id in by_id]


def merge_case(session: Session, case_id: int, into_id: int, message: str | None, actor: Actor, *,
               now: datetime | None = None) -> None:
    """Merge the duplicate `case_id` into the open case `into_id`: it closes as merged (outcome merged, in no
    measure), an event on it carries the message its reporter is sent, and one on `into_id` says so."""
    first, second = sorted((case_id, into_id))
    rows = {first: _case_row(session, first, lock=True)}
    if second != first:
        rows[second] = _case_row(session, second, lock=True)
    row, into = rows[case_id], rows[into_id]
    check_action(actor, _scope(row), Action.merge, case_id)
    check_read_case(actor, _scope(into), into_id)
    check_merge(case_id, into_id, into["status"])
    move = check_transition(row["status"], Action.merge, reason=message)
    at = now or datetime.now(UTC)
    session.execute(text(
        "UPDATE service_case SET status = :status, merged_at = :at, merged_into = :into, outcome = :outcome, "
        "updated_at = :at WHERE id = :id"),
        {"status": move.target.value, "at": at, "into": into_id, "outcome": Outcome.merged.value, "id": case_id})
    record_event(session, case_id, actor.username, Action.merge.value, CaseStatus(row["status"]), move.target,
                 move.reason or "", None, at, {"merged_into": into_id, "reporter_informed": True,
                                              "message": move.reason}, row["district_code"], row["street_code"])
    record_event(session, into_id, actor.username, "merged_in", None, None,
                 f"case {case_id} merged in as a duplicate", None, at, {"duplicate": case_id},
                 into["district_code"], into["street_code"])


def link_repeat(session: Session, case_id: int, earlier_id: int, note: str, actor: Actor, *,
                now: datetime | None = None) -> None:
    """Link `case_id` as a repeat of the earlier case `earlier_id`: it stays open and counts in its grid's
    repeat rate; an event on each says so."""
    row = _case_row(session, case_id, lock=True)
    earlier = _case_row(session, earlier_id)
    check_action(actor, _scope(row), Action.merge, case_id)
    check_read_case(actor, _scope(earlier), earlier_id)
    check_link(case_id, row["status"], row["repeat_of"], earlier_id, earlier["status"], row["reported_at"],
               earlier["reported_at"])
    at = now or datetime.now(UTC)
    session.execute(text("UPDATE service_case SET repeat_of = :earlier, updated_at = :at WHERE id = :id"),
                    {"earlier": earlier_id, "at": at, "id": case_id})
    status = CaseStatus(row["status"])
    record_event(session, case_id, actor.username, "link_repeat", status, status,
                 note.strip() or f"a repeat of case {earlier_id}", None, at, {"repeat_of": earlier_id},
                 row["district_code"], row["street_code"])
    record_event(session, earlier_id, actor.username, "repeated", None, None, f"case {case_id} repeats this case",
                 None, at, {"repeat": case_id}, earlier["district_code"], earlier["street_code"])
