"""The public grid card (wangge gongshi) at `/card/{grid_code}`: a grid's notice board for anyone, on a phone or
printed as an A4 poster, with a QR code that opens the resident's report form set to this grid
(`/card/{grid_code}/report`, api/pages/card_report.py).

The server renders the whole card (`templates/card.html`), so it reads and prints without scripts;
`api/static/card/card.js` only draws the boundary on a small Leaflet map over the basemap
(`shell/basemap.js`) and wires the print button. The data is `gis.store.grid_card.public_card`, which says
what a card carries and never carries. The QR code is drawn by segno on the server as inline SVG (it prints
sharp at any size); it encodes the form's absolute address as this request saw it (`request.base_url`:
behind a proxy, pass the public host through, e.g. uvicorn's `--proxy-headers`).
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import DbSession
from api.pages import shell
from api.pages.i18n import messages, other_language, pick_language
from gis.store.grid_card import public_card

router = APIRouter(tags=["pages"])

GridCodeP = Annotated[str, Path(pattern=r"^\d{15}$", description="the grid's 15-digit code")]
LangQ = Annotated[str | None, Query(description="zh-CN (default) or en")]
DUTIES = ("duty_1", "duty_2", "duty_3", "duty_4", "duty_5")
QR_ERROR = "m"  # QR error correction: medium, survives a scuffed poster
CACHE = "public, max-age=300"  # a notice board: five minutes old is fresh enough


def card_path(code: str, language: str) -> str:
    return f"/card/{code}" + ("?lang=en" if language == "en" else "")


def report_path(code: str, language: str) -> str:
    return f"/card/{code}/report" + ("?lang=en" if language == "en" else "")


def report_url(request: Request, code: str, language: str) -> str:
    """The report form's absolute address, which the QR code encodes."""
    return str(request.base_url).rstrip("/") + report_path(code, language)


def report_qr(url: str) -> segno.QRCode:
    return segno.make(url, error=QR_ERROR, micro=False)


def qr_svg(url: str) -> str:
    """The QR code as inline SVG, sized by CSS (no width or height), titled with the address it encodes."""
    return report_qr(url).svg_inline(scale=1, border=2, omitsize=True, title=url, svgclass="qr")


@router.get("/card/{grid_code}", response_class=HTMLResponse,
            summary="The public grid card (notice board): team, phones, duties, figures and a QR code to report")
def grid_card(grid_code: GridCodeP, request: Request, session: DbSession, lang: LangQ = None) -> HTMLResponse:
    language = pick_language(lang)
    card = public_card(session, grid_code)
    text = messages(language, "card")
    url = report_url(request, grid_code, language)
    leaflet_css, leaflet_js = shell.leaflet()
    page = shell.render_page(
        "card.html", lang=language, title=text["title"].format(name=card["name"]), body_class="card",
        config={"geometry": card["geometry"], "lang": language},
        styles=(leaflet_css, shell.static_url("card/card.css")), scripts=(leaflet_js,),
        modules=(shell.static_url("card/card.js"),), text=text, card=card, duties=[text[k] for k in DUTIES],
        qr=qr_svg(url), report_url=url, report_path=report_path(grid_code, language),
        other=card_path(grid_code, other_language(language)), other_name=messages(language, "language")["other"],
        percent=_percent,
    )
    return HTMLResponse(page, headers={"Cache-Control": CACHE})


def _percent(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"


