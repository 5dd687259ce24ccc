"""Commitments (承诺、践诺) of branches, teams and members in the database (rules in gis/party.py).

`commitments_for_grid` is the public read the grid card (网格公示) shows: public commitments only, the
holder labelled by the branch's or team's name (a member by their branch's), never a person's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.errors import InvalidInput, NotFound
from gis.party import CommitmentStatus, HolderKind, check_status_change, holder_label
from gis.periods import check_day
from gis.permissions import Actor, area_of, check_edit_party, check_party_reader, check_read_party
from gis.store.models import Commitment
from gis.store.party import branch_row
from gis.workflow import parse_enum

CARD_WINDOW_DAYS = 365
"""The grid card shows commitments made by the day and due no more than this many days before it."""


@dataclass(frozen=True)
class CommitmentInput:
    holder_kind: str
    title: str
    due_on: date
    branch_id: int | None = None
    team_id: int | None = None
    membership_id: int | None = None
    made_on: date | None = None
    evidence: str = ""
    public: bool = True


def _holder(session: Session, data: CommitmentInput, kind: HolderKind, day: date) -> dict[str, Any]:
    """(branch id, team id, membership id, place code, district) of the holder; errors name the field."""
    given = {"branch_id": data.branch_id, "team_id": data.team_id, "membership_id": data.membership_id}
    wanted = {HolderKind.branch: "branch_id", HolderKind.team: "team_id", HolderKind.member: "membership_id"}[kind]
    extra = [k for k, v in given.items() if v is not None and k != wanted]
    if given[wanted] is None or extra:
        raise InvalidInput(f"a {kind} commitment names {wanted} (and no {', '.join(extra) or 'other holder'})",
                           details={"field": wanted})
    if kind is HolderKind.branch:
        branch = branch_row(session, data.branch_id or 0, day)
        return {"branch_id": branch["id"], "team_id": None, "membership_id": None,
                "place_code": branch["area_code"] or branch["place_code"], "district_code": branch["district_code"]}
    if kind is HolderKind.team:
        team = session.execute(text("SELECT id, grid_code, district_code FROM service_team WHERE id = :id"),
                               {"id": data.team_id}).mappings().first()
        if team is None:
            raise NotFound(f"team_id {data.team_id} is not a known team", details={"field": "team_id"})
        return {"branch_id": None, "team_id": team["id"], "membership_id": None, "place_code": team["grid_code"],
                "district_code": team["district_code"]}
    member = session.execute(text("SELECT id, branch_id FROM party_membership WHERE id = :id"),
                             {"id": data.membership_id}).mappings().first()
    if member is None:
        raise NotFound(f"membership_id {data.membership_id} is not a known membership",
                       details={"field": "membership_id"})
    branch = branch_row(session, member["branch_id"], day)
    return {"branch_id": branch["id"], "team_id": None, "membership_id": member["id"],
            "place_code": branch["area_code"] or branch["place_code"], "district_code": branch["district_code"]}


def create(session: Session, data: CommitmentInput, actor: Actor, today: date) -> dict[str, Any]:
    kind = parse_enum(HolderKind, data.holder_kind, "holder_kind")
    holder = _holder(session, data, kind, today)
    check_edit_party(actor, holder["place_code"])
    if not data.title.strip():
        raise InvalidInput("title must not be empty", details={"field": "title"})
    made_on = check_day("made_on", data.made_on or today)
    check_day("due_on", data.due_on)
    if data.due_on < made_on:
        raise InvalidInput(f"due_on {data.due_on} is before made_on {made_on}", details={"field": "due_on"})
    commitment_id = session.execute(pg_insert(Commitment.__table__).values(
        holder_kind=kind.value, title=data.title.strip(), made_on=made_on, due_on=data.due_on,
        status=CommitmentStatus.promised.value, evidence=data.evidence, public=data.public,
        created_by=actor.username, **holder).returning(Commitment.__table__.c.id)).scalar_one()
    return get(session, commitment_id, actor)


_SQL = """
SELECT c.id, c.holder_kind, c.branch_id, c.team_id, c.membership_id, c.place_code, c.title, c.made_on, c.due_on,
       c.status, c.evidence, c.public, c.created_by, c.updated_at, c.district_code,
       o.name AS branch_name, t.name AS team_name
