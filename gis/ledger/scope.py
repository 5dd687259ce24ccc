"""The ledger's request: which place (scope) and who may read it, the period, and what the file says
about itself (title, file name)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from gis.codes import parse_community_code, parse_grid_code, parse_street_code
from gis.errors import InvalidInput
from gis.periods import Period, period_between
from gis.permissions import AREA_ROLES, READ_ALL, Actor, Forbidden, area_of

if TYPE_CHECKING:
    pass


MAX_PERIOD_DAYS = 366
TIME_FORMAT = "%Y-%m-%d %H:%M"
EXCEL_TIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")



def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


# -- scope and who may read it --------------------------------------------------------------------


class ScopeLevel(StrEnum):
    """The place a ledger covers; its code is matched against the case's column of the same name."""

    grid = "grid"
    community = "community"
    street = "street"


_CODE_PARSERS: Mapping[ScopeLevel, Callable[[object], object]] = {
    ScopeLevel.grid: parse_grid_code,
    ScopeLevel.community: parse_community_code,
    ScopeLevel.street: parse_street_code,
}


@dataclass(frozen=True)
class LedgerScope:
    level: ScopeLevel
    code: str

    @property
    def column(self) -> str:
        """The service_case column the scope filters on (grid_code, community_code, street_code)."""
        return f"{self.level.value}_code"


def parse_scope(*, grid: str | None, community: str | None, street: str | None) -> LedgerScope:
    """Exactly one of grid, community or street, with a well-formed code (the error names the rule)."""
    given = {level: code for level, code in zip(ScopeLevel, (grid, community, street), strict=True) if code}
    if len(given) != 1:
        got = ", ".join(given) if given else "none"
        raise InvalidInput(f"give exactly one scope: grid, community or street (got {got})",
                           details={"given": [str(level) for level in given]})
    level, code = next(iter(given.items()))
    _CODE_PARSERS[level](code)
    return LedgerScope(level, code)


EXPORTERS = READ_ALL | AREA_ROLES


def can_read_scope(actor: Actor, scope: LedgerScope) -> bool:
    """A place inside the actor's area (`gis.permissions.area_of`): anything for admin, command centre and
    planner; a manager's street or community and the places in it (codes nest by prefix, checked at
    import); a grid worker's own grids."""
    return actor.role in EXPORTERS and area_of(actor).covers_code(scope.code)


def check_may_export(actor: Actor) -> None:
    """Roles that never export ledgers (Open311 clients) are refused before anything else is checked."""
    if actor.role not in EXPORTERS:
        raise Forbidden(f"{actor.role} {actor.username!r} may not export ledgers")


def check_read_scope(actor: Actor, scope: LedgerScope) -> None:
    check_may_export(actor)
    if not can_read_scope(actor, scope):
        raise Forbidden(f"{actor.role} {actor.username!r} may not read the ledger of "
                        f"{scope.level} {scope.code}")


# -- period ---------------------------------------------------------------------------------------


def ledger_period(start: date, end: date) -> Period:
    """`to` after `from`, and at most MAX_PERIOD_DAYS days apart (the one `Period` of gis.periods)."""
    return period_between(start, end, max_days=MAX_PERIOD_DAYS)


# -- what the file says about itself --------------------------------------------------------------


@dataclass(frozen=True)
class PlaceNames:
    """The names above and including the scope, for the title (None below the scope's level)."""

    district: str | None
    street: str | None
    community: str | None = None
    grid: str | None = None

    def path(self) -> str:
        return " ".join(name for name in (self.district, self.street, self.community, self.grid) if name)


@dataclass(frozen=True)
class LedgerMeta:
    scope: LedgerScope
    places: PlaceNames
    period: Period
    exported_at: datetime
    lang: str = "zh-CN"

    def title(self) -> str:
        what = _t(self.lang, "诉求台账", "case ledger")
        return f"{self.places.path()} {what} {self.period.describe(self.lang)}"

    def filename(self, extension: str) -> str:
        """台账_500103001001_2026-01.xlsx (ledger_… in English)."""
        return f"{_t(self.lang, '台账', 'ledger')}_{self.scope.code}_{self.period.slug()}.{extension}"

    def ascii_filename(self, extension: str) -> str:
        """The fallback for clients that ignore RFC 5987 `filename*`."""
        return f"ledger_{self.scope.code}_{self.period.slug()}.{extension}"
