"""The map layers of the wall and the command centre: grids coloured by a measure, their legend, the
district summary, the overdue cases, and the data version the wall polls.

How a grid layer is made (`grid_layer`), a short pipeline:

1. `data_version` — one tiny query over `layer_change`, a log that statement-level triggers write in the
   changing transaction (migration 0003), summed per kind: cases, places, org(anisations), visits.
2. `_frames` — per current grid, the geometry (ST_SimplifyPreserveTopology at `SIMPLIFY_DEGREES`, GeoJSON
   with `PRECISION` decimals) and the properties that do not depend on the measure (names, branch, team,
   leader, grid workers), as ready-made JSON text. Cached by (places and org version, local date): they
   change with imports, not with cases, so a request after a new case only computes measures.
3. `grid_values` — `gis.store.measures.grid_measures` for the period at this moment, then the classes
   (fixed thresholds or quantile breaks of these same values) and the legend (`gis.metrics.legend`);
   every feature's colour is looked up in that legend by its class. Cached by (data version, period
   days), so wall screens and tiles reloading after one change compute it once, and switching measure
   or classification only re-classes. Open and overdue counts are judged "now": an entry older than
   `VALUES_MAX_AGE_SECONDS` with the same data version is still served while a background thread
   recomputes it (the sweeper's overdue flags change the version anyway).
4. The FeatureCollection is joined as text: cached frame + a few measure properties per grid.

The caches live in a `LayerCache` the API keeps per application (one per database).
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.i18n import is_english
from gis.metrics import MEASURES, NO_DATA_COLOUR, MeasureSpec, classify, legend, quantile_breaks
from gis.periods import Period
from gis.store.coverage import coverage_layer
from gis.store.measures import ORG_COUNTS, district_summary, grid_measures
from gis.store.vocabulary import current_sql, no_jit, overdue_open_sql
from gis.workcalendar import SHANGHAI

__all__ = [
    "CLASSIFY_MODES", "DataVersion", "LayerBody", "LayerCache", "LayerQuery",
    "LayerValues", "LruStore", "compact_changes", "coverage", "data_version", "grid_layer", "grid_values",
    "layer_query", "measure_json", "measure_list", "overdue_layer", "summary",
]

SIMPLIFY_DEGREES = 1e-5
"""Display simplification of the layer's polygons (about 1 m; a screen pixel at zoom 17)."""
PRECISION = 6
"""Decimals of the layer's coordinates (about 0.1 m)."""
VALUES_MAX_AGE_SECONDS = 30.0
"""Measures older than this (same data version) are refreshed in the background (`LayerCache`)."""
CLASSIFY_MODES = ("fixed", "quantile")
CLASSES_RANGE = (2, 7)
COMPACT_AFTER = 256
"""`layer_change` rows beyond which a reader folds them into one row per kind."""
WORST_LIMIT = 10
GZIP_LEVEL = 5
VERSION_KINDS = ("cases", "places", "org", "visits")



# -- the data version ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataVersion:
    """Committed changes so far, per kind; `token` is the opaque string the wall compares."""

    cases: int = 0
    places: int = 0
    org: int = 0
    visits: int = 0

    @property
    def token(self) -> str:
        return f"c{self.cases}.p{self.places}.o{self.org}.v{self.visits}"


def data_version(session: Session) -> DataVersion:
    """The current version: sums over the few rows of `layer_change` (compacted when they pile up)."""
    rows = session.execute(text("SELECT kind, sum(n), count(*) FROM layer_change GROUP BY kind")).all()
    if sum(r[2] for r in rows) > COMPACT_AFTER and not session.info.get("replica"):
        compact_changes(session)
    sums = {kind: int(total) for kind, total, _ in rows if kind in VERSION_KINDS}
    return DataVersion(**sums)


def compact_changes(session: Session) -> None:
    """Fold the log into one row per kind; the sums, and so the version, stay the same. Readers on the
    primary do it as they go; with a read replica, the sweeper does it (a replica cannot write)."""
    locked = text("SELECT pg_try_advisory_xact_lock(hashtext('gridmap.layer_change'))")
    if session.execute(locked).scalar_one():
        session.execute(text(
            "WITH gone AS (DELETE FROM layer_change RETURNING kind, n) "
            "INSERT INTO layer_change (kind, n) SELECT kind, sum(n) FROM gone GROUP BY kind"
        ))


# -- what is asked for --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerQuery:
    """A checked request: which measure, over which days, classed how."""

    measure: str
    period: Period
    classify: str = "fixed"
    classes: int = 5

    @property
    def spec(self) -> MeasureSpec:
        return MEASURES[self.measure]

    @property
    def key(self) -> tuple[Hashable, ...]:
        return (self.measure, self.period.first_day, self.period.last_day, self.classify, self.classes)


