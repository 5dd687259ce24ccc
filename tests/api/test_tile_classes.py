"""The wall's measure table (`/tiles/grids/classes.json`) on the hand-drawn places and the cases of
tests/api/test_layers.py `make_cases`: every wall measure's class and value per grid, equal to the GeoJSON
layer's; `since` sends only the grids changed after a new case; an unknown stamp sends the whole table."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gis.metrics import MEASURES
from gis.store.database import Database
from tests import drawn
from tests.api.test_layers import EAST_POINT, act, by_code, layer, make_cases, report

URL = "/tiles/grids/classes.json"


@pytest.fixture
def cases(client: TestClient, users: dict, db: Database) -> dict[str, int]:
    return make_cases(client, users, db)


def table(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_table_carries_every_wall_measure_as_the_layer_does(
    client: TestClient, users: dict, cases: dict
) -> None:
    body = table(client, users["centre"], period="30d")
    wall = sorted((s for s in MEASURES.values() if s.wall is not None), key=lambda s: s.wall)
    assert [m["key"] for m in body["measures"]] == [s.key for s in wall]
    assert body["since"] is None and body["codes"] == sorted([drawn.EAST_CODE, drawn.WEST_CODE])
    assert body["grids"] == 2
    for spec in wall:
        geojson = layer(client, users["centre"], measure=spec.key, period="30d", classify="fixed")
        features = by_code(geojson)
        assert body["legends"][spec.key] == geojson["legend"], spec.key
        for i, code in enumerate(body["codes"]):
            props = features[code]["properties"]
            assert body["classes"][spec.key][i] == props["class"], (spec.key, code)
            expected = props["value"]
            got = body["values"][spec.key][i]
            assert got == (round(expected, 4) if isinstance(expected, float) else expected), (spec.key, code)
    west = body["codes"].index(drawn.WEST_CODE)
    assert body["values"]["open_cases"][west] == 2  # the layer's own figure, written out


def test_since_sends_only_the_grids_that_changed(client: TestClient, users: dict, cases: dict) -> None:
    first = table(client, users["admin"])
    client.app.state.layer_cache.values_min_interval = 0.1
    same = table(client, users["admin"], since=first["stamp"])
    assert same["since"] == first["stamp"] and same["codes"] == []
    new = report(client, users["centre"], EAST_POINT)
    act(client, users, new, ("centre", "file"))
    deadline = time.monotonic() + 5
    while (changed := table(client, users["admin"], since=first["stamp"]))["stamp"] == first["stamp"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert changed["since"] == first["stamp"]
    assert changed["codes"] == [drawn.EAST_CODE], "only the grid with the new case"
    east = first["codes"].index(drawn.EAST_CODE)
    assert changed["values"]["open_cases"] == [first["values"]["open_cases"][east] + 1]
    whole = table(client, users["admin"], since="c0.p0.o0.v0.t0")  # a stamp no longer (never) held
    assert whole["since"] is None and sorted(whole["codes"]) == sorted(first["codes"])


def test_bad_parameters_and_roles(client: TestClient, users: dict) -> None:
    for params, status in (({"period": "nope"}, 422), ({"since": " "}, 422)):
        response = client.get(URL, params=params, headers=users["admin"])
        assert response.status_code == status, (params, response.text)
        assert response.json()["detail"]
    assert client.get(URL, headers=users["worker-west"]).status_code == 403
    assert client.get(URL).status_code == 401


def test_a_shapes_tile_has_the_same_grids_with_code_and_name_only(client: TestClient, users: dict,
                                                                 cases: dict) -> None:
    from tests.api.test_tiles import Z14, get_tile

    shapes = get_tile(client, users["centre"], "grids", Z14, values="false")["grids"]
    coloured = get_tile(client, users["centre"], "grids", Z14)["grids"]
    assert {f.id for f in shapes.features} == {f.id for f in coloured.features} == {
        int(drawn.WEST_CODE), int(drawn.EAST_CODE)}
    for feature in shapes.features:
        assert set(feature.properties) == {"code", "name"} and feature.type == 3
    assert sorted(f.points() for f in shapes.features) == sorted(f.points() for f in coloured.features)
