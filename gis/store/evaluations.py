"""Yearly evaluation scores (述职测评) per grid or branch, entered one by one or imported from a file (all or
nothing), kept beside the case satisfaction the 双公开 report shows (rules in gis/party.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.party import EvaluationRow, SubjectKind, parse_evaluations
from gis.permissions import Actor, area_of, check_edit_party, check_party_reader
from gis.store.models import Evaluation
from gis.store.vocabulary import current_sql

_SUBJECT_SQL = {
    SubjectKind.grid: f"SELECT g.code AS place_code, NULL::int AS branch_id, g.district_code FROM grid AS g "
                      f"WHERE g.code = :code ORDER BY {current_sql('g')} DESC, g.valid_from DESC LIMIT 1",
    SubjectKind.branch: f"SELECT o.place_code, o.id AS branch_id, o.district_code FROM party_org AS o "
                        f"WHERE o.place_code = :code AND o.level IN ('grid_branch', 'community_org') "
                        f"ORDER BY {current_sql('o')} DESC, o.valid_from DESC LIMIT 1",
}


def _subject(session: Session, row: EvaluationRow, today: date) -> dict[str, Any] | None:
    found = session.execute(text(_SUBJECT_SQL[row.subject]), {"code": row.code, "on": today}).mappings().first()
    return dict(found) if found else None


def save(session: Session, rows: Sequence[EvaluationRow], actor: Actor, today: date, source: str) -> list[dict]:
    """Store evaluations (a later score for the same subject and year replaces the earlier). Every row is
    checked first; one unknown subject or one outside the actor's area and nothing is written."""
    subjects, bad = [], []
    for number, row in enumerate(rows, start=2):
        subject = _subject(session, row, today)
        if subject is None:
            bad.append(f"row {number}: code {row.code!r} is not a known {row.subject}"
                       + (" (no grid branch or community organisation there)" if row.subject == "branch" else ""))
        subjects.append(subject)
    if bad:
        raise InvalidInput(f"{len(bad)} problem(s), nothing imported: " + "; ".join(bad[:20]),
                           details={"problems": bad})
    for subject in subjects:
        assert subject is not None
        check_edit_party(actor, subject["place_code"])
    table = Evaluation.__table__
    for row, subject in zip(rows, subjects, strict=True):
        assert subject is not None
        values = {"year": row.year, "subject_kind": row.subject.value, "place_code": subject["place_code"],
                  "branch_id": subject["branch_id"], "score": row.score, "respondents": row.respondents,
                  "note": row.note, "source": source, "created_by": actor.username,
                  "district_code": subject["district_code"]}
        statement = pg_insert(table).values(**values)
        session.execute(statement.on_conflict_do_update(
            index_elements=["year", "subject_kind", "place_code", "district_code"],
            set_={k: statement.excluded[k] for k in ("branch_id", "score", "respondents", "note", "source",
                                                      "created_by")}))
    return [_json(r) for r in rows]


def import_file(session: Session, table_rows: list[dict[str, str]], actor: Actor, today: date) -> dict[str, Any]:
    rows = parse_evaluations(table_rows)
    return {"imported": len(save(session, rows, actor, today, "imported"))}


def _json(row: EvaluationRow) -> dict[str, Any]:
    return {"year": row.year, "subject": row.subject.value, "code": row.code, "score": float(row.score),
            "respondents": row.respondents, "note": row.note}


def list_evaluations(session: Session, actor: Actor, place: str | None = None,
                     year: int | None = None) -> list[dict[str, Any]]:
    """Evaluations in the actor's area (under `place`, in `year`, if given), by year and place."""
    check_party_reader(actor)
    where, params = ["TRUE"], {}
    if place:
        where.append("left(e.place_code, :n) = :place")
        params.update(n=len(place), place=place)
    if year is not None:
        where.append("e.year = :year")
        params["year"] = year
    rows = session.execute(text(
        "SELECT e.year, e.subject_kind, e.place_code, e.branch_id, e.score, e.respondents, e.note, e.source, "
        "o.name AS branch_name FROM evaluation AS e LEFT JOIN party_org AS o ON o.id = e.branch_id "
        f"AND o.district_code = e.district_code WHERE {' AND '.join(where)} "
        "ORDER BY e.year, e.place_code, e.subject_kind"), params).mappings()
    area = area_of(actor)
    return [{"year": r["year"], "subject": r["subject_kind"], "code": r["place_code"], "branch_id": r["branch_id"],
             "branch_name": r["branch_name"], "score": float(r["score"]), "respondents": r["respondents"],
             "note": r["note"], "source": r["source"]}
            for r in rows if area.covers_code(r["place_code"])]
