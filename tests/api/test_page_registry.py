"""A new page is its module and its scripts: page modules are found, and a page needs no template of its own."""

from __future__ import annotations

from api.app import create_app
from api.pages import card_report, district_map, grid_card, open_report, page_routers, planner, shell, wall, worker
from gis.settings import Settings


def test_every_page_module_with_a_router_is_served() -> None:
    assert {id(r) for r in page_routers()} == {id(district_map.router), id(wall.router), id(shell.router),
                                                 id(worker.router), id(planner.router),
                                                 id(grid_card.router), id(card_report.router),
                                                 id(open_report.router)}
    app = create_app(Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    paths = set(app.openapi()["paths"])
    assert {"/", "/wall", "/signin", "/m", "/plan"} <= paths


def test_a_page_without_a_template_gets_an_empty_root_for_its_scripts() -> None:
    html = shell.render_page(None, lang="en", title="Worker", config={"lang": "en"},
                             modules=("/static/m/main.js",))
    assert '<div id="page-root"></div>' in html and '<title>Worker</title>' in html
    assert '<script type="module" src="/static/m/main.js"></script>' in html
    assert '<html lang="en">' in html and 'id="page-config"' in html
