"""The map layers of the wall and the command centre: grids coloured by a measure, their legend, the
district summary, the overdue cases and the coverage gaps.

How a grid layer is made (`grid_layer`), a short pipeline:

1. `gis.store.data_version.data_version` — the version of the data, which every cache is keyed by.
2. `gis.store.layer_frames.frames` — per current grid, the geometry and the properties that do not
   depend on the measure, as ready-made JSON text, cached by the places and org versions.
3. `grid_values` — the measure rows of every current grid for the period at this moment, then the classes
   (fixed thresholds or quantile breaks of these same values) and the legend (`gis.metrics.legend`);
   every feature's colour is looked up in that legend by its class. Today's rows are not recomputed
   after a change but refreshed for the grids it touched (`gis.store.incremental.fresh_rows`; a past day
   is computed by `grid_measures`), and only those grids are classed again while the breaks stay. The
   rows are kept per period with the data version they were computed at (`LruStore.versioned`): while
   the version keeps changing they are refreshed at most every `VALUES_MIN_INTERVAL_SECONDS`, the newest
   rows served meanwhile under their own version, so the wall asks again and shows a change within a
   few seconds; wall screens and tiles share one computation, and switching measure or classification
   only re-classes. Open and overdue counts are judged "now": rows older than `VALUES_MAX_AGE_SECONDS`
   at an unchanged version are refreshed by a background thread (deadlines passed since are among the
   touched grids).
4. The FeatureCollection is joined as text: cached frame + a few measure properties per grid, kept in
   pieces (gis/store/layer_pieces.py) so that a change rebuilds, and deflates again, only the pieces of
   the grids it touched; the gzip is the pieces' deflated bytes joined.

The overdue layer is kept per cases version (its gzip made once); the caches live in a `LayerCache` the
API keeps per application (one per database).
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.i18n import is_english
from gis.metrics import MEASURES, NO_DATA_COLOUR, MeasureSpec, classify, legend, quantile_breaks, worst
from gis.periods import Period, check_day, district_today
from gis.store.coverage import coverage_layer
from gis.store.data_version import DataVersion, compact_changes, data_version
from gis.store.layer_cache import (
    GZIP_LEVEL,
    VALUES_MAX_AGE_SECONDS,
    VALUES_MIN_INTERVAL_SECONDS,
    LayerBody,
    LayerCache,
    LruStore,
    pack,
)
from gis.store.layer_frames import PRECISION, Frame, frames
from gis.store.layer_pieces import build_pieces, measure_props
from gis.store.measure_rows import measure_rows
from gis.store.measures import district_summary
from gis.store.vocabulary import no_jit, overdue_open_sql

__all__ = [
    "CLASSIFY_MODES", "GZIP_LEVEL", "VALUES_MAX_AGE_SECONDS", "VALUES_MIN_INTERVAL_SECONDS", "DataVersion",
    "LayerBody", "LayerCache", "LayerQuery", "LayerValues", "LruStore", "compact_changes", "coverage",
    "data_version", "grid_layer", "grid_values", "layer_query", "measure_json", "measure_list", "overdue",
    "overdue_layer", "summary",
]

CLASSIFY_MODES = ("fixed", "quantile")
CLASSES_RANGE = (2, 7)
WORST_LIMIT = 10



# -- what is asked for --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerQuery:
    """A checked request: which measure, over which days, classed how."""

    measure: str
    period: Period
    classify: str = "fixed"
    classes: int = 5
    as_of: date | None = None  # the grids valid on this day (None: today's); a past day also rebuilds states

    @property
    def spec(self) -> MeasureSpec:
        return MEASURES[self.measure]

    @property
    def key(self) -> tuple[Hashable, ...]:
        return (self.measure, self.period.first_day, self.period.last_day, self.classify, self.classes, self.as_of)

    def day(self, generated_at: datetime) -> date:
        """The day whose grids the layer draws."""
        return self.as_of or district_today(generated_at)


def layer_query(
    measure: str, period: Period, classify_mode: str = "fixed", classes: int = 5, as_of: date | None = None,
) -> LayerQuery:
    """Check the parameters; errors name the bad value and what is allowed. A categorical measure (grade)
    is always classed by its categories, so its mode becomes "fixed"."""
    if as_of is not None:
        check_day("as_of", as_of)
    if measure not in MEASURES:
        raise InvalidInput(f"unknown measure {measure!r}; allowed: {', '.join(MEASURES)}",
                           details={"measure": measure, "allowed": list(MEASURES)})
    if classify_mode not in CLASSIFY_MODES:
        raise InvalidInput(f"unknown classify {classify_mode!r}; allowed: {', '.join(CLASSIFY_MODES)}",
                           details={"classify": classify_mode, "allowed": list(CLASSIFY_MODES)})
    low, high = CLASSES_RANGE
    if not low <= classes <= high:
        raise InvalidInput(f"classes {classes} is out of range; allowed: {low} to {high}",
                           details={"classes": classes, "allowed": [low, high]})
    if MEASURES[measure].categories:
        classify_mode = "fixed"
    if as_of is None and period.last_day < district_today():
        as_of = period.last_day  # a past period is measured on the grids valid at its end, as things stood then
    return LayerQuery(measure, period, classify_mode, classes, as_of)


def measure_list(language: str = "zh-CN") -> list[dict[str, Any]]:
    """Every measure the map can be coloured by: key, label, unit, higher_is_worse, wall, short_label."""
    return [measure_json(spec, language) for spec in MEASURES.values()]


def measure_json(spec: MeasureSpec, language: str) -> dict[str, Any]:
    """A measure as the API names it; `wall` and `short_label` place it among the wall's buttons."""
    english = is_english(language)
    return {"key": spec.key, "label": spec.label_en if english else spec.label_zh,
            "unit": spec.unit, "higher_is_worse": spec.higher_is_worse, "wall": spec.wall,
            "short_label": (spec.short_en if english else spec.short_zh) or None}


