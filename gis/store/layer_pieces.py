"""A grid layer's body kept in pieces, so that a change of a few grids rebuilds a few pieces.

After a change the measures are refreshed for the touched grids only (gis/store/incremental.py); the
body of 50,000 features (29 MB of JSON, 2.3 MB gzipped) would still cost more than that refresh to join
and, above all, to gzip again (about half a second). So the features are kept in pieces of `PIECE`
grids, each with its JSON text and its deflated bytes; a new body rebuilds only the pieces holding a grid
whose properties changed, and its gzip is the pieces' deflated bytes joined (each piece deflated on its
own and ended by a sync flush is a valid continuation of one deflate stream) under one gzip header and
trailer. Only when every feature may change (the classes' breaks moved, other frames) is it all rebuilt.

`Changes` says which grids changed between two computations of the rows (by their serial numbers).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gis.store.layer_cache import pack
from gis.store.layer_frames import Frame

__all__ = ["PIECE", "Changes", "Pieces", "build_pieces", "measure_props"]

PIECE = 256
"""Grids per piece: a change of one grid deflates about 150 KB again."""
_HISTORY = 64

class Changes:
    """Which codes each computation of the rows recomputed, by its serial number (a short history)."""

    def __init__(self) -> None:
        self.serial = 0
        self._log: dict[int, frozenset[str] | None] = {}

    def add(self, changed: frozenset[str] | None) -> int:
        """Record the codes a new computation recomputed (None: all); returns its serial."""
        self.serial += 1
        self._log[self.serial] = changed
        self._log.pop(self.serial - _HISTORY, None)
        return self.serial

    def between(self, older: int, newer: int) -> frozenset[str] | None:
        """Codes that may differ between computations `older` and `newer` (None: any, or not known)."""
        if older > newer:
            return None
        codes: set[str] = set()
        for serial in range(older + 1, newer + 1):
            changed = self._log.get(serial)
            if changed is None:
                return None
            codes |= changed
        return frozenset(codes)


@dataclass
class Pieces:
    """The features of one layer as pieces: `props` per frame (its measure part), the text and deflated
    bytes per piece, made for `frames` at rows `serial` with the classes' `shape` (breaks and colours)."""

    frames: list[Frame]
    serial: int
    shape: Any
    props: list[str]
    raw: list[bytes]
    packed: list[bytes]
    index: dict[str, int] = field(default_factory=dict)


def build_pieces(frames: list[Frame], serial: int, shape: Any, props_of: Callable[[Frame], str], level: int,
                 previous: Pieces | None, changed: frozenset[str] | None) -> Pieces:
    """The pieces for `frames` at rows `serial`: `previous` with the pieces of `changed` codes rebuilt when it
    was made for the same frames and shape, else all made anew."""
    if previous is None or previous.frames is not frames or previous.shape != shape or changed is None:
        props = [props_of(frame) for frame in frames]
        count = (len(frames) + PIECE - 1) // PIECE
        raw = [_piece_text(frames, props, k) for k in range(count)]
        index = {frame.code: k for k, frame in enumerate(frames)}
        return Pieces(frames, serial, shape, props, raw, [pack(r, level) for r in raw], index)
    props, raw, packed = list(previous.props), list(previous.raw), list(previous.packed)
    dirty = set()
    for code in changed:
        k = previous.index.get(code)
        if k is None:
            continue
        text = props_of(frames[k])
        if text != props[k]:
            props[k] = text
            dirty.add(k // PIECE)
    for piece in dirty:
        raw[piece] = _piece_text(frames, props, piece)
        packed[piece] = pack(raw[piece], level)
    return Pieces(frames, serial, shape, props, raw, packed, previous.index)


def _piece_text(frames: list[Frame], props: list[str], piece: int) -> bytes:
    start = piece * PIECE
    features = ",".join(frame.head + prop for frame, prop in
                        zip(frames[start:start + PIECE], props[start:start + PIECE], strict=True))
    return (features if piece == 0 else "," + features).encode()


def _json(value: Any) -> str:
    """JSON of a measure value, fast for the usual types (finite floats: repr is what json.dumps writes)."""
    if value is None:
        return "null"
    if isinstance(value, bool | str):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def measure_props(row: dict[str, Any] | None, measure: str, cls: int | None, colour: str) -> str:
    """The end of a grid's feature after its frame: the measure's value, class and colour, and the counts
    the wall shows beside it (JSON text, closing the properties and the feature)."""
    if row is None:
        return (f',"value":null,"class":null,"colour":"{colour}","open_cases":0,"overdue":0,'
                '"overdue_open":0,"grade":null}}')
    return (f',"value":{_json(row[measure])},"class":{_json(cls)},"colour":"{colour}",'
            f'"open_cases":{row["open_cases"]},"overdue":{row["overdue"]},"overdue_open":{row["overdue_open"]},'
            f'"grade":{_json(row["grade"])}}}}}')
