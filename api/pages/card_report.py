"""The resident's report form of a grid card (`/card/{grid_code}/report`, the QR code's address): a phone
page, no sign-in, that posts through the one intake (`gis.store.cases.create_case`, as Open311 and
`POST /api/cases` do) and answers with a reference number only.

Choices, for the lead and for residents' privacy:
- **Where the case goes.** A position given by the phone ("use my position", WGS84 from the browser) is
  routed by the ordinary rule, like any report: the problem is where the resident stands, even in another
  grid. Without one, the case is put at a point inside the card's grid (`gis.store.grid_card.report_place`,
  `ST_PointOnSurface`, not the centroid, which can fall outside a concave grid), so it routes to this grid.
- **Who reported.** The case is created by the intake account `CARD_REPORTER` (role open311_client; the name
  has a colon, which no person's account uses, so no one can read these cases as "their own reports");
  source `resident`; the card's grid is kept in the case's extras (`card_grid`). A name and phone, if the
  resident gives them, are the case's reporter fields, masked like every reporter (gis/privacy.py).
- **Abuse.** Each post from a client address counts against `REPORTS_PER_WINDOW` per `REPORT_WINDOW`
  seconds (the sign-in throttle's class, api/throttle.py; 429 beyond); a post must come from this site's
  own form (its `Origin`, else `Referer`: api/auth.py `same_origin`), so another site cannot make a
  visitor's browser post reports (403). The form carries a one-time key: sending it twice stores one case.
- **Answers.** 201 with the reference number (the case id, which Open311's public read takes); a bad field
  re-shows the form with the problem named and what was typed kept (422); an unknown grid 404.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.auth import client_ip, same_origin
from api.deps import DbSession
from api.pages import shell
from api.pages.grid_card import card_path, report_path
from api.pages.i18n import messages, other_language, pick_language
from api.throttle import SignInThrottle, TooManyAttempts
from gis.cases import CaseInput
from gis.categories import CategoryKind
from gis.coords import check_in_china
from gis.errors import GridmapError, InvalidInput
from gis.permissions import Actor
from gis.store.cases import create_case
from gis.store.grid_card import report_place
from gis.store.reference import all_categories
from gis.text import storable_text

router = APIRouter(tags=["pages"])

CARD_REPORTER = Actor(username="card:report-form", role="open311_client")
REPORTS_PER_WINDOW = 10
REPORT_WINDOW = 3600.0
LIMITS = {"description": 1000, "reporter_name": 50, "key": 100}
PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
FIELDS = ("category", "description", "lon", "lat", "reporter_name", "reporter_phone", "key")

GridCodeP = Annotated[str, Path(pattern=r"^\d{15}$", description="the grid's 15-digit code")]
LangQ = Annotated[str | None, Query(description="zh-CN (default) or en")]
FormText = Annotated[str, Form()]  # checked by the handler, which names the problem on the form itself


class FormProblem(Exception):
    """A field of the form is wrong: `key` names the catalogue's message, `values` fill it in."""

    def __init__(self, key: str, status: int = 422, **values: object) -> None:
        super().__init__(key)
        self.key, self.status, self.values = key, status, values


def _throttle(request: Request) -> SignInThrottle:
    """The form's own per-address counter (kept on the app, made on first use)."""
    state = request.app.state
    if getattr(state, "card_report_throttle", None) is None:
        state.card_report_throttle = SignInThrottle(limit=REPORTS_PER_WINDOW, window=REPORT_WINDOW)
    return state.card_report_throttle


def _form_page(session: Session, code: str, language: str, *, values: Mapping[str, str] | None = None,
               problem: str | None = None, status: int = 200, place: dict[str, Any] | None = None) -> HTMLResponse:
    text = messages(language, "card")
    place = place or report_place(session, code)
    chosen = dict(values or {})
    chosen.setdefault("key", secrets.token_urlsafe(16))
    page = shell.render_page(
        "card_report.html", lang=language, title=text["report_title"].format(name=place["name"]),
        body_class="card report", styles=(shell.static_url("card/card.css"),),
        modules=(shell.static_url("card/report.js"),),
        config={"strings": {k: text[k] for k in ("position_set", "position_failed")}},
        text=text, place=place, groups=_category_groups(session, language, text), values=chosen, problem=problem,
        action=report_path(code, language), back=card_path(code, language),
        other=report_path(code, other_language(language)), other_name=messages(language, "language")["other"],
    )
    return shell.no_store(HTMLResponse(page, status_code=status))


Groups = list[tuple[str, list[tuple[str, str]]]]


