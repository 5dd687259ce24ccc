"""The area a person may see (`gis.permissions.area_of`) as SQL: the one clause every list, search,
export, ledger, tile and Open311 read adds to its WHERE.

The clause is built from column expressions the caller names, so it works on any table that carries a
grid code (and, where it has them, its own community and street codes, which the case table indexes).
"""

from __future__ import annotations

from typing import Any

from gis.permissions import Actor, Area, AreaLevel, area_of


def area_sql(area: Area, *, grid: str, community: str | None = None, street: str | None = None,
             param: str = "area_codes") -> tuple[str, dict[str, Any]]:
    """(SQL condition, parameters) true for rows inside `area`. `grid` is the row's grid-code expression;
    `community` and `street` its own codes if it has them (else they are cut from the grid code)."""
    if area.level is AreaLevel.everywhere:
        return "TRUE", {}
    if area.level is AreaLevel.nowhere:
        return "FALSE", {}
    column = {
        AreaLevel.street: street or f"left({grid}, 9)",
        AreaLevel.community: community or f"left({grid}, 12)",
        AreaLevel.grid: grid,
    }[area.level]
    return f"{column} = ANY(:{param})", {param: sorted(area.codes)}


def case_visibility_sql(actor: Actor, alias: str = "c") -> tuple[str, dict[str, Any]]:
    """Cases the actor may read: inside their area, or reported by them (`gis.permissions.can_read_case`)."""
    condition, params = area_sql(area_of(actor), grid=f"{alias}.grid_code", community=f"{alias}.community_code",
                                 street=f"{alias}.street_code")
    if condition == "TRUE":
        return condition, params
    return f"({condition} OR {alias}.created_by = :visibility_user)", {**params, "visibility_user": actor.username}