def layer_query(
    measure: str, period: Period, classify_mode: str = "fixed", classes: int = 5
) -> LayerQuery:
    """Check the parameters; errors name the bad value and what is allowed. A categorical measure (grade)
    is always classed by its categories, so its mode becomes "fixed"."""
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
    return LayerQuery(measure, period, classify_mode, classes)


def measure_list(language: str = "zh-CN") -> list[dict[str, Any]]:
    """Every measure the map can be coloured by: key, label, unit, higher_is_worse."""
    return [measure_json(spec, language) for spec in MEASURES.values()]


def measure_json(spec: MeasureSpec, language: str) -> dict[str, Any]:
    return {"key": spec.key, "label": spec.label_en if is_english(language) else spec.label_zh,
            "unit": spec.unit, "higher_is_worse": spec.higher_is_worse}


# -- caches -------------------------------------------------------------------------------------------

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class _Entry:
    value: Any
    made: float


class LruStore:
    """A small LRU store, one computation per key at a time (concurrent askers wait for the first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._flights: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, make: Callable[[], T], ttl: float | None = None) -> T:
        """The cached value of `key` if younger than `ttl` seconds (None: no limit), else `make()`."""
        hit = self._fresh(key, ttl)
        if hit is not None:
            return hit.value
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:
            hit = self._fresh(key, ttl)
            if hit is not None:
                return hit.value
            try:
                value = make()
                self._store(key, value)
            finally:
                with self._lock:
                    self._flights.pop(key, None)
            return value

    def refreshing(self, key: Hashable, make: Callable[[Session], T], session: Session, max_age: float,
                   sessions: Callable[[], AbstractContextManager[Session]] | None) -> T:
        """`make(session)` once per key; later, an entry older than `max_age` seconds is returned as it is
        while one background thread makes its successor in a session of its own from `sessions`. Keys
        carry the data version, so a stale entry differs from a fresh one only by the passing of time
        (overdue counts, the end of a running period), never by a change of data. Without `sessions`,
        an aged entry is recomputed inline."""
        entry = self._fresh(key, None)
        if entry is None or (time.monotonic() - entry.made > max_age and sessions is None):
            return self.get(key, lambda: make(session), max_age)
        if time.monotonic() - entry.made > max_age and sessions is not None:
            self._refresh_later(key, make, sessions)
        return entry.value

    def _refresh_later(self, key: Hashable, make: Callable[[Session], T],
                       sessions: Callable[[], AbstractContextManager[Session]]) -> None:
        with self._lock:
            if key in self._flights:
                return
            flight = self._flights[key] = threading.Lock()
            flight.acquire()

        def run() -> None:
            try:
                with sessions() as session:
                    value = make(session)
                self._store(key, value)
            except Exception:  # noqa: BLE001 - the old entry stays; the next request tries again
                log.exception("refreshing layer cache entry %r failed", key)
            finally:
                with self._lock:
                    self._flights.pop(key, None)
                flight.release()

        threading.Thread(target=run, name="layer-refresh", daemon=True).start()

    def _store(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = _Entry(value, time.monotonic())
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def _fresh(self, key: Hashable, ttl: float | None) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or (ttl is not None and time.monotonic() - entry.made > ttl):
                return None
            self._entries.move_to_end(key)
            return entry


class LayerCache(LruStore):
    """What the layers keep between requests, in stores sized by what they hold: small entries here
    (district summaries, grid boxes); measure rows in `measures`; per-grid frames in `frames`; built
    layer bodies in `bodies`; vector tiles in `tiles`. `sessions` (a factory of units of work) lets an
    aged entry be refreshed in the background (`LruStore.refreshing`)."""

    def __init__(self, sessions: Callable[[], AbstractContextManager[Session]] | None = None) -> None:
        super().__init__(32)
        self.measures = LruStore(3)
        self.frames = LruStore(6)
        self.bodies = LruStore(4)
        self.tiles = LruStore(1024)
        self.sessions = sessions


# -- per-grid frames: geometry and the properties that do not depend on the measure --------------------

_GRIDS_ON = current_sql("g")
_MEMBER_ON = "m.from_date <= :on AND (m.to_date IS NULL OR m.to_date >= :on)"

_FRAMES_SQL = f"""
WITH members AS (
    SELECT m.team_id, min(p.name) FILTER (WHERE m.role = 'leader') AS leader,
           count(DISTINCT m.person_id) FILTER (WHERE m.role = 'grid_worker') AS grid_workers
    FROM team_membership AS m JOIN person AS p ON p.id = m.person_id
    WHERE {_MEMBER_ON}
    GROUP BY m.team_id
)
SELECT DISTINCT ON (g.code) g.code, g.name, c.code AS community_code, c.name AS community_name,
       s.code AS street_code, s.name AS street_name, b.name AS branch, t.name AS team,
       w.leader, coalesce(w.grid_workers, 0) AS grid_workers
