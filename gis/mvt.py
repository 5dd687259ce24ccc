"""The few pieces of the Mapbox Vector Tile format (protobuf, spec 2.1) that gridmap writes itself: read a
one-layer tile PostGIS made (`read_layer`: each feature's id, type, properties and its geometry commands as
the raw bytes they are) and write a layer again with other properties (`write_layer`), the geometry bytes
copied as they are; or, when the leading properties never change (a grid's code and name) and only the
trailing ones do (its measure), a `LayerTemplate` that encodes the fixed part once.

Why: a grid tile's shapes depend on the places only, its measure values on every case. PostGIS makes the
shapes once (`gis.store.tiles`); a tile with fresh values is then this module's few microseconds a
feature instead of clipping, simplifying and encoding every polygon again. Pure: no database.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

__all__ = ["LayerTemplate", "MvtFeature", "read_layer", "write_layer"]

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


@dataclass(frozen=True)
class MvtFeature:
    """One feature: id, geometry type (1 point, 2 line, 3 polygon), properties, encoded geometry commands."""

    id: int | None
    type: int
    properties: dict[str, Any]
    geometry: bytes

    @cached_property
    def encoded(self) -> tuple[bytes, bytes]:
        """The feature's fields before its tags (id) and after them (type, geometry), encoded once."""
        head, tail = bytearray(), bytearray()
        if self.id is not None:
            _put_varint(head, (1 << 3) | _VARINT)
            _put_varint(head, self.id)
        _put_varint(tail, (3 << 3) | _VARINT)
        _put_varint(tail, self.type)
        _put_bytes(tail, 4, self.geometry)
        return bytes(head), bytes(tail)


# -- reading ------------------------------------------------------------------------------------------