# -- measure values, classes, legend ------------------------------------------------------------------


@dataclass
class LayerValues:
    """The measure per current grid (rows of `grid_measures` by code), its breaks and class per grid."""

    query: LayerQuery
    version: DataVersion
    generated_at: datetime
    rows: dict[str, dict[str, Any]]
    breaks: tuple[float, ...] | None
    classes: dict[str, int | None] = field(default_factory=dict)
    serial: int = 0  # of the rows' computation (`layer_pieces.Changes`)

    def legend(self, language: str = "zh-CN") -> list[dict[str, Any]]:
        return legend(self.query.spec, self.breaks, language)

    def colours(self) -> dict[int | None, str]:
        """Colour by class, read from the legend itself so features and legend cannot disagree."""
        return {row["class"]: row["colour"] for row in self.legend()}

    def value(self, code: str) -> Any:
        row = self.rows.get(code)
        return None if row is None else row[self.query.measure]


def grid_values(session: Session, cache: LayerCache, query: LayerQuery, version: DataVersion, *,
                households_per_worker_target: int = 500) -> LayerValues:
    """Measures of every current grid for `query`, classed (module doc). `version` is the data's now; the
    values carry the version they were computed at, which may be older by up to
    `LayerCache.values_min_interval` seconds."""
    rows = measure_rows(session, cache, query.period, version, households_per_worker_target, query.as_of)
    values = rows.classed.get(query.key)
    if values is None:
        spec = query.spec
        breaks = None
        if query.classify == "quantile":
            breaks = quantile_breaks([row[query.measure] for row in rows.rows.values()], query.classes)
        before = cache.classed.get((query.key, households_per_worker_target))
        changed = None if before is None else rows.changes.between(before.serial, rows.serial)
        if before is not None and changed is not None and before.breaks == breaks:
            classes = dict(before.classes)  # the same breaks: only the refreshed grids may change class
            for code in changed:
                if code in rows.rows:
                    classes[code] = classify(rows.rows[code][query.measure], spec, breaks)
        else:
            classes = {code: classify(row[query.measure], spec, breaks) for code, row in rows.rows.items()}
        values = LayerValues(query, rows.version, rows.generated_at, rows.rows, breaks, classes, rows.serial)
        rows.classed[query.key] = values
        if query.as_of is None:
            cache.classed.keep((query.key, households_per_worker_target), values)
    return values


