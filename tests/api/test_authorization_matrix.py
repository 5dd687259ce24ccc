"""The authorization matrix: every route the app serves (API, OGC, pages, static mounts) × every role and the
anonymous caller × an object in the caller's own area and one in another → exactly the allowed answer.

The routes are read from the app itself (`app.routes`, walking included routers, so routes left out of the
OpenAPI document count too), and `RULES` must name each one: a new route without a rule fails
`test_every_route_has_a_rule`. Each rule says who may call the route (`expect`) and how to call it (`call`)
with one object of each kind it is asked about (`objects`: "own" and "foreign" for area-bound routes).

Objects (tests/api/area_world.py): a caller's own case, grid, community, building are in street 1 (the WEST
grid for the grid worker); a foreign one is in street 2 (FAR), or for the grid worker the EAST grid of their
own community; the intake client's own case is the one it posted, any other is foreign. Answers: 2xx (the
rule names the code), 401 without credentials, 403 for a role or an area that may not, 404 where the rule
says so. A few writes whose success needs a particular state (a plan's approval, application, rollback) are
checked at the gate only: the allowed roles get past it (neither 401 nor 403), the others get 403.

The lists are checked for foreign rows separately (`test_no_foreign_row_in_any_list`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.routing import Mount

from api.app import create_app
from api.pages.assets import SERVED_SUFFIXES
from gis.periods import district_today
from gis.store.users import create_user
from tests import drawn
from tests.api.area_world import (
    COMMUNITY_1,
    COMMUNITY_2,
    EAST,
    FAR,
    POINTS,
    ROLE_CALLER,
    STREET_1,
    STREET_2,
    WEST,
    World,
    add_callers,
    add_cases,
    load_second_street,
    report,
)
from tests.api.conftest import session_cookie
from tests.conftest import _open_clone, settings_for

ROLES = ("admin", "command_centre", "planner", "street_officer", "community_manager", "grid_worker",
         "open311_client", None)
READ_ALL = {"admin", "command_centre", "planner"}
AREA_ROLES = {"street_officer", "community_manager", "grid_worker"}
MANAGER_ROLES = {"street_officer", "community_manager"}
CREATORS = {"admin", "command_centre", "street_officer", "community_manager", "grid_worker", "open311_client"}
DESK = {"admin", "command_centre", "street_officer", "community_manager"}
PLAN_READERS = {"admin", "command_centre", "planner"}
PLANNERS = {"admin", "planner"}
GATE = "past the gate"  # neither 401 nor 403
OWN_FOREIGN = ("own", "foreign")
ONE = ("-",)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
_serial = count(1)


# -- the world the matrix asks about -------------------------------------------------------------------------


@dataclass
class Ctx:
    world: World
    cookies: dict[str, str]
    photos: dict[int, int] = field(default_factory=dict)  # case id → a photo id
    plans: dict[str, int] = field(default_factory=dict)  # "read", "write" → plan id
    buildings: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> TestClient:
        return self.world.client

    def case(self, role: str | None, which: str) -> int:
        cases = self.world.cases
        if role == "open311_client":
            return cases["hotline"] if which == "own" else cases[WEST]
        return cases[self.grid(role, which)]

    def grid(self, role: str | None, which: str) -> str:
        if which == "own":
            return WEST
        return EAST if role == "grid_worker" else FAR

    def community(self, which: str) -> str:
        return COMMUNITY_1 if which == "own" else COMMUNITY_2

    def building(self, role: str | None, which: str) -> str:
        return {WEST: "B-WEST", EAST: "B-EAST", FAR: "B-FAR"}[self.grid(role, which)]

    def send(self, role: str | None, method: str, url: str, *, page: bool = False, own_session: bool = False,
             **kwargs: Any) -> httpx.Response:
        """One request as `role` (its API key, or for a page its session cookie — with `own_session` a new one,
        for a request that ends it); no cookie outlives it."""
        headers = dict(kwargs.pop("headers", {}))
        self.client.cookies.clear()
        if role is not None and page:
            cookie = (session_cookie(self.world.database, ROLE_CALLER[role])["gridmap_session"] if own_session
                      else self.cookies[role])
            self.client.cookies.set("gridmap_session", cookie)
        elif role is not None:
            headers["Authorization"] = f"Bearer key-{ROLE_CALLER[role]}"
        try:
            return self.client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
        finally:
            self.client.cookies.clear()

    def fresh_case(self, grid: str | None, *, dispatched: bool = False) -> int:
        """A new case reported by the command centre in `grid` (None: outside every grid)."""
        lon, lat = POINTS[grid] if grid else (106.530, 29.555)
        answer = self.client.post("/api/cases", headers={"Authorization": "Bearer key-centre"}, json={
            "source": "hotline", "category": "exposed_rubbish", "lon": lon, "lat": lat})
        assert answer.status_code == 201, answer.text
        case_id = answer.json()["id"]
        for action in ("file", "dispatch") if dispatched else ():
            step = self.client.post(f"/api/cases/{case_id}/actions", json={"action": action},
                                    headers={"Authorization": "Bearer key-centre"})
            assert step.status_code == 200, step.text
        return case_id

    def throwaway_user(self) -> str:
        username = f"someone-{next(_serial)}"
        with self.world.database.session() as session:
            create_user(session, username, "grid_worker", grid_code=WEST, key=f"key-{username}")
        return username


def _buildings_in_street_2(settings: Any, database: Any, folder: Any) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from api.cli import import_file

    frame = gpd.GeoDataFrame({"code": ["B-FAR"], "address": ["远方路1号"], "households": [12], "residents": [30],
                              "floors": [5], "party_group": [None], "party_group_leader": [None]},
                             geometry=[Point(*POINTS[FAR])], crs="EPSG:4326")
    import_file(settings, "buildings", drawn.write(frame, folder / "b2.geojson"), database=database)


@pytest.fixture(scope="module")
def ctx(pg_cluster, copies, drawn_template, tmp_path_factory) -> Iterator[Ctx]:  # noqa: ANN001
    name = copies.take(drawn_template)
    database = _open_clone(pg_cluster, name)
    settings = settings_for(pg_cluster, name)
    folder = tmp_path_factory.mktemp("street2")
    load_second_street(settings, database, folder)
    _buildings_in_street_2(settings, database, folder)
    add_callers(database)
    with database.session() as session:
        create_user(session, "planner-2", "planner", key="key-planner-2")
    with TestClient(create_app(settings, database=database)) as client:
        world = World(client, database)
        add_cases(world)
        made = Ctx(world, {role: session_cookie(database, ROLE_CALLER[role])["gridmap_session"]
                           for role in ROLES if role})
        for case_id in world.cases.values():
            answer = client.post(f"/api/cases/{case_id}/photos", files={"file": ("x.png", PNG, "image/png")},
                                 headers={"Authorization": "Bearer key-centre"})
            assert answer.status_code == 201, answer.text
            made.photos[case_id] = answer.json()["id"]
        for purpose in ("read", "write"):
            answer = client.post("/api/plans", json={"area": COMMUNITY_1, "name": f"plan {purpose}"},
                                 headers={"Authorization": "Bearer key-planner-2"})
            assert answer.status_code == 201, answer.text
            made.plans[purpose] = answer.json()["id"]
        for community in (COMMUNITY_1, COMMUNITY_2):
            answer = client.post("/api/workdays", json=_work_day(community),
                                 headers={"Authorization": "Bearer key-centre"})
            assert answer.status_code == 201, answer.text
        yield made
    database.close()
    copies.drop(name)


def _work_day(community: str) -> dict[str, Any]:
    return {"scope": "community", "community_code": community, "title": "社区工作日",
            "date": (district_today() + timedelta(days=7)).isoformat()}


# -- expectations ----------------------------------------------------------------------------------------------

Expect = Callable[[str | None, str], int | str]


def public(status: int = 200) -> Expect:
    return lambda role, which: status


def signed_in(status: int = 200) -> Expect:
    return lambda role, which: 401 if role is None else status


def roles(allowed: set[str], status: int | str = 200, anonymous: int = 401) -> Expect:
    return lambda role, which: anonymous if role is None else (status if role in allowed else 403)


def in_area(everywhere: set[str], area_bound: set[str], status: int = 200) -> Expect:
    """`everywhere` roles for any object; `area_bound` roles for their own only; others 403."""
    def expect(role: str | None, which: str) -> int:
        if role is None:
            return 401
        if role in everywhere or (role in area_bound and which == "own"):
            return status
        return 403
    return expect


CASE_READERS = in_area(READ_ALL, AREA_ROLES | {"open311_client"})


# -- how each route is called ----------------------------------------------------------------------------------

Call = Callable[[Ctx, str | None, str], httpx.Response]


def get(url: Callable[[Ctx, str | None, str], str] | str, *, page: bool = False, own_session: bool = False,
        **params: Any) -> Call:
    def call(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
        return ctx.send(role, "GET", url(ctx, role, which) if callable(url) else url, page=page,
                        own_session=own_session, params=params)
    return call


def _ledger(fmt: str) -> Call:
    def call(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
        today = district_today()
        scope = {"grid": ctx.grid(role, which)} if role == "grid_worker" else {"community": ctx.community(which)}
        return ctx.send(role, "GET", f"/api/ledger.{fmt}", params={
            "from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat(), **scope})
    return call


def _create_case(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    lon, lat = POINTS[ctx.grid(role, which)]
    return ctx.send(role, "POST", "/api/cases", json={"source": "hotline", "category": "exposed_rubbish",
                                                      "lon": lon, "lat": lat})


def _act(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    worker = role == "grid_worker"
    case_id = ctx.fresh_case(ctx.grid(role, which), dispatched=worker)
    return ctx.send(role, "POST", f"/api/cases/{case_id}/actions", json={"action": "accept" if worker else "file"})


def _route(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    case_id = ctx.fresh_case(None)
    return ctx.send(role, "POST", f"/api/cases/{case_id}/route", json={"grid_code": ctx.grid(role, which)})


def _add_photo(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", f"/api/cases/{ctx.case(role, which)}/photos",
                    files={"file": ("x.png", PNG, "image/png")})


def _photo(ctx: Ctx, role: str | None, which: str) -> str:
    case_id = ctx.case(role, which)
    return f"/api/cases/{case_id}/photos/{ctx.photos[case_id]}"


def _admin_write(action: str) -> Call:
    def call(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
        body = {"password": "a-long-new-password-1"} if action == "password" else None
        return ctx.send(role, "POST", f"/api/users/{ctx.throwaway_user()}/{action}", json=body)
    return call


def _plan(suffix: str = "", purpose: str = "read") -> Callable[[Ctx, str | None, str], str]:
    return lambda ctx, role, which: f"/api/plans/{ctx.plans[purpose]}{suffix}"


def _plan_write(method: str, suffix: str, body: dict[str, Any] | None = None) -> Call:
    def call(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
        return ctx.send(role, method, f"/api/plans/{ctx.plans['write']}{suffix}", json=body)
    return call


def _create_plan(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/plans", json={"area": ctx.community(which), "name": "矩阵方案"})


def _import_plan(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/plans/import", data={"area": ctx.community(which), "name": "导入"},
                    files={"file": ("plan.geojson", b"not a file", "application/geo+json")})


def _schedule(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/workdays", json=_work_day(ctx.community(which)))


def _attendance(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    """A session today in the caller's own or a foreign community (made by the command centre), one cadre."""
    with ctx.world.database.session() as session:
        user_id = session.execute(text("SELECT id FROM app_user WHERE username = 'centre'")).scalar_one()
    day = district_today().isoformat()
    made = ctx.client.post("/api/workdays", headers={"Authorization": "Bearer key-centre"}, json={
        **_work_day(ctx.community(which)), "date": day, "assignees": [{"user_id": user_id}]})
    assert made.status_code == 201, made.text
    work_day = made.json()
    return ctx.send(role, "PUT", f"/api/workdays/{work_day['id']}/sessions/{day}/attendance", json={
        "attendance": [{"assignee_id": work_day["assignees"][0]["assignee_id"], "attended": True}]})