FROM commitment AS c
LEFT JOIN party_org AS o ON o.id = c.branch_id AND o.district_code = c.district_code
LEFT JOIN service_team AS t ON t.id = c.team_id AND t.district_code = c.district_code
WHERE {where}
ORDER BY c.due_on, c.id
"""


def _json(row: Any) -> dict[str, Any]:
    kind = HolderKind(row["holder_kind"])
    holder_name = row["team_name"] if kind is HolderKind.team else row["branch_name"]
    return {"id": row["id"], "holder_kind": kind.value, "holder_label": holder_label(kind, holder_name,
                                                                                     row["branch_name"]),
            "branch_id": row["branch_id"], "team_id": row["team_id"], "membership_id": row["membership_id"],
            "place_code": row["place_code"], "title": row["title"], "made_on": row["made_on"].isoformat(),
            "due": row["due_on"].isoformat(), "status": row["status"], "evidence": row["evidence"],
            "public": row["public"], "updated_at": row["updated_at"].isoformat()}


def _row(session: Session, commitment_id: int) -> Any:
    row = session.execute(text(_SQL.format(where="c.id = :id")), {"id": commitment_id}).mappings().first()
    if row is None:
        raise NotFound(f"no commitment {commitment_id}")
    return row


def get(session: Session, commitment_id: int, actor: Actor) -> dict[str, Any]:
    row = _row(session, commitment_id)
    check_read_party(actor, row["place_code"])
    return _json(row)


def update(session: Session, commitment_id: int, actor: Actor, *, status: str | None = None,
           evidence: str | None = None, title: str | None = None, due_on: date | None = None,
           public: bool | None = None) -> dict[str, Any]:
    """Change a commitment's status (by `gis.party.TRANSITIONS`), evidence, title, due date or publicity."""
    row = _row(session, commitment_id)
    check_edit_party(actor, row["place_code"])
    changes: dict[str, Any] = {}
    if status is not None:
        wanted = parse_enum(CommitmentStatus, status, "status")
        check_status_change(CommitmentStatus(row["status"]), wanted)
        changes["status"] = wanted.value
    if title is not None:
        if not title.strip():
            raise InvalidInput("title must not be empty", details={"field": "title"})
        changes["title"] = title.strip()
    if due_on is not None:
        check_day("due_on", due_on)
        if due_on < row["made_on"]:
            raise InvalidInput(f"due_on {due_on} is before made_on {row['made_on']}", details={"field": "due_on"})
        changes["due_on"] = due_on
    if evidence is not None:
        changes["evidence"] = evidence
    if public is not None:
        changes["public"] = public
    if changes:
        sets = ", ".join(f"{k} = :{k}" for k in changes)
        session.execute(text(f"UPDATE commitment SET {sets}, updated_at = :now WHERE id = :id AND district_code = :d"),
                        {**changes, "now": datetime.now(UTC), "id": commitment_id, "d": row["district_code"]})
    return get(session, commitment_id, actor)


def delete(session: Session, commitment_id: int, actor: Actor) -> None:
    row = _row(session, commitment_id)
    check_edit_party(actor, row["place_code"])
    session.execute(text("DELETE FROM commitment WHERE id = :id AND district_code = :d"),
                    {"id": commitment_id, "d": row["district_code"]})


def list_commitments(session: Session, actor: Actor, place: str | None = None,
                     status: str | None = None) -> list[dict[str, Any]]:
    """Commitments in the actor's area (under `place` if given), by due date."""
    check_party_reader(actor)
    where, params = "TRUE", {}
    if place:
        where, params = "left(c.place_code, :n) = :place", {"n": len(place), "place": place}
    if status:
        where += " AND c.status = :status"
        params["status"] = parse_enum(CommitmentStatus, status, "status").value
    area = area_of(actor)
    rows = session.execute(text(_SQL.format(where=where)), params).mappings()
    return [_json(r) for r in rows if area.covers_code(r["place_code"])]


def commitments_in(session: Session, place: str, first: date, last: date) -> list[dict[str, Any]]:
    """The commitments of a place (a grid, or a community and its grids) made by `last` and due on or after
    `first` (the 双公开 report's half-year), public and internal alike, without personal names."""
    sql = _SQL.format(where="left(c.place_code, :n) = :place AND c.made_on <= :last AND c.due_on >= :first")
    rows = session.execute(text(sql), {"n": len(place), "place": place, "first": first, "last": last}).mappings()
    return [_json(r) for r in rows]


def commitments_for_grid(session: Session, grid_code: str, day: date) -> list[dict]:
    """The grid's public commitments for its card: made by `day` and due within `CARD_WINDOW_DAYS` before it
    or any time after. Each: title, due (ISO date), status, holder_kind and holder_label (the branch's or
    team's name; a member's branch's — never a person's name). Includes commitments of the grid's branch,
    team and members; ordered by due date."""
    sql = _SQL.format(where="c.place_code = :grid AND c.public AND c.made_on <= :day AND c.due_on >= :since")
    rows = session.execute(text(sql), {"grid": grid_code, "day": day,
                                       "since": day - timedelta(days=CARD_WINDOW_DAYS)}).mappings()
    return [{key: item[key] for key in ("title", "due", "status", "holder_kind", "holder_label")}
            for item in map(_json, rows)]
