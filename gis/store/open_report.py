"""The twice-yearly report to residents' representatives (双公开) of a grid or community for a half-year,
from gridmap's own records: the ledger's case figures (gis/store/ledger.py `ledger_cases` and
gis/ledger/summary.py `summarise`: the same definitions as the 台账, never recounted here), commitments and
their status, evaluation scores and party strength. No private person's name appears: branches and teams
by their names, members never."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gis.ledger import LedgerScope, parse_scope, summarise
from gis.party import CommitmentStatus, half_year
from gis.periods import district_today
from gis.permissions import Actor, check_read_party
from gis.store import commitments as commitment_store
from gis.store import evaluations as evaluation_store
from gis.store.ledger import ledger_cases, scope_places
from gis.store.party import list_branches


def report_scope(grid: str | None, community: str | None) -> LedgerScope:
    """A grid or a community (exactly one), as the ledger parses it."""
    return parse_scope(grid=grid, community=community, street=None)


def open_report(session: Session, actor: Actor, scope: LedgerScope, half: str, *,
                now: datetime | None = None) -> dict[str, Any]:
    check_read_party(actor, scope.code)
    period = half_year(half)
    places = scope_places(session, scope)
    summary = summarise(ledger_cases(session, scope, period, actor, now=now))
    day = min(period.last_day, district_today(now))
    branches = list_branches(session, actor, day, scope.code)
    commitments = commitment_store.commitments_in(session, scope.code, period.first_day, period.last_day)
    evaluations = evaluation_store.list_evaluations(session, actor, scope.code, period.first_day.year)
    return {
        "scope": {"level": scope.level.value, "code": scope.code, "path": places.path(),
                  "community": places.community, "grid": places.grid},
        "half": half.upper(), "period": {"first_day": period.first_day.isoformat(),
                                         "last_day": period.last_day.isoformat()},
        "strength_day": day.isoformat(),
        "cases": _case_figures(summary),
        "commitments": {"items": commitments, "by_status": _by_status(commitments)},
        "evaluations": evaluations,
        "party": _party(branches),
    }


def _case_figures(summary: Any) -> dict[str, Any]:
    """The ledger's own counts and rates (`gis.ledger.summary`); `explained` only where the ledger has it."""
    solved = getattr(summary, "solved", summary.closed)
    return {"received": summary.total, "filed": summary.filed, "closed": summary.closed, "solved": solved,
            "explained": getattr(summary, "explained", None), "in_progress": summary.in_progress,
            "declined": summary.declined, "rated": summary.rated, "satisfied": summary.satisfied,
            "closure_rate": summary.rate("filed_closure_rate"), "satisfaction": summary.rate("satisfaction")}


def _by_status(items: list[dict[str, Any]]) -> dict[str, int]:
    counted = Counter(item["status"] for item in items)
    return {status.value: counted[status.value] for status in CommitmentStatus}


def _party(branches: list[dict[str, Any]]) -> dict[str, Any]:
    shown = [{"name": b["name"], "level": b["level"], "place_code": b["place_code"], "members": b["members"],
              "needs_seconded_branch": b["needs_seconded_branch"], "grade": b["grade"],
              "pairings": [p["partner"] for p in b["pairings"]]} for b in branches]
    return {"branches": shown, "members": sum(b["members"] for b in branches),
            "needing_seconded_branch": sum(b["needs_seconded_branch"] for b in branches),
            "weak": sum(b["grade"] == "weak" for b in branches)}

