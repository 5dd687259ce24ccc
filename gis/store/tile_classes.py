"""The wall's measure table for vector tiles: per current grid, the class and value of every wall measure.

Why a table beside the tiles: at city scale the wall draws its grids from `/tiles/grids/...` (shapes,
code and name; `gis.store.tiles`). Shapes change rarely (the places version); measures change with every
case. So the wall keeps the tiles it has and colours each feature by looking its code up in this table,
which carries every wall measure (`gis.metrics.MEASURES` with `wall`), classed by the measure's fixed
thresholds, with their legends: switching measure restyles from the table without any request, and a
new data version sends only the grids whose class or value changed (`since`, the stamp of the table the
wall holds, while that table is still cached; otherwise the whole table is sent again).

The values are `gis.store.layers.grid_values` (so the table agrees with the GeoJSON layer, its legend and
the tiles), computed once per data version for every measure. A table is kept compact (numpy arrays) in
the layer cache's small store, keyed by its stamp: the data version the values were computed at and
when.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.metrics import MEASURES, NO_DATA_COLOUR, legend
from gis.periods import Period
from gis.store.layer_cache import LayerBody, LayerCache
from gis.store.layers import data_version, grid_values, layer_query, measure_json

__all__ = ["WALL_MEASURES", "ClassTable", "class_table", "table_body"]

WALL_MEASURES = tuple(sorted((s.key for s in MEASURES.values() if s.wall is not None),
                             key=lambda key: MEASURES[key].wall or 0))
"""The wall's measures in its order (gis/metrics.py decides which)."""
VALUE_DECIMALS = 4
NO_CLASS = -1


@dataclass(frozen=True)
class ClassTable:
    """Codes in ascending order; per measure, a class per code (`NO_CLASS`: no data) and a value per code
    (NaN: none; the grade keeps its letters)."""

    stamp: str
    version: str
    codes: tuple[str, ...]
    classes: dict[str, np.ndarray]
    values: dict[str, np.ndarray]

    def changed_since(self, older: ClassTable) -> np.ndarray:
        """Indexes of the grids whose class or value of any measure differs from `older` (same codes)."""
        mask = np.zeros(len(self.codes), dtype=bool)
        for key in WALL_MEASURES:
            mask |= self.classes[key] != older.classes[key]
            new, old = self.values[key], older.values[key]
            if new.dtype.kind == "f":
                mask |= ~((new == old) | (np.isnan(new) & np.isnan(old)))
            else:
                mask |= new != old
        return np.flatnonzero(mask)


def class_table(session: Session, cache: LayerCache, period: Period, *,
                households_per_worker_target: int = 500) -> ClassTable:
    """The table for `period` at the current data version (one `grid_values` computation serves all)."""
    version = data_version(session)
    values = {key: grid_values(session, cache, layer_query(key, period), version,
                               households_per_worker_target=households_per_worker_target)
              for key in WALL_MEASURES}
    first = values[WALL_MEASURES[0]]
    stamp = f"{first.version.token}.t{first.generated_at.timestamp():.6f}"

    def make() -> ClassTable:
        codes = tuple(sorted(first.rows))
        classes, measured = {}, {}
        for key, layer in values.items():
            cls = [layer.classes.get(code) for code in codes]
            classes[key] = np.array([NO_CLASS if c is None else c for c in cls], dtype=np.int8)
            raw = [layer.value(code) for code in codes]
            if MEASURES[key].categories:
                measured[key] = np.array(raw, dtype=object)
            else:
                measured[key] = np.round(np.array([np.nan if v is None else float(v) for v in raw],
                                                  dtype=float), VALUE_DECIMALS)
        return ClassTable(stamp, first.version.token, codes, classes, measured)

    key = ("wall-classes", period.first_day, period.last_day, households_per_worker_target, stamp)
    return cache.get(key, make)


def table_body(cache: LayerCache, table: ClassTable, period: Period, *, since: str | None = None,
               language: str = "zh-CN", households_per_worker_target: int = 500) -> LayerBody:
    """The table as JSON: every grid, or (`since` the stamp of a table still cached, with the same codes)
    only the grids changed since; `since` is then echoed, else null. Kept per stamp, since and language."""
    if since is not None and not since.strip():
        raise InvalidInput("since must be the stamp of an earlier table, not empty", details={"since": since})

    def make() -> LayerBody:
        older = None
        if since is not None and since != table.stamp:
            key = ("wall-classes", period.first_day, period.last_day, households_per_worker_target, since)
            older = cache._fresh(key, None)  # noqa: SLF001 - a look-up that never computes
            older = older.value if older is not None and older.value.codes == table.codes else None
        if since == table.stamp:
            picked = np.zeros(0, dtype=int)
            base: str | None = since
        elif older is not None:
            picked, base = table.changed_since(older), since
        else:
            picked, base = np.arange(len(table.codes)), None
        return LayerBody(json.dumps(_as_json(table, picked, base, period, language),
                                    ensure_ascii=False, separators=(",", ":")).encode())

    key = ("wall-classes-body", table.stamp, since, language)
    return cache.get(key, make)


def _as_json(table: ClassTable, picked: np.ndarray, since: str | None, period: Period,
             language: str) -> dict[str, Any]:
    codes = [table.codes[i] for i in picked]
    classes = {key: [None if c == NO_CLASS else int(c) for c in table.classes[key][picked].tolist()]
               for key in WALL_MEASURES}
    values = {key: [_plain(v) for v in table.values[key][picked].tolist()] for key in WALL_MEASURES}
    # fixed thresholds: the same rows as LayerValues.legend, the GeoJSON layer's and /legend's
    legends = {key: legend(MEASURES[key], None, language) for key in WALL_MEASURES}
    return {"stamp": table.stamp, "version": table.version, "since": since, "period": period.as_json(language),
            "measures": [measure_json(MEASURES[key], language) for key in WALL_MEASURES],
            "no_data_colour": NO_DATA_COLOUR, "legends": legends, "codes": codes, "classes": classes,
            "values": values, "grids": len(table.codes)}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