# -- the grid layer -----------------------------------------------------------------------------------


def grid_layer(session: Session, cache: LayerCache, query: LayerQuery, *, language: str = "zh-CN",
               geometry: bool = True, households_per_worker_target: int = 500) -> LayerBody:
    """The FeatureCollection of every current grid coloured by `query` (module doc); the body is kept
    while its values are, so wall screens asking together share one."""
    no_jit(session)
    version = data_version(session)
    values = grid_values(session, cache, query, version,
                         households_per_worker_target=households_per_worker_target)
    on = query.day(values.generated_at)
    key = ("body", values.version.token, version.places, version.org, *query.key, values.generated_at, language,
           geometry)

    def make() -> LayerBody:
        grid_frames = frames(session, cache, version, on, geometry)
        colours = values.colours()
        measure = query.measure

        def props(frame: Frame) -> str:
            cls = values.classes.get(frame.code)
            return measure_props(values.rows.get(frame.code), measure, cls, colours.get(cls, NO_DATA_COLOUR))

        # The pieces of the newest body of this layer, rebuilt for the grids refreshed since (layer_pieces.py).
        piece_key = (*query.key, language, geometry, households_per_worker_target)
        before = cache.pieces.get(piece_key)
        changes = cache.changes.get(("rows", query.period.first_day, query.period.last_day,
                                     households_per_worker_target, query.as_of))
        changed = None if before is None or changes is None else changes.between(before.serial, values.serial)
        pieces = build_pieces(grid_frames, values.serial, (values.breaks, colours), props, GZIP_LEVEL, before,
                              changed)
        if before is None or values.serial >= before.serial:
            cache.pieces.keep(piece_key, pieces)
        header = json.dumps(_header(values, language), ensure_ascii=False, separators=(",", ":"))[:-1]
        head = (header + ',"features":[').encode()
        tail = b"]}"
        return LayerBody(pieces=[(head, pack(head, GZIP_LEVEL)), *zip(pieces.raw, pieces.packed, strict=True),
                                 (tail, pack(tail, GZIP_LEVEL))])

    return cache.bodies.get(key, make)


def _header(values: LayerValues, language: str) -> dict[str, Any]:
    query = values.query
    return {
        "type": "FeatureCollection",
        "measure": measure_json(query.spec, language),
        "period": query.period.as_json(language),
        "classify": query.classify,
        "classes": len(values.legend()) - 1,
        "legend": values.legend(language),
        "generated_at": values.generated_at.isoformat(),
        "version": values.version.token,
    }




# -- summary ------------------------------------------------------------------------------------------


def summary(session: Session, cache: LayerCache, query: LayerQuery, *, language: str = "zh-CN",
            households_per_worker_target: int = 500) -> dict[str, Any]:
    """District totals (`district_summary`), the worst grids on the measure, the version."""
    no_jit(session)
    version = data_version(session)
    values = grid_values(session, cache, query, version,
                         households_per_worker_target=households_per_worker_target)
    period = query.period
    grid_rows = list(values.rows.values())

    def make(s: Session) -> dict[str, Any]:
        no_jit(s)
        return district_summary(s, period, grid_rows=grid_rows,
                                households_per_worker_target=households_per_worker_target)

    # Once per computation of the grid rows, whose sums it reuses (so no more often than they are).
    key = ("district", values.version.token, values.generated_at, period.first_day, period.last_day,
           households_per_worker_target)
    district = cache.refreshing(key, make, session, VALUES_MAX_AGE_SECONDS, cache.sessions)
    named = {f.code: f for f in frames(session, cache, version, values.query.day(values.generated_at), False)}
    return {"measure": measure_json(query.spec, language), "period": period.as_json(language),
            "district": district, "worst": _worst(values, named), "version": values.version.token,
            "generated_at": values.generated_at.isoformat()}


