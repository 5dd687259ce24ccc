"""Liaisons (联络员, 分片包干): a senior cadre answers for a block of grids or communities and visits it.

Plain rules, no database: what a valid assignment is, which assignments cover a grid on a day (the liaison
named on the grid's card and in its escalations), and which grids have none (a coverage gap).

An assignment is active on a day as a team membership is: from its first day to its last, both included,
open-ended without a last day (the store applies the same rule in SQL, `gis.store.vocabulary.serving_sql`;
tests/gis/test_liaisons.py holds the two equal). A community assignment covers every grid whose code starts
with the community's 12 digits (codes nest: gis/codes.py), so a grid drawn later in that community is covered
too. Several liaisons may cover one grid (a grid assignment and a community one): the grid's own comes first.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from gis.errors import InvalidInput

MAX_AREAS = 500
"""Places in one assignment at most (a district has a few hundred grids)."""


class LiaisonScope(enum.StrEnum):
    grid = "grid"  # 15-digit grid codes
    community = "community"  # 12-digit community codes


CODE_DIGITS = {LiaisonScope.grid: 15, LiaisonScope.community: 12}


@dataclass(frozen=True)
class Assignment:
    """A liaison's assignment as the rules need it (`name` only for display)."""

    id: int
    scope: LiaisonScope
    codes: frozenset[str]
    from_date: date
    to_date: date | None = None
    name: str = ""

    def active_on(self, day: date) -> bool:
        """From its first day to its last, both included (a team membership's rule)."""
        return self.from_date <= day and (self.to_date is None or day <= self.to_date)

    def covers(self, grid_code: str) -> bool:
        """Does this assignment answer for the grid (by its code, or its community's)?"""
        own = grid_code if self.scope is LiaisonScope.grid else grid_code[:12]
        return own in self.codes


def check_assignment(scope: str, codes: Sequence[str], from_date: date, to_date: date | None) -> LiaisonScope:
    """The scope of a valid assignment; InvalidInput naming the field and the rule otherwise: codes of the
    scope's length, digits only, none repeated, all in one district, at most MAX_AREAS; the last day not
    before the first."""
    try:
        kind = LiaisonScope(scope)
    except ValueError:
        raise InvalidInput(f"scope {scope!r} unknown; allowed: {', '.join(s.value for s in LiaisonScope)}",
                           details={"field": "scope"}) from None
    if not codes:
        raise InvalidInput("codes must name at least one grid or community", details={"field": "codes"})
    if len(codes) > MAX_AREAS:
        raise InvalidInput(f"{len(codes)} codes given; at most {MAX_AREAS} per assignment", details={"field": "codes"})
    digits = CODE_DIGITS[kind]
    pattern = re.compile(rf"^[0-9]{{{digits}}}$")
    for code in codes:
        if not pattern.match(code):
            raise InvalidInput(f"code {code!r} is not a {kind.value} code ({digits} digits)",
                               details={"field": "codes"})
    repeated = sorted({c for c in codes if list(codes).count(c) > 1})
    if repeated:
        raise InvalidInput(f"code {repeated[0]} is given twice", details={"field": "codes"})
    districts = sorted({c[:6] for c in codes})
    if len(districts) > 1:
        raise InvalidInput(f"codes lie in several districts ({', '.join(districts)}); one assignment is one district's",
                           details={"field": "codes"})
    if to_date is not None and to_date < from_date:
        raise InvalidInput(f"to_date {to_date.isoformat()} is before from_date {from_date.isoformat()}",
                           details={"field": "to_date"})
    return kind


def liaisons_of(assignments: Iterable[Assignment], grid_code: str, day: date) -> list[Assignment]:
    """The assignments covering the grid on the day: the grid's own first, then its community's; within each,
    the latest begun first (then by id)."""
    found = [a for a in assignments if a.active_on(day) and a.covers(grid_code)]
    return sorted(found, key=lambda a: (a.scope is not LiaisonScope.grid, -a.from_date.toordinal(), a.id))


def uncovered(grid_codes: Iterable[str], assignments: Iterable[Assignment], day: date) -> list[str]:
    """The grids no assignment covers on the day (a coverage gap), in code order."""
    active = [a for a in assignments if a.active_on(day)]
    return sorted(code for code in set(grid_codes) if not any(a.covers(code) for a in active))