FOCUS_KEEPERS = {"admin", "command_centre"} | AREA_ROLES


def _focus_household(ctx: Ctx, role: str | None, which: str, *, fresh: bool = False) -> int:
    """A focus household (paired) at the caller's own or a foreign building, made by the command centre; one
    per building, or a new one with `fresh` (for a write that can be made once: end, unpair)."""
    made: dict[str, int] = ctx.__dict__.setdefault("focus", {})
    building = ctx.building(role, which)
    if fresh or building not in made:
        answer = ctx.client.post("/api/focus/households", headers={"Authorization": "Bearer key-centre"}, json={
            "building_code": building, "household": "1-1", "person_name": "矩阵对象", "category": "hardship",
            "helper": {"name": "矩阵志愿者"}})
        assert answer.status_code == 201, answer.text
        if fresh:
            return answer.json()["id"]
        made[building] = answer.json()["id"]
    return made[building]


def _focus_write(suffix: str, body: dict[str, Any] | None, *, method: str = "POST", fresh: bool = False) -> Call:
    def call(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
        household = _focus_household(ctx, role, which, fresh=fresh)
        return ctx.send(role, method, f"/api/focus/households/{household}{suffix}", json=body)
    return call


def _focus_create(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/focus/households", json={
        "building_code": ctx.building(role, which), "household": "2-2", "person_name": "矩阵新对象",
        "category": "lonely_elderly"})