def _worst(values: LayerValues, frames: dict[str, Frame]) -> list[dict[str, Any]]:
    """The worst grids by `gis.metrics.worst` (the rule `gis.store.measures.worst_grids` uses too)."""
    measure = values.query.measure
    colours = values.colours()
    listed = []
    for row in worst(values.rows.values(), measure, WORST_LIMIT):
        frame = frames.get(row["code"])
        cls = values.classes.get(row["code"])
        listed.append({"code": row["code"], "name": row["name"],
                       "street_name": frame.street_name if frame else None, "value": row[measure],
                       "class": cls, "colour": colours.get(cls, NO_DATA_COLOUR)})
    return listed


# -- coverage gaps -----------------------------------------------------------------------------------


def coverage(session: Session, cache: LayerCache) -> LayerBody:
    """`gis.store.coverage.coverage_layer` as JSON. Made anew when places change; while only cases change
    (the unrouted cases are among its points) at most every `cache.coverage_min_interval` seconds: it is
    the slowest layer, and under a stream of cases each wall would otherwise recompute it."""
    version = data_version(session)

    def make() -> _CoverageBody:
        cache.computations += 1
        no_jit(session)
        layer = coverage_layer(session)
        body = json.dumps(layer, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        return _CoverageBody(version.cases, LayerBody(body))

    def accept(made: _CoverageBody, age: float) -> bool:
        return made.cases == version.cases or age < cache.coverage_min_interval

    return cache.bodies.get(("coverage", version.places), make, accept=accept).body


@dataclass(frozen=True)
class _CoverageBody:
    cases: int
    body: LayerBody


# -- overdue cases ------------------------------------------------------------------------------------

_OVERDUE_SQL = f"""
SELECT json_build_object('type', 'FeatureCollection', 'generated_at', CAST(:generated_at AS text),
    'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', c.id, 'geometry', ST_AsGeoJSON(c.position, {PRECISION})::json,
    'properties', json_build_object(
        'id', c.id, 'category_code', c.category_code,
        'category', CASE WHEN CAST(:english AS boolean) THEN k.name_en ELSE k.name_zh END,
        'category_zh', k.name_zh, 'category_en', k.name_en, 'status', c.status, 'grid_code', c.grid_code,
        'deadline', to_char(c.deadline AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
        'supervised', c.supervised_at IS NOT NULL, 'escalated', c.escalated_at IS NOT NULL,
        'hours_overdue',
            round((extract(epoch FROM CAST(:now AS timestamptz) - c.deadline) / 3600.0)::numeric, 1))
    ) ORDER BY c.deadline, c.id), '[]'::json))::text
FROM service_case AS c JOIN case_category AS k ON k.code = c.category_code
WHERE {overdue_open_sql("c", ":now")}
"""


def overdue(session: Session, cache: LayerCache, *, language: str = "zh-CN") -> LayerBody:
    """`overdue_layer`, kept per cases version and language (its gzip made once) for
    `VALUES_MAX_AGE_SECONDS`: a case falling overdue is flagged by the sweeper, which changes the version."""
    version = data_version(session)

    def make() -> LayerBody:
        cache.computations += 1
        return LayerBody(overdue_layer(session, language=language))

    return cache.bodies.get(("overdue", version.cases, is_english(language)), make, VALUES_MAX_AGE_SECONDS)


def overdue_layer(session: Session, *, language: str = "zh-CN", now: datetime | None = None) -> bytes:
    """Open cases past their deadline as GeoJSON points (the "overdue_open" of the measures), most
    overdue first, built by PostGIS."""
    moment = now or datetime.now(UTC)
    no_jit(session)
    params = {"now": moment, "generated_at": moment.isoformat(), "english": is_english(language)}
    body = session.execute(text(_OVERDUE_SQL), params).scalar_one()
    return body.encode()
