"""The public grid card (网格公示): what a grid's notice board shows anyone, assembled from the stores that
own each part, and the report form's place (where a resident's report is put when they give no position).

What it carries: the boundary, the grid's leader and grid workers with their work phone (the notice board's
roles, `gis.permissions.NOTICE_BOARD_ROLES`), the branch and its secretary, the public commitments
(`gis.store.commitments.commitments_for_grid`: holders by branch or team name, never a person), the next work
day (`gis.store.workdays.next_session`) and the closure rate and satisfaction of the last 90 days from the
one definition of the measures (`gis.store.measures.measures_now` for the one grid). What it never carries: the private
residents who serve (party-member central households, volunteers, caring residents: not even their count),
reporters, cases' texts or addresses. Each part is copied field by field, so a field added to a store's
answer later does not reach the public by accident.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.metrics import RATES
from gis.periods import parse_period
from gis.permissions import NOTICE_BOARD_ROLES
from gis.store.commitments import commitments_for_grid
from gis.store.measures import measures_now
from gis.store.places import grid_detail
from gis.store.vocabulary import current_day, current_sql
from gis.store.workdays import next_session

FIGURES_PERIOD = "90d"
"""The headline figures' window (a `gis.periods` rolling period)."""
FIGURES = ("closure_rate", "satisfaction")
FIGURE_COUNTS = tuple(dict.fromkeys(count for key in FIGURES for count in RATES[key]))
"""The counts behind them (`gis.metrics.RATES`: numerator and denominator of each)."""


def public_card(session: Session, grid_code: str, day: date | None = None) -> dict[str, Any]:
    """The card of the grid current on `day` (default today); NotFound for a grid not current then."""
    on = day or current_day()
    detail = grid_detail(session, grid_code, on=on, private_members=False)
    p = detail["properties"]
    team = p["team"] or {"name": None, "members": []}
    public = [m for m in team["members"] if m["role"] in NOTICE_BOARD_ROLES]
    leader = next(({"name": m["name"], "phone": m["phone"]} for m in public if m["role"] == "leader"), None)
    branch = p["branch"]
    return {
        "code": p["code"], "name": p["name"], "community_name": p["community_name"], "street_name": p["street_name"],
        "area_m2": p["area_m2"], "households": p["counts"]["households"], "buildings": p["counts"]["buildings"],
        "geometry": detail["geometry"],
        "branch": {"name": branch["name"], "secretary": branch["secretary"]} if branch else None,
        "team_name": team["name"],
        "leader": leader,
        "workers": [{"name": m["name"], "phone": m["phone"]} for m in public if m["role"] == "grid_worker"],
        "commitments": [{k: c[k] for k in ("title", "due", "status", "holder_kind", "holder_label")}
                        for c in commitments_for_grid(session, grid_code, on)],
        "next_session": _session(next_session(session, grid_code, on)),
        "figures": _figures(session, grid_code),
        "on": on.isoformat(),
    }


def _session(found: dict[str, Any] | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {k: found[k] for k in ("date", "start_time", "end_time", "place", "title")}


def _figures(session: Session, grid_code: str) -> dict[str, Any]:
    """Closure rate and satisfaction of the grid over the last 90 days, with the counts behind them."""
    period = parse_period(FIGURES_PERIOD)
    # the one grid's row by the measures' own statement restricted to it (as the incremental refresh does):
    # a public page must not compute a city's 50,000 rows per view
    rows = measures_now(session, period, "grid", datetime.now(UTC), units=[grid_code])
    row = next((r for r in rows if r["code"] == grid_code), None)
    values = {key: (row or {}).get(key) for key in (*FIGURES, *FIGURE_COUNTS)}
    return {**values, "from": period.first_day.isoformat(), "to": period.last_day.isoformat()}


def report_place(session: Session, grid_code: str) -> dict[str, Any]:
    """The grid a report form is set to: its code, name and a point inside it (PostGIS `ST_PointOnSurface`:
    unlike the centroid it lies inside a concave or ring-shaped grid), where a report that gives no position
    is put, so the ordinary routing rule sends it to this grid. NotFound for a grid not current today."""
    row = session.execute(text(
        "SELECT code, name, ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT g.code, g.name, ST_PointOnSurface(g.geom) "
        f"AS p FROM grid AS g WHERE g.code = :code AND {current_sql('g')} ORDER BY g.valid_from DESC LIMIT 1) AS s"
    ), {"code": grid_code, "on": current_day()}).mappings().first()
    if row is None:
        raise NotFound(f"unknown grid {grid_code!r}")
    return dict(row)