FROM grid AS g
JOIN community AS c ON c.id = g.community_id
JOIN street AS s ON s.code = g.street_code
LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code AND {current_sql("b")}
LEFT JOIN service_team AS t ON t.grid_code = g.code AND {current_sql("t")}
LEFT JOIN members AS w ON w.team_id = t.id
WHERE {_GRIDS_ON}
ORDER BY g.code, g.valid_from DESC, b.valid_from DESC, t.valid_from DESC
"""

_GEOMETRY_SQL = f"""
SELECT DISTINCT ON (g.code) g.code,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(g.geom, :tolerance), {PRECISION}) AS geometry
FROM grid AS g WHERE {_GRIDS_ON} ORDER BY g.code, g.valid_from DESC
"""


@dataclass(frozen=True)
class _Frame:
    """One grid: `head` is its feature's JSON text up to and including the fixed properties."""

    code: str
    name: str
    street_name: str
    head: str


def _frames(session: Session, cache: LayerCache, version: DataVersion, on: date,
            geometry: bool = True) -> list[_Frame]:
    store = cache.frames
    props = store.get(("props", version.places, version.org, on), lambda: _props(session, on))
    if not geometry:
        return store.get(("bare", version.places, version.org, on), lambda: _join(props, None))
    shapes = store.get(("shapes", version.places, on), lambda: _shapes(session, on))
    return store.get(("frames", version.places, version.org, on), lambda: _join(props, shapes))


def _props(session: Session, on: date) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(text(_FRAMES_SQL), {"on": on}).mappings()]


def _shapes(session: Session, on: date) -> dict[str, str]:
    rows = session.execute(text(_GEOMETRY_SQL), {"on": on, "tolerance": SIMPLIFY_DEGREES}).all()
    return {code: geometry for code, geometry in rows}


def _join(props: list[dict[str, Any]], shapes: dict[str, str] | None) -> list[_Frame]:
    frames = []
    for row in props:
        code = json.dumps(row["code"])
        fixed = json.dumps({**row, "grid_workers": int(row["grid_workers"] or 0)}, ensure_ascii=False,
                           separators=(",", ":"))[:-1]
        geometry = "null" if shapes is None else shapes.get(row["code"], "null")
        head = f'{{"type":"Feature","id":{code},"geometry":{geometry},"properties":{fixed}'
        frames.append(_Frame(row["code"], row["name"], row["street_name"], head))
    return frames


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
    """Measures of every current grid for `query`, classed (module doc)."""
    rows = _measure_rows(session, cache, query.period, version, households_per_worker_target)
    values = rows.classed.get(query.key)
    if values is None:
        spec = query.spec
        measured = [row[query.measure] for row in rows.rows.values()]
        breaks = quantile_breaks(measured, query.classes) if query.classify == "quantile" else None
        classes = {code: classify(v, spec, breaks) for code, v in zip(rows.rows, measured, strict=True)}
        values = LayerValues(query, version, rows.generated_at, rows.rows, breaks, classes)
        rows.classed[query.key] = values
    return values


_KEPT = ("code", "name", *MEASURES, "overdue_open", *ORG_COUNTS)  # ORG_COUNTS: summary reuses them
"""What a cached measure row keeps (50,000 full rows of counts would weigh hundreds of megabytes)."""


@dataclass
class _Rows:
    """`grid_measures` rows by code at `generated_at`, and their classings by `LayerQuery.key`."""

    generated_at: datetime
    rows: dict[str, dict[str, Any]]
    classed: dict[tuple[Hashable, ...], LayerValues] = field(default_factory=dict)


def _measure_rows(session: Session, cache: LayerCache, period: Period, version: DataVersion,
                  target: int) -> _Rows:
    def make(s: Session) -> _Rows:
        no_jit(s)
        at = datetime.now(UTC)  # grid_measures judges "now" itself (at=None): current statuses, not rebuilt
        rows = grid_measures(s, period, households_per_worker_target=target)
        return _Rows(at, {row["code"]: {k: row[k] for k in _KEPT} for row in rows})

    key = ("rows", version.token, period.first_day, period.last_day, target)
    return cache.measures.refreshing(key, make, session, VALUES_MAX_AGE_SECONDS, cache.sessions)


# -- the grid layer -----------------------------------------------------------------------------------