def _link(kind: str) -> Call:
    """Merge (or link as a repeat) a fresh case in the caller's own or a foreign grid with an earlier one there."""
    def call(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
        earlier = ctx.fresh_case(ctx.grid(role, which))
        later = ctx.fresh_case(ctx.grid(role, which))
        if kind == "merge":
            return ctx.send(role, "POST", f"/api/cases/{later}/merge", json={"into": earlier, "message": "重复"})
        return ctx.send(role, "POST", f"/api/cases/{later}/repeat-of", json={"of": earlier})
    return call


def _long_problem(ctx: Ctx, role: str | None, which: str) -> int:
    """A long-standing problem in the caller's own or a foreign grid, made by the command centre."""
    answer = ctx.client.post("/api/long-problems", headers={"Authorization": "Bearer key-centre"}, json={
        "title": "矩阵老大难", "grid_code": ctx.grid(role, which), "owner_department": "街道",
        "review_on": district_today().isoformat()})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _add_long_problem(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/long-problems", json={
        "title": "矩阵老大难", "community_code": ctx.community(which), "owner_department": "街道",
        "review_on": district_today().isoformat()})


def _change_long_problem(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "PATCH", f"/api/long-problems/{_long_problem(ctx, role, which)}",
                    json={"status": "in_progress"})


def _visit(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/visits", json={"building_code": ctx.building(role, which),
                                                       "households_reached": 1})