def _category_groups(session: Session, language: str, text: Mapping[str, str]) -> Groups:
    """The case categories, grouped by kind, each (code, name in the page's language)."""
    found = all_categories(session)
    return [(text[f"kind_{kind.value}"], [(c.code, c.name(language)) for c in found if c.kind is kind])
            for kind in CategoryKind if any(c.kind is kind for c in found)]


@router.get("/card/{grid_code}/report", response_class=HTMLResponse,
            summary="A resident's report form set to one grid (public; the grid card's QR code)")
def report_form(grid_code: GridCodeP, session: DbSession, lang: LangQ = None) -> HTMLResponse:
    return _form_page(session, grid_code, pick_language(lang))


@router.post("/card/{grid_code}/report", response_class=HTMLResponse, status_code=201,
             summary="Send a resident's report from the grid card's form; answers a reference number")
def send_report(grid_code: GridCodeP, request: Request, session: DbSession, lang: LangQ = None,
                category: FormText = "", description: FormText = "", lon: FormText = "", lat: FormText = "",
                reporter_name: FormText = "", reporter_phone: FormText = "", key: FormText = "") -> HTMLResponse:
    language = pick_language(lang)
    given = {"category": category, "description": description, "lon": lon, "lat": lat,
             "reporter_name": reporter_name, "reporter_phone": reporter_phone, "key": key}
    values = {name: given[name].strip() for name in FIELDS}
    place = report_place(session, grid_code)  # an unknown grid: 404 before anything is counted
    try:
        _check_source(request)
        data = _case_input(values, place, session)
        case_id, _ = create_case(session, data, CARD_REPORTER)
    except FormProblem as problem:
        text = messages(language, "card")
        named = {k: text[v] if k == "field" else v for k, v in problem.values.items()}  # a field by its label
        message = text[problem.key].format(**named)
        return _form_page(session, grid_code, language, values=values, problem=message,
                          status=problem.status, place=place)
    except GridmapError as error:
        session.rollback()
        message = messages(language, "card")["error_other"].format(detail=str(error))
        return _form_page(session, grid_code, language, values=values, problem=message, status=422,
                          place=place)
    text = messages(language, "card")
    page = shell.render_page("card_sent.html", lang=language, title=text["sent_title"], body_class="card report",
                             styles=(shell.static_url("card/card.css"),), text=text, place=place,
                             reference=case_id, back=card_path(grid_code, language))
    return shell.no_store(HTMLResponse(page, status_code=201))


def _check_source(request: Request) -> None:
    """Counted per address first (a flood of refused posts is throttled too), then this site's form only."""
    throttle = _throttle(request)
    try:
        throttle.check(client_ip(request))
    except TooManyAttempts as error:
        raise FormProblem("error_throttled", 429, minutes=max(1, error.retry_after // 60)) from None
    throttle.failed(client_ip(request))  # (the sign-in throttle counts attempts by this name)
    if not same_origin(request):
        raise FormProblem("error_origin", 403)


def _case_input(values: Mapping[str, str], place: Mapping[str, Any], session: Session) -> CaseInput:
    for name in ("description", "reporter_name", "reporter_phone", "category", "key"):
        try:
            storable_text(name, values[name])
        except InvalidInput:
            raise FormProblem("error_other", detail=name) from None
    category = values["category"]
    if category not in {c.code for c in all_categories(session)}:
        raise FormProblem("error_category")
    if not values["description"]:
        raise FormProblem("error_description")
    for name in ("description", "reporter_name"):
        if len(values[name]) > LIMITS[name]:
            raise FormProblem("error_too_long", field=name, limit=LIMITS[name])
    phone = values["reporter_phone"]
    if phone and not PHONE.match(phone):
        raise FormProblem("error_phone")
    lon, lat = _position(values, place)
    return CaseInput(
        source="resident", category_code=category, lon=lon, lat=lat, crs="wgs84", description=values["description"],
        reporter_name=values["reporter_name"] or None, reporter_contact=phone or None,
        idempotency_key=values["key"][:LIMITS["key"]] or None, extras={"card_grid": place["code"]},
    )


def _position(values: Mapping[str, str], place: Mapping[str, Any]) -> tuple[float, float]:
    """The phone's position if given (two numbers inside China, `gis.coords`), else the grid's point."""
    if not values["lon"] and not values["lat"]:
        return place["lon"], place["lat"]
    try:
        lon, lat = float(values["lon"]), float(values["lat"])
    except ValueError:
        raise FormProblem("error_position") from None
    try:
        return check_in_china(lon, lat)
    except InvalidInput:
        raise FormProblem("error_position") from None
