"""The ledger export (台账): a grid's, community's or street's cases for a period, as Excel or CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response

from api.audit import record_personal_read
from api.auth import CurrentActor
from api.deps import DbSession
from gis import ledger
from gis.i18n import parse_language
from gis.periods import Period
from gis.permissions import Actor
from gis.store import ledger as store

router = APIRouter(prefix="/api", tags=["ledger"])


@dataclass(frozen=True)
class LedgerRequest:
    scope: ledger.LedgerScope
    period: Period
    lang: str


def exporter(actor: CurrentActor) -> Actor:
    """The caller, if their role may export ledgers at all (checked before any parameter)."""
    ledger.check_may_export(actor)
    return actor


def ledger_request(
    actor: Annotated[Actor, Depends(exporter)],
    start: Annotated[date, Query(alias="from", description="first day (Asia/Shanghai), inclusive")],
    end: Annotated[date, Query(alias="to", description="the day after the last (exclusive); ≤ 366 days")],
    grid: Annotated[str | None, Query(description="15-digit grid code")] = None,
    community: Annotated[str | None, Query(description="12-digit community code")] = None,
    street: Annotated[str | None, Query(description="9-digit street code")] = None,
    lang: Annotated[str, Query(description="header language: zh-CN (default) or en")] = "zh-CN",
) -> LedgerRequest:
    """Exactly one well-formed scope, the period and the language (422 naming the problem), then the
    scope against the caller's area (403). No key is 401 and a role that never exports 403, first."""
    scope = ledger.parse_scope(grid=grid, community=community, street=street)
    period = ledger.ledger_period(start, end)
    language = parse_language(lang)
    ledger.check_read_scope(actor, scope)
    return LedgerRequest(scope, period, language)


Params = Annotated[LedgerRequest, Depends(ledger_request)]


def _load(
    request: Request, session: DbSession, actor: CurrentActor, params: LedgerRequest
) -> tuple[list[dict[str, Any]], ledger.LedgerMeta]:
    """The ledger's rows and title; the rows whose reporter or address are shown unmasked are recorded in
    the audit log."""
    now = datetime.now(UTC)
    meta = ledger.LedgerMeta(params.scope, store.scope_places(session, params.scope), params.period, now,
                             params.lang)
    cases = store.ledger_cases(session, params.scope, params.period, actor, now=now)
    record_personal_read(session, request, actor, "ledger", [
        c["id"] for c in cases
        if c["personal_data"] == "shown" and (c["reporter_name"] or c["reporter_contact"] or c["address"])])
    return cases, meta


def _attachment(content: bytes, media_type: str, meta: ledger.LedgerMeta, extension: str) -> Response:
    name = meta.filename(extension)
    disposition = f'attachment; filename="{meta.ascii_filename(extension)}"'
    if not name.isascii():
        disposition += f"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


@router.get("/ledger.xlsx", summary="The ledger as an Excel workbook (ledger sheet and 汇总 summary)",
            response_class=Response, responses={200: {"content": {ledger.XLSX_MEDIA_TYPE: {}}}})
def ledger_xlsx(request: Request, session: DbSession, actor: CurrentActor, params: Params) -> Response:
    cases, meta = _load(request, session, actor, params)
    return _attachment(ledger.build_workbook(cases, meta), ledger.XLSX_MEDIA_TYPE, meta, "xlsx")


@router.get("/ledger.csv", summary="The ledger as CSV (UTF-8 with BOM, one line per case)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def ledger_csv(request: Request, session: DbSession, actor: CurrentActor, params: Params) -> Response:
    cases, meta = _load(request, session, actor, params)
    return _attachment(ledger.build_csv(cases, meta.lang), ledger.CSV_MEDIA_TYPE, meta, "csv")
