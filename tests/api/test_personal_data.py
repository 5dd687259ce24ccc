"""A reporter's name, phone and exact address appear only where allowed, in every format (native JSON, Open311
JSON and XML, ledger CSV and Excel, GeoJSON layers and OGC features, vector tiles), for every caller; the private
residents who serve in a team appear on a grid's card only for its team and the managers above it; each
unmasked read is in the audit log.

Who sees a case's reporter (gis/permissions.py `sees_personal_data`): admins, the command centre, and the
callers whose area covers the case (its grid's workers, its community's and street's managers). Everyone else
who may read the case — planners, and the intake client that posted it — sees 欧**, 138****1234 and the
address cut to the street; the public (Open311) likewise."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import mapbox_vector_tile
import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from gis.periods import district_today
from tests.api.area_world import (
    CALLERS,
    COMMUNITY_1,
    EAST,
    FAR,
    FAR_LEADER,
    MASKED,
    REPORTER,
    VOLUNTEER,
    WEST,
    World,
    add_callers,
    add_cases,
    load_second_street,
    report,
)
from tests.conftest import _open_clone, settings_for

FULL = (REPORTER["name"], REPORTER["phone"], REPORTER["address"], "13812341234")
EVERYONE = [*CALLERS, None]
SEES = {  # case grid → callers who see its reporter unmasked
    WEST: {"admin", "centre", "street-1", "community-1", "worker-west"},
    EAST: {"admin", "centre", "street-1", "community-1"},
    FAR: {"admin", "centre", "street-2", "community-2", "worker-far"},
}
READS = {  # case grid → callers who may read the case at all (masked or not)
    WEST: SEES[WEST] | {"planner"},
    EAST: SEES[EAST] | {"planner"},
    FAR: SEES[FAR] | {"planner"},
}


@pytest.fixture(scope="module")
def world(pg_cluster, copies, drawn_template, tmp_path_factory) -> Iterator[World]:  # noqa: ANN001
    name = copies.take(drawn_template)
    database = _open_clone(pg_cluster, name)
    settings = settings_for(pg_cluster, name)
    load_second_street(settings, database, tmp_path_factory.mktemp("street2"))
    add_callers(database)
    with TestClient(create_app(settings, database=database)) as client:
        made = World(client, database)
        add_cases(made)
        made.cases["overdue"] = report(client, "centre", WEST)
        made.cases["unrouted"] = _unrouted(client)
        for action in ("file", "dispatch"):
            answer = client.post(f"/api/cases/{made.cases['overdue']}/actions", json={"action": action},
                                 headers=made.headers("centre"))
            assert answer.status_code == 200, answer.text
        with database.session() as session:
            session.execute(text("UPDATE service_case SET deadline = now() - interval '1 day' WHERE id = :id"),
                            {"id": made.cases["overdue"]})
        yield made
    database.close()
    copies.drop(name)


def _unrouted(client: TestClient) -> int:
    """A case outside every grid (the coverage layer's unrouted points)."""
    body = {"source": "hotline", "category": "exposed_rubbish", "lon": 106.530, "lat": 29.555,
            "address": REPORTER["address"], "reporter_name": REPORTER["name"], "reporter_contact": REPORTER["phone"]}
    answer = client.post("/api/cases", json=body, headers={"Authorization": "Bearer key-centre"})
    assert answer.status_code == 201 and answer.json()["grid_code"] is None, answer.text
    return answer.json()["id"]


def _no_full(body: str, where: str) -> None:
    for value in FULL:
        assert value not in body, f"{value!r} in {where}"


def _shown(case: dict) -> bool:
    """Is this case (as the API answered it) unmasked? Checks the three fields agree."""
    values = (case["reporter"]["name"], case["reporter"]["contact"], case["address"])
    if values == (REPORTER["name"], REPORTER["phone"], REPORTER["address"]):
        assert case["personal_data"] == "shown"
        return True
    assert values == (MASKED["name"], MASKED["phone"], MASKED["address"]), values
    assert case["personal_data"] == "masked"
    return False


# -- native JSON --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", EVERYONE)
@pytest.mark.parametrize("grid", [WEST, EAST, FAR])
def test_one_case_shows_its_reporter_to_its_team_and_managers_only(world: World, caller: str | None,
                                                                    grid: str) -> None:
    answer = world.client.get(f"/api/cases/{world.cases[grid]}", headers=world.headers(caller))
    if caller is None:
        assert answer.status_code == 401
    elif caller not in READS[grid]:
        assert answer.status_code == 403
        _no_full(answer.text, "a refusal")
    else:
        assert answer.status_code == 200
        assert _shown(answer.json()) == (caller in SEES[grid])


@pytest.mark.parametrize("caller", list(CALLERS))
def test_case_lists_mask_row_by_row(world: World, caller: str) -> None:
    answer = world.client.get("/api/cases", params={"limit": 500}, headers=world.headers(caller))
    assert answer.status_code == 200
    by_grid = {}
    for case in answer.json()["items"]:
        if case["id"] in {world.cases[g] for g in (WEST, EAST, FAR)}:
            by_grid[case["grid_code"]] = _shown(case)
    assert by_grid == {grid: caller in SEES[grid] for grid in (WEST, EAST, FAR) if caller in READS[grid]}
    if not any(caller in SEES[g] for g in SEES):
        _no_full(answer.text, f"{caller}'s case list")


def test_the_intake_client_reads_what_it_posted_masked(world: World) -> None:
    answer = world.client.get(f"/api/cases/{world.cases['hotline']}", headers=world.headers("hotline"))
    assert answer.status_code == 200 and not _shown(answer.json())
    mine = world.client.get("/api/cases", params={"mine": "true"}, headers=world.headers("hotline")).json()
    assert [c["id"] for c in mine["items"]] == [world.cases["hotline"]]
    _no_full(str(mine), "the intake client's own list")


def test_a_worker_reporting_outside_their_grid_gets_the_answer_masked(world: World) -> None:
    answer = world.client.post("/api/cases", headers=world.headers("worker-west"), json={
        "source": "patrol", "category": "exposed_rubbish", "lon": 106.545, "lat": 29.555,
        "address": REPORTER["address"], "reporter_name": REPORTER["name"], "reporter_contact": REPORTER["phone"]})
    assert answer.status_code == 201 and answer.json()["grid_code"] == FAR
    assert not _shown(answer.json())


def test_each_unmasked_read_is_in_the_audit_log_and_masked_reads_are_not(world: World) -> None:
    case_id = world.cases[WEST]
    world.client.get(f"/api/cases/{case_id}", headers=world.headers("community-1"))
    world.client.get(f"/api/cases/{case_id}", headers=world.headers("planner"))
    log = world.client.get("/api/audit", params={"kind": "personal_read", "limit": 1000},
                           headers=world.headers("admin")).json()["items"]
    reads = {(e["username"], e["detail"]["what"]): e for e in log}
    assert case_id in reads[("community-1", "case")]["detail"]["ids"]
    assert reads[("community-1", "case")]["path"] == f"/api/cases/{case_id}"
    assert ("planner", "case") not in reads


@pytest.mark.parametrize("caller", ["planner", "hotline"])
def test_a_cases_events_carry_no_reporter(world: World, caller: str) -> None:
    case_id = world.cases["hotline" if caller == "hotline" else WEST]
    answer = world.client.get(f"/api/cases/{case_id}/events", headers=world.headers(caller))
    assert answer.status_code == 200 and answer.json()
    _no_full(answer.text, "events")


# -- ledger: CSV and Excel ----------------------------------------------------------------------------------


def _ledger(world: World, caller: str, fmt: str, **scope: str) -> tuple[int, str]:
    today = district_today()
    answer = world.client.get(f"/api/ledger.{fmt}", headers=world.headers(caller), params={
        "from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat(), **scope})
    if answer.status_code != 200:
        return answer.status_code, answer.text
    if fmt == "csv":
        return 200, answer.content.decode("utf-8-sig")
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    cells = [str(c) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for c in row
             if c is not None]
    return 200, "\n".join(cells)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("caller", "scope", "expected"), [
    ("admin", {"community": COMMUNITY_1}, "shown"),
    ("centre", {"community": COMMUNITY_1}, "shown"),
    ("street-1", {"community": COMMUNITY_1}, "shown"),
    ("community-1", {"community": COMMUNITY_1}, "shown"),
    ("worker-west", {"grid": WEST}, "shown"),
    ("planner", {"community": COMMUNITY_1}, "masked"),
    ("street-2", {"community": COMMUNITY_1}, 403),
    ("community-2", {"community": COMMUNITY_1}, 403),
    ("worker-west", {"grid": EAST}, 403),
    ("worker-far", {"grid": WEST}, 403),
    ("hotline", {"community": COMMUNITY_1}, 403),
])
def test_ledger_files_show_reporters_only_in_the_callers_area(world: World, fmt: str, caller: str, scope: dict,
                                                             expected: str | int) -> None:
    status, body = _ledger(world, caller, fmt, **scope)
    if isinstance(expected, int):
        assert status == expected
        _no_full(body, "a refusal")
        return
    assert status == 200, body
    if expected == "shown":
        assert REPORTER["name"] in body and REPORTER["phone"] in body and REPORTER["address"] in body
    else:
        _no_full(body, f"{caller}'s ledger")
        assert MASKED["name"] in body and MASKED["phone"] in body and MASKED["address"] in body


def test_an_unmasked_ledger_is_in_the_audit_log_and_a_masked_one_is_not(world: World) -> None:
    assert _ledger(world, "community-1", "csv", community=COMMUNITY_1)[0] == 200
    assert _ledger(world, "planner", "csv", community=COMMUNITY_1)[0] == 200
    log = world.client.get("/api/audit", params={"kind": "personal_read", "limit": 1000},
                           headers=world.headers("admin")).json()["items"]
    ledgers = {e["username"]: e["detail"]["ids"] for e in log if e["detail"]["what"] == "ledger"}
    assert world.cases[WEST] in ledgers["community-1"] and "planner" not in ledgers


# -- Open311: JSON and XML ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("caller", EVERYONE)
def test_open311_never_shows_a_reporter_to_anyone(world: World, fmt: str, caller: str | None) -> None:
    listing = world.client.get(f"/open311/v2/requests.{fmt}", headers=world.headers(caller))
    one = world.client.get(f"/open311/v2/requests/{world.cases[WEST]}.{fmt}", headers=world.headers(caller))
    assert listing.status_code == one.status_code == 200
    for body in (listing.text, one.text):
        _no_full(body, f"Open311 {fmt} for {caller}")
        assert MASKED["address"] in body  # the address, cut to its street


# -- GeoJSON and vector tiles -------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", ["admin", "centre", "planner"])
def test_layers_and_features_carry_no_reporter(world: World, caller: str) -> None:
    headers = world.headers(caller)
    overdue = world.client.get("/api/layers/overdue", headers=headers)
    assert overdue.status_code == 200
    assert world.cases["overdue"] in [f["id"] for f in overdue.json()["features"]]  # the case is there …
    coverage = world.client.get("/api/layers/coverage", headers=headers)
    unrouted = [f["properties"] for f in coverage.json()["features"] if f["properties"]["kind"] == "unrouted_case"]
    assert [p["id"] for p in unrouted] == [world.cases["unrouted"]]
    assert unrouted[0]["address"] == MASKED["address"]
    for path in ("/api/layers/grids", "/ogc/collections/buildings/items", "/ogc/collections/grids/items"):
        answer = world.client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.text)
        _no_full(answer.text, path)
    for answer, what in ((overdue, "overdue"), (coverage, "coverage")):
        _no_full(answer.text, what)  # … without its reporter


@pytest.mark.parametrize("caller", ["admin", "centre", "planner"])
@pytest.mark.parametrize("zxy", [(14, 13039, 6782), (12, 3259, 1695)])
def test_vector_tiles_carry_no_reporter(world: World, caller: str, zxy: tuple[int, int, int]) -> None:
    z, x, y = zxy
    answer = world.client.get(f"/tiles/cases/{z}/{x}/{y}.mvt", headers=world.headers(caller))
    assert answer.status_code == 200
    layers = mapbox_vector_tile.decode(answer.content)
    features = [f for layer in layers.values() for f in layer["features"]]
    assert features  # open cases (one by one from zoom 14, per grid below) are there …
    values = " ".join(str(v) for f in features for v in f["properties"].values())
    _no_full(values, f"tile {zxy}")  # … without their reporter
    assert not {"reporter_name", "reporter_contact", "address", "description"} & {
        k for f in features for k in f["properties"]}


@pytest.mark.parametrize("caller", ["street-1", "community-1", "worker-west", "worker-far", "hotline", None])
def test_area_roles_and_the_intake_client_read_no_layer_or_tile(world: World, caller: str | None) -> None:
    for path in ("/api/layers/overdue", "/api/layers/coverage", "/tiles/cases/14/13039/6782.mvt"):
        assert world.client.get(path, headers=world.headers(caller)).status_code == (401 if caller is None else 403)


# -- the grid card: notice board and private residents ------------------------------------------------------

TEAM_SEES = {"admin", "centre", "street-2", "community-2", "worker-far"}


@pytest.mark.parametrize("caller", EVERYONE)
def test_a_grid_card_names_volunteers_only_to_the_team_and_managers_above(world: World, caller: str | None) -> None:
    answer = world.client.get(f"/api/grids/{FAR}", headers=world.headers(caller))
    if caller is None:
        assert answer.status_code == 401
        return
    assert answer.status_code == 200
    team = answer.json()["properties"]["team"]
    assert team["leader"] == FAR_LEADER[0] and team["private_members"] == 1
    board = [(m["name"], m.get("phone")) for m in team["members"] if m["role"] in ("leader", "grid_worker")]
    assert FAR_LEADER in board and ("卫网格员", "13700000008") in board  # the notice board, with phones
    if caller in TEAM_SEES:
        assert [m["name"] for m in team["members"] if m["role"] == "volunteer"] == [VOLUNTEER[0]]
    else:
        assert VOLUNTEER[0] not in answer.text and VOLUNTEER[1] not in answer.text
    assert VOLUNTEER[1] not in answer.text  # a private resident's phone: never


def test_a_volunteer_shown_is_in_the_audit_log(world: World) -> None:
    world.client.get(f"/api/grids/{FAR}", headers=world.headers("worker-far"))
    world.client.get(f"/api/grids/{FAR}", headers=world.headers("planner"))
    log = world.client.get("/api/audit", params={"kind": "personal_read", "limit": 1000},
                           headers=world.headers("admin")).json()["items"]
    whom = {e["username"] for e in log if e["detail"]["what"] == "team_member"}
    assert "worker-far" in whom and "planner" not in whom


def test_the_grid_layer_and_outlines_name_no_private_resident(world: World) -> None:
    for path, headers in (("/api/grids", {}), ("/api/layers/grids", world.headers("planner")),
                          ("/ogc/collections/grids/items", {})):
        body = world.client.get(path, headers=headers).text
        assert VOLUNTEER[0] not in body and VOLUNTEER[1] not in body, path