def _open311_post(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    lon, lat = POINTS[ctx.grid(role, which)]
    return ctx.send(role, "POST", "/open311/v2/requests.json", data={
        "service_code": "exposed_rubbish", "lat": str(lat), "long": str(lon), "description": "垃圾"})


def _post(url: str, *, page: bool = False, **kwargs: Any) -> Call:
    return lambda ctx, role, which: ctx.send(role, "POST", url, page=page, **kwargs)


def _liaison_body(ctx: Ctx, role: str | None, which: str) -> dict[str, Any]:
    with ctx.world.database.session() as session:
        person = session.execute(text("SELECT min(id) FROM person")).scalar_one()
    return {"person_id": person, "scope": "grid", "codes": [ctx.grid(role, which)], "from_date": "2026-03-01"}


def _assign_liaison(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/liaisons", json=_liaison_body(ctx, role, which))


def _end_liaison(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    made = ctx.client.post("/api/liaisons", json=_liaison_body(ctx, role, which),
                           headers={"Authorization": "Bearer key-centre"})
    assert made.status_code == 201, made.text
    return ctx.send(role, "POST", f"/api/liaisons/{made.json()['id']}/end", json={"to_date": "2026-03-31"})


def _card_report(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    """The public report form: anyone, from this site's page (its Origin); a page's caller is its cookie."""
    return ctx.send(role, "POST", f"/card/{WEST}/report", page=True, headers={"Origin": "http://testserver"},
                    data={"category": "exposed_rubbish", "description": "矩阵"})


def _branch(ctx: Ctx, grid: str) -> int:
    with ctx.world.database.session() as session:
        return session.execute(text("SELECT id FROM party_org WHERE level = 'grid_branch' AND place_code = :g "
                                    "AND valid_to IS NULL"), {"g": grid}).scalar_one()


PARTY_EDITORS = in_area({"admin", "command_centre"}, MANAGER_ROLES)


def _party_member(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/party/members", json={
        "branch_id": _branch(ctx, ctx.grid(role, which)), "person_name": f"矩阵党员{next(_serial)}",
        "from_date": "2025-01-01"})


def _party_import(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    content = f"person_name,branch_code,from_date\n矩阵党员{next(_serial)},{ctx.grid(role, which)},2025-01-01\n"
    return ctx.send(role, "POST", "/api/party/members/import",
                    files={"file": ("members.csv", content.encode(), "text/csv")})


def _party_grade(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", f"/api/party/branches/{_branch(ctx, ctx.grid(role, which))}/grades",
                    json={"grade": "average", "graded_on": "2025-01-01"})


def _pairing(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    """Pair the caller's own (WEST) or a foreign branch, graded weak, with EAST, graded advanced."""
    weak, strong = _branch(ctx, ctx.grid(role, which)), _branch(ctx, EAST)
    for branch, grade in ((weak, "weak"), (strong, "advanced")):
        if branch != strong or grade == "advanced":
            body = {"grade": grade, "graded_on": district_today().isoformat()}
            graded = ctx.client.post(f"/api/party/branches/{branch}/grades", json=body,
                                     headers={"Authorization": "Bearer key-centre"})
            assert graded.status_code == 201, graded.text
    return ctx.send(role, "POST", "/api/party/pairings", json={"weak_branch_id": weak, "strong_branch_id": strong})


def _commitment(ctx: Ctx, role: str | None, which: str) -> int:
    """A fresh commitment of the caller's own or a foreign grid's branch, made by the command centre."""
    answer = ctx.client.post("/api/commitments", headers={"Authorization": "Bearer key-centre"}, json={
        "holder_kind": "branch", "branch_id": _branch(ctx, ctx.grid(role, which)), "title": "矩阵承诺",
        "due_on": (district_today() + timedelta(days=30)).isoformat()})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _make_commitment(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    return ctx.send(role, "POST", "/api/commitments", json={
        "holder_kind": "branch", "branch_id": _branch(ctx, ctx.grid(role, which)), "title": "矩阵承诺",
        "due_on": (district_today() + timedelta(days=30)).isoformat()})


def _evaluation_import(ctx: Ctx, role: str | None, which: str) -> httpx.Response:
    content = f"year,subject,code,score\n2026,grid,{ctx.grid(role, which)},90\n"
    return ctx.send(role, "POST", "/api/evaluations/import", files={"file": ("s.csv", content.encode(), "text/csv")})


def _report_url(suffix: str = "", page: bool = False) -> Call:
    return lambda c, r, w: c.send(r, "GET", f"/{'' if page else 'api/'}open-report{suffix}", page=page,
                                  params={"grid": c.grid(r, w), "half": "2026H1"})


_SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]]}
_RIGHT = {"type": "Polygon", "coordinates": [[[2, 0], [3, 0], [3, 1], [2, 1], [2, 0]]]}
_CUT = {"type": "LineString", "coordinates": [[1, -1], [1, 2]]}


@dataclass(frozen=True)
class Rule:
    expect: Expect
    call: Call
    objects: tuple[str, ...] = ONE


LAYER = roles(READ_ALL)
TODAY_TILE = "/tiles/cases/14/13039/6782.mvt"

RULES: dict[tuple[str, str], Rule] = {
    # health, accounts, audit
    ("GET", "/healthz"): Rule(public(), get("/healthz")),
    ("POST", "/api/session"): Rule(public(422), _post("/api/session", json={})),  # public: the body decides
    ("GET", "/api/session"): Rule(signed_in(), get("/api/session")),
    ("DELETE", "/api/session"): Rule(signed_in(), lambda ctx, role, which: ctx.send(role, "DELETE", "/api/session")),
    ("POST", "/api/users/{username}/password"): Rule(roles({"admin"}), _admin_write("password")),
    ("POST", "/api/users/{username}/disable"): Rule(roles({"admin"}), _admin_write("disable")),
    ("GET", "/api/audit"): Rule(roles({"admin"}), get("/api/audit")),
    # places: outlines public; a grid's card and buildings for every signed-in role, any area
    ("GET", "/api/grids"): Rule(public(), get("/api/grids")),
    ("GET", "/api/grids/{code}"): Rule(signed_in(), get(lambda c, r, w: f"/api/grids/{c.grid(r, w)}"), OWN_FOREIGN),
    ("GET", "/api/grids/{code}/buildings"): Rule(
        signed_in(), get(lambda c, r, w: f"/api/grids/{c.grid(r, w)}/buildings"), OWN_FOREIGN),
    ("GET", "/api/buildings"): Rule(signed_in(), get("/api/buildings", bbox="106.50,29.55,106.55,29.56")),
    # cases
    ("GET", "/api/cases"): Rule(signed_in(), get("/api/cases")),
    ("POST", "/api/cases"): Rule(roles(CREATORS, 201), _create_case, OWN_FOREIGN),
    ("GET", "/api/cases/{case_id}"): Rule(CASE_READERS, get(lambda c, r, w: f"/api/cases/{c.case(r, w)}"),
                                          OWN_FOREIGN),
    ("GET", "/api/cases/{case_id}/events"): Rule(
        CASE_READERS, get(lambda c, r, w: f"/api/cases/{c.case(r, w)}/events"), OWN_FOREIGN),
    ("POST", "/api/cases/{case_id}/actions"): Rule(
        in_area({"admin", "command_centre"}, AREA_ROLES), _act, OWN_FOREIGN),
    ("POST", "/api/cases/{case_id}/route"): Rule(roles({"admin", "command_centre"}), _route, OWN_FOREIGN),
    ("POST", "/api/cases/{case_id}/photos"): Rule(
        in_area({"admin", "command_centre"}, AREA_ROLES | {"open311_client"}, 201), _add_photo, OWN_FOREIGN),
    ("GET", "/api/cases/{case_id}/photos/{photo_id}"): Rule(CASE_READERS, get(_photo), OWN_FOREIGN),
    ("GET", "/api/categories"): Rule(public(), get("/api/categories")),
    # repeats, duplicates, long-standing problems (issue 12.3): desk decisions in the area
    ("GET", "/api/cases/{case_id}/similar"): Rule(
        CASE_READERS, get(lambda c, r, w: f"/api/cases/{c.case(r, w)}/similar"), OWN_FOREIGN),
    ("POST", "/api/cases/{case_id}/merge"): Rule(
        in_area({"admin", "command_centre"}, MANAGER_ROLES), _link("merge"), OWN_FOREIGN),
    ("POST", "/api/cases/{case_id}/repeat-of"): Rule(
        in_area({"admin", "command_centre"}, MANAGER_ROLES), _link("repeat"), OWN_FOREIGN),
    ("GET", "/api/long-problems"): Rule(roles(READ_ALL | AREA_ROLES), get("/api/long-problems")),
    ("POST", "/api/long-problems"): Rule(
        in_area({"admin", "command_centre"}, MANAGER_ROLES, 201), _add_long_problem, OWN_FOREIGN),
    ("GET", "/api/long-problems/{problem_id}"): Rule(
        in_area(READ_ALL, AREA_ROLES), get(lambda c, r, w: f"/api/long-problems/{_long_problem(c, r, w)}"),
        OWN_FOREIGN),
    ("PATCH", "/api/long-problems/{problem_id}"): Rule(
        in_area({"admin", "command_centre"}, MANAGER_ROLES), _change_long_problem, OWN_FOREIGN),
    # plans: the district's planners (not area-bound)
    ("GET", "/api/plans"): Rule(roles(PLAN_READERS), get("/api/plans")),
    ("POST", "/api/plans"): Rule(roles(PLANNERS, 201), _create_plan, OWN_FOREIGN),
    ("POST", "/api/plans/import"): Rule(roles(PLANNERS, 422), _import_plan),
    ("GET", "/api/plans/{plan_id}"): Rule(roles(PLAN_READERS), get(_plan())),
    ("PUT", "/api/plans/{plan_id}/grids"): Rule(roles(PLANNERS, GATE), _plan_write(
        "PUT", "/grids", {"type": "FeatureCollection", "features": []})),
    ("GET", "/api/plans/{plan_id}/checks"): Rule(roles(PLAN_READERS), get(_plan("/checks"))),
    ("POST", "/api/plans/{plan_id}/check"): Rule(roles(PLANNERS, GATE), _plan_write("POST", "/check")),
    ("POST", "/api/plans/{plan_id}/warnings"): Rule(roles(PLANNERS, GATE), _plan_write(
        "POST", "/warnings", {"key": "no-such-warning", "reason": "matrix"})),
    ("GET", "/api/plans/{plan_id}/balance"): Rule(roles(PLAN_READERS), get(_plan("/balance"))),
    ("GET", "/api/plans/{plan_id}/impact"): Rule(roles(PLAN_READERS), get(_plan("/impact"))),
    ("POST", "/api/plans/{plan_id}/approve"): Rule(roles(PLANNERS, GATE), _plan_write("POST", "/approve")),
    ("POST", "/api/plans/{plan_id}/apply"): Rule(roles(PLANNERS, GATE), _plan_write(
        "POST", "/apply", {"effective_date": district_today().isoformat()})),
    ("POST", "/api/plans/{plan_id}/discard"): Rule(roles(PLANNERS, GATE), _plan_write("POST", "/discard")),
    ("POST", "/api/plans/{plan_id}/rollback"): Rule(roles(PLANNERS, GATE), _plan_write("POST", "/rollback")),
    ("GET", "/api/plans/{plan_id}/export.{fmt}"): Rule(roles(PLAN_READERS), get(_plan("/export.geojson"))),
    ("GET", "/api/plans/current/{area}/export.{fmt}"): Rule(
        roles(PLAN_READERS), get(lambda c, r, w: f"/api/plans/current/{c.community(w)}/export.geojson"), OWN_FOREIGN),
    # ledger: the roles that read every place, and the area roles for their own
    ("GET", "/api/ledger.xlsx"): Rule(in_area(READ_ALL, AREA_ROLES), _ledger("xlsx"), OWN_FOREIGN),
    ("GET", "/api/ledger.csv"): Rule(in_area(READ_ALL, AREA_ROLES), _ledger("csv"), OWN_FOREIGN),
    # Open311: public reads (masked), posts with a key (the spec's 403 without one)
    ("GET", "/open311/v2/discovery.{fmt}"): Rule(public(), get("/open311/v2/discovery.json")),
    ("GET", "/open311/v2/services.{fmt}"): Rule(public(), get("/open311/v2/services.xml")),
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): Rule(
        public(), get("/open311/v2/services/exposed_rubbish.json")),
    ("GET", "/open311/v2/requests.{fmt}"): Rule(public(), get("/open311/v2/requests.xml")),
    ("POST", "/open311/v2/requests.{fmt}"): Rule(roles(CREATORS, 201, anonymous=403), _open311_post, OWN_FOREIGN),
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): Rule(
        public(), get(lambda c, r, w: f"/open311/v2/requests/{c.case(r, w)}.json"), OWN_FOREIGN),
    # map layers and tiles: the roles that read every grid
    ("GET", "/api/layers/measures"): Rule(LAYER, get("/api/layers/measures")),
    ("GET", "/api/layers/grids"): Rule(LAYER, get("/api/layers/grids")),
    ("GET", "/api/layers/legend"): Rule(LAYER, get("/api/layers/legend")),
    ("GET", "/api/layers/summary"): Rule(LAYER, get("/api/layers/summary")),
    ("GET", "/api/layers/overdue"): Rule(LAYER, get("/api/layers/overdue")),
    ("GET", "/api/layers/coverage"): Rule(LAYER, get("/api/layers/coverage")),
    ("GET", "/api/layers/version"): Rule(LAYER, get("/api/layers/version")),
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"): Rule(
        LAYER, get(lambda c, r, w: TODAY_TILE if w == "cases" else "/tiles/grids/14/13039/6782.mvt"),
        ("cases", "grids")),
    ("GET", "/tiles/grids/classes.json"): Rule(LAYER, get("/tiles/grids/classes.json")),
    ("GET", "/api/basemap"): Rule(public(), get("/api/basemap")),
    ("GET", "/basemap/{z}/{x}/{y}.{ext}"): Rule(public(404), get("/basemap/14/13039/6782.png")),  # none configured
    # work days and visits: managers schedule in their area, workers visit in their grids
    ("POST", "/api/workdays"): Rule(in_area({"admin", "command_centre"}, {"street_officer", "community_manager"}, 201),
                                    _schedule, OWN_FOREIGN),
    ("GET", "/api/workdays"): Rule(signed_in(), get("/api/workdays")),
    ("POST", "/api/visits"): Rule(in_area({"admin", "command_centre"}, AREA_ROLES, 201), _visit, OWN_FOREIGN),
    ("GET", "/api/visits/summary"): Rule(signed_in(), get("/api/visits/summary")),
    # focus households: by name for the keepers in their area, counts for the area's readers
    ("POST", "/api/focus/households"): Rule(in_area({"admin", "command_centre"}, AREA_ROLES, 201), _focus_create,
                                            OWN_FOREIGN),
    ("GET", "/api/focus/households"): Rule(roles(FOCUS_KEEPERS), get("/api/focus/households")),
    ("GET", "/api/focus/households/{household_id}"): Rule(
        in_area({"admin", "command_centre"}, AREA_ROLES), _focus_write("", None, method="GET"), OWN_FOREIGN),
    ("PATCH", "/api/focus/households/{household_id}"): Rule(
        in_area({"admin", "command_centre"}, AREA_ROLES), _focus_write("", {"note": "矩阵"}, method="PATCH"),
        OWN_FOREIGN),
    ("POST", "/api/focus/households/{household_id}/end"): Rule(
        in_area({"admin", "command_centre"}, AREA_ROLES), _focus_write("/end", {}, fresh=True), OWN_FOREIGN),
    ("POST", "/api/focus/households/{household_id}/pair"): Rule(
        in_area({"admin", "command_centre"}, AREA_ROLES), _focus_write("/pair", {"helper": {"name": "矩阵党员"}}),
        OWN_FOREIGN),
    ("POST", "/api/focus/households/{household_id}/unpair"): Rule(
        in_area({"admin", "command_centre"}, AREA_ROLES), _focus_write("/unpair", {}, fresh=True), OWN_FOREIGN),
    ("POST", "/api/focus/households/{household_id}/visits"): Rule(
        in_area({"admin", "command_centre"}, AREA_ROLES, 201), _focus_write("/visits", {}), OWN_FOREIGN),
    ("GET", "/api/focus/summary"): Rule(roles(READ_ALL | AREA_ROLES), get("/api/focus/summary")),
    # rosters are published; attendance by managers in their area; the report for the area roles and readers
    ("GET", "/api/workdays/roster"): Rule(public(), get("/api/workdays/roster")),
    ("PUT", "/api/workdays/{work_day_id}/sessions/{day}/attendance"): Rule(
        in_area({"admin", "command_centre"}, {"street_officer", "community_manager"}), _attendance, OWN_FOREIGN),
    ("GET", "/api/workdays/report"): Rule(roles(READ_ALL | AREA_ROLES), get(
        "/api/workdays/report", **{"from": "2026-01-01", "to": "2026-01-31"})),
    ("GET", "/api/workdays/report.csv"): Rule(roles(READ_ALL | AREA_ROLES), get(
        "/api/workdays/report.csv", **{"from": "2026-01-01", "to": "2026-01-31"})),
    # OGC API - Features: communities and grids public, buildings for the signed-in
    ("GET", "/ogc"): Rule(public(), get("/ogc")),
    ("GET", "/ogc/"): Rule(public(), get("/ogc/")),
    ("GET", "/ogc/conformance"): Rule(public(), get("/ogc/conformance")),
    ("GET", "/ogc/api"): Rule(public(), get("/ogc/api")),
    ("GET", "/ogc/collections"): Rule(public(), get("/ogc/collections")),
    ("GET", "/ogc/collections/{collection_id}"): Rule(
        lambda role, which: 401 if which == "buildings" and role is None else 200,
        get(lambda c, r, w: f"/ogc/collections/{w}"), ("grids", "buildings")),
    ("GET", "/ogc/collections/{collection_id}/items"): Rule(
        lambda role, which: 401 if which == "buildings" and role is None else 200,
        get(lambda c, r, w: f"/ogc/collections/{w}/items"), ("grids", "buildings")),
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): Rule(
        lambda role, which: 401 if which == "buildings" and role is None else 200,
        get(lambda c, r, w: f"/ogc/collections/{w}/items/" + ("B-WEST" if w == "buildings" else WEST)),
        ("grids", "buildings")),
    # liaisons (联络员): assigned by the command centre and admins anywhere, street officers in their street;
    # read by every signed-in role in its area
    ("POST", "/api/liaisons"): Rule(in_area({"admin", "command_centre"}, {"street_officer"}, 201), _assign_liaison,
                                    OWN_FOREIGN),
    ("POST", "/api/liaisons/{liaison_id}/end"): Rule(in_area({"admin", "command_centre"}, {"street_officer"}),
                                                     _end_liaison, OWN_FOREIGN),
    ("GET", "/api/liaisons"): Rule(signed_in(), get("/api/liaisons")),
    ("GET", "/api/liaisons/gaps"): Rule(signed_in(), get("/api/liaisons/gaps")),
    # the public grid card (网格公示) and its report form: anyone, any grid
    ("GET", "/card/{grid_code}"): Rule(public(), get(lambda c, r, w: f"/card/{c.grid(r, w)}", page=True),
                                       OWN_FOREIGN),
    ("GET", "/card/{grid_code}/report"): Rule(public(), get(lambda c, r, w: f"/card/{c.grid(r, w)}/report",
                                                            page=True), OWN_FOREIGN),
    ("POST", "/card/{grid_code}/report"): Rule(public(201), _card_report),
    # party strength, commitments, evaluations, the 双公开 report (issue 12.5-6): area readers; managers change
    ("POST", "/api/party/members"): Rule(in_area({"admin", "command_centre"}, MANAGER_ROLES, 201), _party_member,
                                         OWN_FOREIGN),
    ("POST", "/api/party/members/import"): Rule(PARTY_EDITORS, _party_import, OWN_FOREIGN),
    ("GET", "/api/party/branches"): Rule(roles(READ_ALL | AREA_ROLES), get("/api/party/branches")),
    ("GET", "/api/party/grids/{code}"): Rule(in_area(READ_ALL, AREA_ROLES),
                                             get(lambda c, r, w: f"/api/party/grids/{c.grid(r, w)}"), OWN_FOREIGN),
    ("GET", "/api/party/branches/{branch_id}/grades"): Rule(in_area(READ_ALL, AREA_ROLES), get(
        lambda c, r, w: f"/api/party/branches/{_branch(c, c.grid(r, w))}/grades"), OWN_FOREIGN),
    ("POST", "/api/party/branches/{branch_id}/grades"): Rule(
        in_area({"admin", "command_centre"}, MANAGER_ROLES, 201), _party_grade, OWN_FOREIGN),
    ("POST", "/api/party/pairings"): Rule(in_area({"admin", "command_centre"}, MANAGER_ROLES, 201), _pairing,
                                          OWN_FOREIGN),
    ("GET", "/api/commitments"): Rule(roles(READ_ALL | AREA_ROLES), get("/api/commitments")),
    ("POST", "/api/commitments"): Rule(in_area({"admin", "command_centre"}, MANAGER_ROLES, 201), _make_commitment,
                                       OWN_FOREIGN),
    ("GET", "/api/commitments/{commitment_id}"): Rule(in_area(READ_ALL, AREA_ROLES), get(
        lambda c, r, w: f"/api/commitments/{_commitment(c, r, w)}"), OWN_FOREIGN),
    ("PATCH", "/api/commitments/{commitment_id}"): Rule(PARTY_EDITORS, lambda c, r, w: c.send(
        r, "PATCH", f"/api/commitments/{_commitment(c, r, w)}", json={"status": "in_progress"}), OWN_FOREIGN),
    ("DELETE", "/api/commitments/{commitment_id}"): Rule(
        in_area({"admin", "command_centre"}, MANAGER_ROLES, 204),
        lambda c, r, w: c.send(r, "DELETE", f"/api/commitments/{_commitment(c, r, w)}"), OWN_FOREIGN),
    ("GET", "/api/evaluations"): Rule(roles(READ_ALL | AREA_ROLES), get("/api/evaluations")),
    ("POST", "/api/evaluations"): Rule(in_area({"admin", "command_centre"}, MANAGER_ROLES, 201), lambda c, r, w: c.send(
        r, "POST", "/api/evaluations", json={"year": 2026, "subject": "grid", "code": c.grid(r, w), "score": 90}),
        OWN_FOREIGN),
    ("POST", "/api/evaluations/import"): Rule(PARTY_EDITORS, _evaluation_import, OWN_FOREIGN),
    ("GET", "/api/open-report"): Rule(in_area(READ_ALL, AREA_ROLES), _report_url(), OWN_FOREIGN),
    ("GET", "/api/open-report.xlsx"): Rule(in_area(READ_ALL, AREA_ROLES), _report_url(".xlsx"), OWN_FOREIGN),
    ("GET", "/open-report"): Rule(lambda role, which: 303 if role is None else in_area(READ_ALL, AREA_ROLES)(
        role, which), _report_url(page=True), OWN_FOREIGN),
    # documents
    ("GET", "/openapi.json"): Rule(public(), get("/openapi.json")),
    ("GET", "/docs"): Rule(public(), get("/docs")),
    # pages (a page's caller is its session cookie): the shell is public, the data behind the API rules above
    ("GET", "/"): Rule(public(), get("/", page=True)),
    ("GET", "/signin"): Rule(public(), get("/signin", page=True)),
    ("POST", "/session"): Rule(public(401), _post("/session", page=True, data={})),  # no such person
    ("GET", "/signout"): Rule(public(303), get("/signout", page=True, own_session=True)),
    ("GET", "/wall"): Rule(lambda role, which: 200 if role is None or role in READ_ALL else 403,
                           get("/wall", page=True)),
    ("POST", "/wall/session"): Rule(public(401), _post("/wall/session", page=True, data={})),
    ("GET", "/wall/signout"): Rule(public(303), get("/wall/signout", page=True, own_session=True)),
    ("GET", "/m"): Rule(lambda role, which: 303 if role is None else 200, get("/m", page=True)),
    ("GET", "/m/sw.js"): Rule(public(), get("/m/sw.js", page=True)),
    ("GET", "/m/manifest.webmanifest"): Rule(public(), get("/m/manifest.webmanifest", page=True)),
    ("GET", "/plan"): Rule(lambda role, which: 303 if role is None else 200, get("/plan", page=True)),
    ("GET", "/plan/areas"): Rule(roles(PLAN_READERS), get("/plan/areas")),
    ("GET", "/plan/areas/{code}"): Rule(roles(PLAN_READERS), get(lambda c, r, w: f"/plan/areas/{c.community(w)}"),
                                        OWN_FOREIGN),
    ("POST", "/plan/split"): Rule(roles(PLANNERS), _post("/plan/split", json={"grid": _SQUARE, "line": _CUT})),
    ("POST", "/plan/merge"): Rule(roles(PLANNERS), _post("/plan/merge", json={"first": _SQUARE, "second": _RIGHT})),
}


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "effective_candidates"):  # an included router (FastAPI ≥ 0.16x)
            yield from _routes(route.effective_candidates())
        else:
            yield route


