"""gis.mvt against the `mapbox-vector-tile` package: a tile it encodes is read back feature by feature,
and a layer written again with other properties decodes to the same geometry and the new properties."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from gis.mvt import LayerTemplate, MvtFeature, read_layer, write_layer

SQUARE = "POLYGON ((10 10, 200 10, 200 200, 10 200, 10 10))"
HOLED = "POLYGON ((300 300, 900 300, 900 900, 300 900, 300 300), (400 400, 400 500, 500 500, 500 400, 400 400))"


def encoded() -> bytes:
    return mapbox_vector_tile.encode([{"name": "grids", "features": [
        {"geometry": SQUARE, "id": 500103001001001, "properties": {"code": "500103001001001", "name": "西网格"}},
        {"geometry": HOLED, "id": 7, "properties": {"code": "7", "name": "东", "n": -3, "x": 1.5, "ok": True}},
    ]}], default_options={"y_coord_down": True})


def test_a_tile_is_read_feature_by_feature() -> None:
    name, extent, features = read_layer(encoded())
    assert (name, extent) == ("grids", 4096)
    assert [f.id for f in features] == [500103001001001, 7]
    assert [f.type for f in features] == [3, 3]
    assert features[0].properties == {"code": "500103001001001", "name": "西网格"}
    assert features[1].properties == {"code": "7", "name": "东", "n": -3, "x": 1.5, "ok": True}
    assert read_layer(b"") == ("", 4096, [])


def test_a_layer_written_again_keeps_the_geometry_and_carries_the_new_properties() -> None:
    _name, extent, features = read_layer(encoded())
    props = [{"code": "500103001001001", "value": 2.0, "class": 1, "colour": "#abcdef"},
             {"code": "7", "value": None, "class": None, "colour": "#bdbdbd"}]
    tile = write_layer("grids", extent, features, props, ("code", "value", "class", "colour"))
    original = mapbox_vector_tile.decode(encoded(), default_options={"y_coord_down": True})["grids"]
    again = mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})["grids"]
    assert again["extent"] == 4096
    assert [f["geometry"] for f in again["features"]] == [f["geometry"] for f in original["features"]]
    assert [f["id"] for f in again["features"]] == [500103001001001, 7]
    assert again["features"][0]["properties"] == props[0]
    assert again["features"][1]["properties"] == {"code": "7", "colour": "#bdbdbd"}  # None left out
    assert write_layer("grids", 4096, [], [], ("code",)) == b""


def test_an_unknown_key_is_refused() -> None:
    feature = MvtFeature(1, 3, {}, b"")
    with pytest.raises(KeyError):
        write_layer("grids", 4096, [feature], [{"other": 1}], ("code",))


def test_a_template_writes_the_fixed_and_the_changing_properties() -> None:
    _name, extent, features = read_layer(encoded())
    keys = ("code", "name", "value", "class", "colour")
    fixed = [{"code": f.properties["code"], "name": f.properties.get("name")} for f in features]
    template = LayerTemplate("grids", extent, features, fixed, keys, 2)
    options = {"y_coord_down": True}
    original = mapbox_vector_tile.decode(encoded(), default_options=options)["grids"]
    for changing in ([(2.0, 1, "#abcdef"), (None, None, "#bdbdbd")], [(0.5, 0, "#abcdef"), (0.5, 0, "#abcdef")],
                     [(3, 4, "#123456"), ("A", None, None)]):
        props = [{**f, **dict(zip(keys[2:], row, strict=True))} for f, row in zip(fixed, changing, strict=True)]
        again = mapbox_vector_tile.decode(template.write(changing), default_options=options)["grids"]
        assert [f["geometry"] for f in again["features"]] == [f["geometry"] for f in original["features"]]
        assert [f["id"] for f in again["features"]] == [500103001001001, 7]
        assert [f["properties"] for f in again["features"]] == [
            {k: v for k, v in p.items() if v is not None} for p in props]  # None left out
    assert LayerTemplate("grids", 4096, [], [], keys, 2).write([]) == b""


def test_a_template_with_many_distinct_values_indexes_past_one_byte() -> None:
    feature = MvtFeature(1, 3, {}, read_layer(encoded())[2][0].geometry)
    features = [MvtFeature(i, 3, {}, feature.geometry) for i in range(300)]
    fixed = [{"code": str(i)} for i in range(300)]
    template = LayerTemplate("grids", 4096, features, fixed, ("code", "value"), 1)
    decoded = mapbox_vector_tile.decode(template.write([(i / 7,) for i in range(300)]))["grids"]["features"]
    assert [f["properties"] for f in decoded] == [{"code": str(i), "value": i / 7} for i in range(300)]