def _varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes | memoryview) -> Iterable[tuple[int, int, Any]]:
    """(field number, wire type, value: int for varints and fixed, memoryview for bytes) in order."""
    view = memoryview(data)
    pos, end = 0, len(view)
    while pos < end:
        key, pos = _varint(view, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _varint(view, pos)
        elif wire == _BYTES:
            size, pos = _varint(view, pos)
            value, pos = view[pos:pos + size], pos + size
        elif wire == _FIXED64:
            value, pos = view[pos:pos + 8], pos + 8
        elif wire == _FIXED32:
            value, pos = view[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _packed(data: memoryview) -> list[int]:
    out, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        out.append(value)
    return out


def _value(data: memoryview) -> Any:
    for number, _wire, value in _fields(data):
        if number == 1:
            return bytes(value).decode("utf-8")
        if number == 2:
            return struct.unpack("<f", value)[0]
        if number == 3:
            return struct.unpack("<d", value)[0]
        if number in (4, 5):
            return value if number == 5 or value < 2**63 else value - 2**64
        if number == 6:
            return (value >> 1) ^ -(value & 1)
        if number == 7:
            return bool(value)
    return None


def read_layer(tile: bytes) -> tuple[str, int, list[MvtFeature]]:
    """The only layer of `tile` (b"" has none: ("", 4096, [])): its name, extent and features."""
    layers = [value for number, _w, value in _fields(tile) if number == 3]
    if not layers:
        return "", 4096, []
    if len(layers) > 1:
        raise ValueError(f"expected one layer, found {len(layers)}")
    name, extent, keys, values, raw = "", 4096, [], [], []
    for number, _wire, value in _fields(layers[0]):
        if number == 1:
            name = bytes(value).decode("utf-8")
        elif number == 2:
            raw.append(value)
        elif number == 3:
            keys.append(bytes(value).decode("utf-8"))
        elif number == 4:
            values.append(_value(value))
        elif number == 5:
            extent = value
    features = []
    for data in raw:
        fid, kind, tags, geometry = None, 0, [], b""
        for number, _wire, value in _fields(data):
            if number == 1:
                fid = value
            elif number == 2:
                tags = _packed(value)
            elif number == 3:
                kind = value
            elif number == 4:
                geometry = bytes(value)
        props = {keys[tags[i]]: values[tags[i + 1]] for i in range(0, len(tags), 2)}
        features.append(MvtFeature(fid, kind, props, geometry))
    return name, extent, features


# -- writing ------------------------------------------------------------------------------------------


def _put_varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _varint_size(value: int) -> int:
    size = 1
    while value > 0x7F:
        value >>= 7
        size += 1
    return size


def _put_bytes(out: bytearray, number: int, data: bytes) -> None:
    _put_varint(out, (number << 3) | _BYTES)
    _put_varint(out, len(data))
    out += data


def _encode_value(value: Any) -> bytes:
    out = bytearray()
    if isinstance(value, str):
        _put_bytes(out, 1, value.encode("utf-8"))
    elif isinstance(value, bool):
        out.append((7 << 3) | _VARINT)
        out.append(1 if value else 0)
    elif isinstance(value, int) and value >= 0:
        out.append((5 << 3) | _VARINT)
        _put_varint(out, value)
    elif isinstance(value, int):
        out.append((6 << 3) | _VARINT)
        _put_varint(out, (value << 1) ^ (value >> 63))
    else:
        out.append((3 << 3) | _FIXED64)
        out += struct.pack("<d", float(value))
    return bytes(out)


def write_layer(name: str, extent: int, features: Sequence[MvtFeature], properties: Sequence[Mapping[str, Any]],
                keys: Sequence[str]) -> bytes:
    """A one-layer tile: each feature's id, type and geometry with `properties[i]` (a None is left out, as
    ST_AsMVT does; a key not in `keys` is refused); `keys` in the layer's key order. No feature: b""."""
    known = frozenset(keys)
    rows = []
    for props in properties:
        unknown = [key for key in props if key not in known]
        if unknown:
            raise KeyError(f"properties {unknown} are not among the layer's keys {list(keys)}")
        rows.append(tuple(props.get(key) for key in keys))
    return LayerTemplate(name, extent, features, [{}] * len(features), keys, 0).write(rows)


class LayerTemplate:
    """A layer whose features and leading properties (`keys[:fixed]`) are fixed and whose trailing ones
    change with every writing: each feature's id, fixed tags and geometry, and the fixed values, are encoded
    once; `write` adds the changing tags and values. A tile written this way decodes to what `write_layer`
    would make of the same properties (values table in another order). Why: a grid tile with fresh measures
    is written per request at city scale, and most of `write_layer`'s time went to the codes and names."""

    def __init__(self, name: str, extent: int, features: Sequence[MvtFeature],
                 fixed: Sequence[Mapping[str, Any]], keys: Sequence[str], fixed_keys: int) -> None:
        if len(keys) > 0x7F:
            raise ValueError(f"at most 127 keys, not {len(keys)}")
        self.name, self.extent, self.keys, self.fixed_keys = name, extent, tuple(keys), fixed_keys
        self.count = len(features)
        key_index = {key: i for i, key in enumerate(keys[:fixed_keys])}
        value_index: dict[tuple[type, Any], int] = {}
        self._values: list[bytes] = []
        self._parts: list[tuple[bytes, bytes, bytes]] = []
        for feature, props in zip(features, fixed, strict=True):
            tags = bytearray()
            for key, value in props.items():
                if value is None:
                    continue
                slot = (type(value), value)
                index = value_index.get(slot)
                if index is None:
                    index = value_index[slot] = len(self._values)
                    self._values.append(_encode_value(value))
                tags.append(key_index[key])
                _put_varint(tags, index)
            head, tail = feature.encoded
            self._parts.append((head, bytes(tags), tail))
        start, end = bytearray(), bytearray()
        _put_varint(start, (15 << 3) | _VARINT)
        _put_varint(start, 2)
        _put_bytes(start, 1, name.encode("utf-8"))
        for key in keys:
            _put_bytes(end, 3, key.encode("utf-8"))
        for value in self._values:
            _put_bytes(end, 4, value)
        self._start, self._keys_and_fixed_values = bytes(start), bytes(end)

    def write(self, changing: Sequence[Sequence[Any]]) -> bytes:
        """The layer with `changing[i]`, feature i's values of `keys[fixed_keys:]` in order (None left out,
        as ST_AsMVT does). No feature: b""."""
        if not self.count:
            return b""
        base = len(self._values)
        value_index: dict[tuple[type, Any], int] = {}
        values: list[bytes] = []
        first_key = self.fixed_keys
        layer = bytearray(self._start)
        tag_field = (2 << 3) | _BYTES
        feature_field = (2 << 3) | _BYTES
        for (head, fixed_tags, tail), row in zip(self._parts, changing, strict=True):
            tags = bytearray(fixed_tags)
            for offset, value in enumerate(row):
                if value is None:
                    continue
                slot = (type(value), value)
                index = value_index.get(slot)
                if index is None:
                    index = value_index[slot] = base + len(values)
                    values.append(_encode_value(value))
                tags.append(first_key + offset)  # fewer than 128 keys: one byte
                if index < 0x80:
                    tags.append(index)
                else:
                    _put_varint(tags, index)
            size = len(head) + 1 + _varint_size(len(tags)) + len(tags) + len(tail)
            layer.append(feature_field)
            _put_varint(layer, size)
            layer += head
            layer.append(tag_field)
            _put_varint(layer, len(tags))
            layer += tags
            layer += tail
        layer += self._keys_and_fixed_values
        for value in values:
            _put_bytes(layer, 4, value)
        _put_varint(layer, (5 << 3) | _VARINT)
        _put_varint(layer, self.extent)
        out = bytearray()
        _put_bytes(out, 3, layer)
        return bytes(out)