def served(app: Any) -> tuple[set[tuple[str, str]], list[Mount]]:
    """Every (method, path) the app answers (HEAD left out: it follows GET), and its static mounts."""
    operations, mounts = set(), []
    for route in _routes(app.routes):
        if isinstance(route, Mount):
            mounts.append(route)
            continue
        operations |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return operations, mounts


# -- the tests -----------------------------------------------------------------------------------------------


def test_every_route_has_a_rule(ctx: Ctx) -> None:
    operations, _ = served(ctx.client.app)
    assert operations - set(RULES) == set(), "routes without a rule: add them to RULES"
    assert set(RULES) - operations == set(), "rules for routes the app no longer serves"
    schema = {(m.upper(), p) for p, item in ctx.client.get("/openapi.json").json()["paths"].items() for m in item}
    assert schema <= operations  # the OpenAPI document's operations are among them


def _matches(expected: int | str, status: int) -> bool:
    if expected == GATE:
        return status not in (401, 403) and status < 500
    return status == expected or (expected == 200 and status == 204)  # an empty tile is 204


@pytest.mark.parametrize("operation", sorted(RULES), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_role_gets_exactly_the_allowed_answer(ctx: Ctx, operation: tuple[str, str]) -> None:
    rule = RULES[operation]
    wrong = {}
    for role in ROLES:
        for which in rule.objects:
            expected = rule.expect(role, which)
            answer = rule.call(ctx, role, which)
            if not _matches(expected, answer.status_code):
                wrong[(role, which)] = f"expected {expected}, got {answer.status_code}: {answer.text[:300]!r}"
    assert not wrong, "\n".join(f"{role} {which}: {problem}" for (role, which), problem in wrong.items())


def test_static_mounts_are_public(ctx: Ctx) -> None:
    """The page shell's files and the vendored libraries (Leaflet …): public like the page shell itself."""
    _, mounts = served(ctx.client.app)
    assert mounts
    for mount in mounts:
        directory = mount.app.directory  # type: ignore[attr-defined]
        first = next(p for p in sorted(Path(directory).rglob("*"))
                     if p.is_file() and p.suffix in SERVED_SUFFIXES
                     and not any(part.startswith(".") for part in p.relative_to(directory).parts))
        relative = first.relative_to(directory).as_posix()
        assert ctx.send(None, "GET", f"{mount.path}/{relative}").status_code == 200, mount.path


# -- no foreign row in any list --------------------------------------------------------------------------------

EVERY_GRID = {WEST, EAST, FAR}
CALLER_AREA = {  # caller → the grids whose rows they may see in lists (besides what they reported)
    "admin": EVERY_GRID, "centre": EVERY_GRID, "planner": EVERY_GRID,
    "street-1": {WEST, EAST}, "street-2": {FAR}, "community-1": {WEST, EAST}, "community-2": {FAR},
    "worker-west": {WEST}, "worker-far": {FAR}, "hotline": set(),
}


@pytest.mark.parametrize("caller", sorted(CALLER_AREA))
def test_no_foreign_row_in_any_list(ctx: Ctx, caller: str) -> None:
    headers = {"Authorization": f"Bearer key-{caller}"}
    area = CALLER_AREA[caller]
    cases = ctx.client.get("/api/cases", params={"limit": 1000}, headers=headers).json()["items"]
    if area != EVERY_GRID:  # (the district-wide readers see unrouted cases too)
        assert all(c["grid_code"] in area or c["created_by"] == caller for c in cases), caller
    seeded = {g: ctx.world.cases[g] for g in (WEST, EAST, FAR)}
    assert {g for g, case_id in seeded.items() if case_id in {c["id"] for c in cases}} == area
    days = ctx.client.get("/api/workdays", headers=headers).json()["items"]
    communities = {d["community_code"] for d in days}
    assert communities <= {g[:12] for g in area}, (caller, communities)
    if not caller.startswith("worker"):  # (a grid worker sees the work days they are assigned to)
        assert communities == {g[:12] for g in area}, (caller, communities)
    summary = ctx.client.get("/api/visits/summary", headers=headers).json()
    grid_codes = {g["grid_code"] for g in summary["grids"]}
    assert grid_codes <= area, (caller, grid_codes)


def test_a_worker_reporting_elsewhere_reads_that_case_and_no_other_there(ctx: Ctx) -> None:
    headers = {"Authorization": "Bearer key-worker-west"}
    mine = report(ctx.client, "worker-west", FAR)
    listed = ctx.client.get("/api/cases", params={"limit": 1000}, headers=headers).json()["items"]
    assert mine in {c["id"] for c in listed if c["grid_code"] == FAR}
    assert {c["id"] for c in listed if c["grid_code"] == FAR} == {mine}
    assert ctx.client.get(f"/api/cases/{ctx.world.cases[FAR]}", headers=headers).status_code == 403
    assert ctx.client.get(f"/api/cases/{mine}", headers=headers).json()["my_actions"] == []


def test_the_streets_in_the_matrix_are_two(ctx: Ctx) -> None:
    grids = ctx.client.get("/api/grids").json()["features"]
    assert {g["properties"]["street_code"] for g in grids} == {STREET_1, STREET_2}
