"""The printable report to residents' representatives (shuang gongkai), `/open-report?grid=…|community=…
&half=2026H1`: the half-year's report (gis/store/open_report.py), drawn on the server as an A4 page with print
CSS (`templates/open_report.html`, `static/open_report/open_report.css`), with a link to the same report as
Excel (`/api/open-report.xlsx`). A person signs in first; who may read which place is the API's rule."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import MaybeActor
from api.deps import DbSession
from api.pages import shell
from api.pages.i18n import messages, other_language, pick_language
from gis.open_report import case_rows, holder_text
from gis.periods import district_today
from gis.store import open_report as report_store

router = APIRouter(tags=["pages"])


@router.get("/open-report", response_class=HTMLResponse,
            summary="The printable half-yearly report to residents' representatives (shuang gongkai), A4")
def open_report_page(
    request: Request, session: DbSession, actor: MaybeActor,
    half: Annotated[str | None, Query(max_length=6, description="YYYYH1 or YYYYH2 (default this half)")] = None,
    grid: Annotated[str | None, Query(description="15-digit grid code")] = None,
    community: Annotated[str | None, Query(description="12-digit community code")] = None,
    lang: Annotated[str | None, Query(description="zh-CN (default) or en")] = None,
) -> Response:
    language = pick_language(lang)
    today = district_today()
    half = half or f"{today.year}H{1 if today.month <= 6 else 2}"
    query = {k: v for k, v in (("grid", grid), ("community", community), ("half", half)) if v}
    if actor is None:
        target = "/open-report?" + urlencode({**query, "lang": language})
        return shell.no_store(RedirectResponse("/signin?" + urlencode({"lang": language, "next": target}),
                                               status_code=303))
    scope = report_store.report_scope(grid, community)
    report = report_store.open_report(session, actor, scope, half)
    text = messages(language, "open_report")
    party = report["party"]
    html = shell.render_page(
        "open_report.html", lang=language, title=f"{report['scope']['path']} {text['title']}",
        styles=(shell.static_url("open_report/open_report.css"),), body_class="open-report",
        report=report, text=text, figures=case_rows(report, text), generated=today.isoformat(),
        holder=lambda item: holder_text(item, text),
        totals=text["totals"].format(members=party["members"], seconded=party["needing_seconded_branch"],
                                     weak=party["weak"]),
        xlsx="/api/open-report.xlsx?" + urlencode({**query, "lang": language}),
        other="/open-report?" + urlencode({**query, "lang": other_language(language)}),
        other_name=messages(language, "language")["other"],
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