class LayerBody:
    """A built layer: UTF-8 JSON, and its gzip made once on first use."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._gzipped: bytes | None = None

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.raw, compresslevel=GZIP_LEVEL)
        return self._gzipped


def grid_layer(session: Session, cache: LayerCache, query: LayerQuery, *, language: str = "zh-CN",
               geometry: bool = True, households_per_worker_target: int = 500) -> LayerBody:
    """The FeatureCollection of every current grid coloured by `query` (module doc); the body is kept
    while its values are, so wall screens asking together share one."""
    no_jit(session)
    version = data_version(session)
    values = grid_values(session, cache, query, version,
                         households_per_worker_target=households_per_worker_target)
    on = _local_date(values.generated_at)
    key = ("body", version.token, *query.key, values.generated_at, language, geometry)

    def make() -> LayerBody:
        frames = _frames(session, cache, version, on, geometry)
        colours = values.colours()
        measure = query.measure
        features = []
        for frame in frames:
            row = values.rows.get(frame.code)
            cls = values.classes.get(frame.code)
            features.append(frame.head + _measure_props(row, measure, cls, colours.get(cls, NO_DATA_COLOUR)))
        header = json.dumps(_header(values, language), ensure_ascii=False, separators=(",", ":"))[:-1]
        return LayerBody((header + ',"features":[' + ",".join(features) + "]}").encode())

    return cache.bodies.get(key, make)


def _json(value: Any) -> str:
    """JSON of a measure value, fast for the usual types (finite floats: repr is what json.dumps writes)."""
    if value is None:
        return "null"
    if isinstance(value, bool | str):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _measure_props(row: dict[str, Any] | None, measure: str, cls: int | None, colour: str) -> str:
    if row is None:
        return (f',"value":null,"class":null,"colour":"{colour}","open_cases":0,"overdue":0,'
                '"overdue_open":0,"grade":null}}')
    return (f',"value":{_json(row[measure])},"class":{_json(cls)},"colour":"{colour}",'
            f'"open_cases":{row["open_cases"]},"overdue":{row["overdue"]},"overdue_open":{row["overdue_open"]},'
            f'"grade":{_json(row["grade"])}}}}}')


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


def _local_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


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

    key = ("district", version.token, period.first_day, period.last_day, households_per_worker_target)
    district = cache.refreshing(key, make, session, VALUES_MAX_AGE_SECONDS, cache.sessions)
    frames = {f.code: f for f in _frames(session, cache, version, _local_date(values.generated_at), False)}
    return {"measure": measure_json(query.spec, language), "period": period.as_json(language),
            "district": district, "worst": _worst(values, frames), "version": version.token,
            "generated_at": values.generated_at.isoformat()}


def _worst(values: LayerValues, frames: dict[str, _Frame]) -> list[dict[str, Any]]:
    """The same order as `gis.store.measures.worst_grids`: worst first, ties by code, no-data left out."""
    measure = values.query.measure
    key = "score" if measure == "grade" else measure
    worse_up = MEASURES[key].higher_is_worse
    rows = [r for r in values.rows.values() if r[key] is not None]
    rows.sort(key=lambda r: (-r[key] if worse_up else r[key], r["code"]))
    colours = values.colours()
    worst = []
    for row in rows[:WORST_LIMIT]:
        frame = frames.get(row["code"])
        cls = values.classes.get(row["code"])
        worst.append({"code": row["code"], "name": row["name"],
                      "street_name": frame.street_name if frame else None, "value": row[measure],
                      "class": cls, "colour": colours.get(cls, NO_DATA_COLOUR)})
    return worst


# -- coverage gaps -----------------------------------------------------------------------------------


def coverage(session: Session, cache: LayerCache) -> LayerBody:
    """`gis.store.coverage.coverage_layer` as JSON, kept until places or cases change (the unrouted
    cases are among its points)."""
    version = data_version(session)

    def make() -> LayerBody:
        no_jit(session)
        layer = coverage_layer(session)
        return LayerBody(json.dumps(layer, ensure_ascii=False, separators=(",", ":"), default=str).encode())

    return cache.bodies.get(("coverage", version.places, version.cases), make)


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


def overdue_layer(session: Session, *, language: str = "zh-CN", now: datetime | None = None) -> bytes:
    """Open cases past their deadline as GeoJSON points (the "overdue_open" of the measures), most
    overdue first, built by PostGIS."""
    moment = now or datetime.now(UTC)
    no_jit(session)
    params = {"now": moment, "generated_at": moment.isoformat(), "english": is_english(language)}
    body = session.execute(text(_OVERDUE_SQL), params).scalar_one()
    return body.encode()
