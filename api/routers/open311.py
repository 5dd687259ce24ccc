"""Open311 GeoReport v2 at /open311/v2, for existing 311 clients (hotline systems, residents' apps).

Every resource comes as `.xml` (the spec's required format) or `.json`; errors come in the same format
as the spec's <errors> document, with the spec's status codes: 403 for a missing, invalid or
unauthorised api_key, 404 for an unknown resource (also an unknown service_code on POST, as the spec
lists), 400 for anything else. (The native API says 401/422 for these; Open311 clients expect the spec.)

Choices beyond the spec, documented for clients:
- Services are our active case categories; `locale=en` (or Accept-Language: en) gives English names and
  texts, Chinese is the default. `jurisdiction_id` is accepted and ignored (one jurisdiction).
- POST accepts application/x-www-form-urlencoded (the spec), multipart/form-data fields and a JSON
  object. The key may come as the `api_key` form field (never in the URL), `Authorization: Bearer` or
  `X-API-Key` — never the page cookie, so another site cannot post a form in a signed-in user's name.
- A position is required (lat & long): cases are routed to their grid by position, so address_string
  or address_id alone is refused. Extension `coordinate_system` (wgs84 | cgcs2000 | gcj02 | bd09,
  default wgs84) declares phone-map coordinates, which are converted to WGS84.
- Extension `source` (default resident; hotline for 12345 systems); extension `Idempotency-Key`
  header or `idempotency_key` field: a retried POST answers 200 with the first service_request_id.
- first_name/last_name, phone and email are kept as the reporter's name and contact (staff see them;
  Open311 output never shows them). media_url is kept with the description, never fetched.
  address_id is stored with the case (staff see it; api/open311_input.py STORED_EXTRAS); device_id is not
  stored; account_id is echoed in the POST answer only.
- GET requests needs no key; default window the last 90 days of requested_datetime, at most
  1000 requests (newest first); a start_date/end_date without offset is taken as Beijing time;
  `service_request_id` overrides every other filter. Extension filter `grid` (agency_responsible;
  `grid=unrouted` for the queue of cases outside every grid).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.orm import Session

from api import open311_format as doc
from api.deps import DbSession, get_database
from api.errors import DATABASE_AWAY, database_unavailable, retry_headers
from api.open311_input import PostedFields, api_key_of, case_input
from gis.categories import Category, CategoryKind
from gis.errors import GridmapError, InvalidInput, NotFound
from gis.i18n import language_key
from gis.periods import check_day
from gis.permissions import Forbidden, Unauthenticated, check_create_case
from gis.store import cases as store
from gis.store.database import Database
from gis.store.reference import all_categories
from gis.store.users import actor_for_key
from gis.workflow import STATUS_CATEGORY, CaseStatus, StatusCategory

MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
MAX_ID = 2**63 - 1
_OFFSET_WITH_SPACE = re.compile(r" (\d{2}:?\d{2})$")  # "+08:00" sent unencoded arrives as " 08:00"


def _error_status(error: GridmapError) -> int:
    if isinstance(error, Unauthenticated | Forbidden):
        return 403
    return 404 if isinstance(error, NotFound) else 400


def _requested_format(request: Request) -> str:
    fmt = request.path_params.get("fmt")
    return fmt if fmt in doc.FORMATS else "xml"


class Open311Route(APIRoute):
    """A route whose errors are rendered in the requested format with the spec's status codes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except GridmapError as error:
                return doc.errors_response(_requested_format(request), _error_status(error), [str(error)])
            except RequestValidationError as error:
                problems = [f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'path', 'header'))}: "
                            f"{e['msg']}" for e in error.errors()]
                return doc.errors_response(_requested_format(request), 400, problems)
            except HTTPException as error:
                return doc.errors_response(_requested_format(request), error.status_code, [str(error.detail)])
            except (DBAPIError, SQLAlchemyTimeoutError) as error:
                if not database_unavailable(error):
                    raise
                return doc.errors_response(_requested_format(request), 503, [DATABASE_AWAY], retry_headers())

        return handle


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


# -- shared parameters --------------------------------------------------------------------------


def _format(fmt: str) -> str:
    if fmt not in doc.FORMATS:
        raise NotFound(f"format {fmt!r} unknown; use .xml or .json")
    return fmt


def _language(request: Request, locale: str | None = None) -> str:
    """`locale`, else the first Accept-Language tag, else the configured default (zh-CN)."""
    chosen = locale or request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()
    return language_key(chosen or request.app.state.settings.default_language)


Language = Annotated[str, Depends(_language)]
Storage = Annotated[Database, Depends(get_database)]


def _categories(session: Session) -> dict[str, Category]:
    return {c.code: c for c in all_categories(session)}


# -- discovery and services ---------------------------------------------------------------------


@router.get("/discovery.{fmt}", summary="Service Discovery: our GeoReport v2 endpoint and formats")
def discovery(fmt: str, request: Request) -> Response:
    fmt = _format(fmt)
    endpoint_url = str(request.base_url).rstrip("/") + router.prefix
    return doc.render(fmt, "discovery", None, doc.discovery(endpoint_url))


@router.get("/services.{fmt}", summary="Service list: one service per active case category")
def services(fmt: str, session: DbSession, language: Language) -> Response:
    fmt = _format(fmt)
    return doc.render(fmt, "services", "service", [doc.service(c, language) for c in all_categories(session)])


@router.get("/services/{service_code}.{fmt}", summary="Service definition (no extra attributes)")
def service_definition(service_code: str, fmt: str, session: DbSession) -> Response:
    fmt = _format(fmt)
    category = _categories(session).get(service_code)
    if category is None:
        raise NotFound(f"unknown service_code {service_code!r}; services.{fmt} lists the codes")
    return doc.render(fmt, "service_definition", None, doc.service_definition(category))


# -- posting a request --------------------------------------------------------------------------

_POST_FIELDS = {
    "api_key": "required unless sent as Authorization: Bearer or X-API-Key",
    "service_code": "required: a service_code from services.xml",
    "lat": "required: latitude (WGS84 unless coordinate_system says otherwise)",
    "long": "required: longitude (WGS84 unless coordinate_system says otherwise)",
    "coordinate_system": "extension: wgs84 (default), cgcs2000, gcj02 (Gaode/Tencent) or bd09 (Baidu)",
    "source": "extension: resident (default), hotline, …",
    "idempotency_key": "extension (or the Idempotency-Key header): a retry returns the first request",
    "address_string": "where, in words", "address_id": "kept with the case for staff",
    "description": "at most 4000 characters",
    "media_url": "kept with the description, not fetched", "email": "reporter's, never shown",
    "phone": "reporter's, never shown", "first_name": "never shown", "last_name": "never shown",
    "device_id": "not stored", "account_id": "echoed in the answer",
}
_POST_SCHEMA = {
    "type": "object", "required": ["service_code", "lat", "long"],
    "properties": {name: {"type": "string", "description": text} for name, text in _POST_FIELDS.items()},
}
_POST_BODY = {"requestBody": {"required": True, "content": {
    media: {"schema": _POST_SCHEMA} for media in ("application/x-www-form-urlencoded", "application/json")
}}}


def _category_posted(session: Session, fields: dict[str, str], fmt: str) -> Category:
    code = fields.get("service_code")
    if code is None:
        raise InvalidInput(f"service_code is required; services.{fmt} lists the codes")
    category = _categories(session).get(code)
    if category is None:
        raise NotFound(f"unknown service_code {code!r}; services.{fmt} lists the codes")
    return category


@router.post("/requests.{fmt}", status_code=201, openapi_extra=_POST_BODY,
             summary="Post a service request (api_key required); 201 created, 200 for a retried key")
def post_request(
    fmt: str, request: Request, fields: PostedFields, database: Storage, language: Language,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    fmt = _format(fmt)
    key = api_key_of(request, fields)
    if key is None:
        raise Unauthenticated("api_key is required to post a service request: send the api_key field, "
                              "'Authorization: Bearer <key>' or 'X-API-Key'")
    # Our own unit of work: an error rolls back here, before the route class renders it.
    with database.session() as session:
        actor = actor_for_key(session, key)
        if actor is None:
            raise Unauthenticated("invalid api_key (unknown or deactivated) -- can't create the request")
        check_create_case(actor)
        category = _category_posted(session, fields, fmt)
        case_id, created = store.create_case(session, case_input(fields, idempotency_key), actor)
        if not created:  # a retry: answer for the case the first attempt stored
            stored = _cases_by_id(session, (case_id,))[0]
            category = _categories(session).get(stored["category"]["code"], category)
    answer = {"service_request_id": str(case_id), "service_notice": doc.service_notice(category, language),
              "account_id": fields.get("account_id")}
    return doc.render(fmt, "service_requests", "request", [answer], status_code=201 if created else 200,
                      headers={"Location": f"{router.prefix}/requests/{case_id}.{fmt}"})


# -- reading requests ---------------------------------------------------------------------------


def _cases_by_id(session: Session, ids: tuple[int, ...]) -> list[dict[str, Any]]:
    cases, _ = store.list_cases(session, store.CaseFilter(case_ids=ids), None, limit=MAX_RESULTS, offset=0)
    return cases


def _ids(value: str) -> tuple[int, ...]:
    ids = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        if not part.isdigit() or int(part) > MAX_ID:
            raise InvalidInput(f"service_request_id {part!r} is not a request number")
        ids.append(int(part))
    return tuple(ids)


def _moment(name: str, value: str) -> datetime:
    """A w3c datetime; without an offset it is Beijing time (the district's)."""
    try:
        moment = datetime.fromisoformat(_OFFSET_WITH_SPACE.sub(r"+\1", value))
    except ValueError:
        raise InvalidInput(f"{name} {value!r} is not a w3c datetime like 2026-03-01T00:00:00+08:00") from None
    check_day(name, moment.date())
    return moment if moment.tzinfo else moment.replace(tzinfo=doc.SHANGHAI)


def _window(start: str | None, end: str | None) -> tuple[datetime, datetime | None]:
    """[from, to) on requested_datetime; end_date is inclusive; default the last 90 days."""
    begin = _moment("start_date", start) if start else None
    until = _moment("end_date", end) if end else None
    if begin and until and begin > until:
        raise InvalidInput(f"start_date {start!r} is after end_date {end!r}")
    if begin is None:
        begin = (until or datetime.now(UTC)) - DEFAULT_WINDOW
    return begin, (until + timedelta(microseconds=1) if until else None)


def _statuses(value: str | None) -> tuple[str, ...]:
    wanted = {p.strip() for p in (value or "").split(",") if p.strip()}
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise InvalidInput(f"status {sorted(unknown)[0]!r} unknown; allowed: open, closed (comma-separated)")
    if not wanted or wanted == {"open", "closed"}:
        return ()
    keep = {StatusCategory.open} if wanted == {"open"} else {StatusCategory.closed, StatusCategory.declined}
    return tuple(s.value for s in CaseStatus if STATUS_CATEGORY[s] in keep)


def _search(
    session: Session, codes: list[str], window: tuple[datetime, datetime | None], statuses: tuple[str, ...],
    grid: str | None,
) -> list[dict[str, Any]]:
    """Newest first, at most MAX_RESULTS; one query per service_code (comma list), merged."""
    found: dict[int, dict[str, Any]] = {}
    for code in codes or [None]:
        filters = store.CaseFilter(
            category_code=code, reported_from=window[0], reported_to=window[1], statuses=statuses,
            grid_code=grid if grid != "unrouted" else None, unrouted=True if grid == "unrouted" else None,
        )
        cases, _ = store.list_cases(session, filters, None, limit=MAX_RESULTS, offset=0)
        found.update((c["id"], c) for c in cases)
    newest = sorted(found.values(), reverse=True,
                    key=lambda c: (datetime.fromisoformat(c["timestamps"]["reported_at"]), c["id"]))
    return newest[:MAX_RESULTS]


@router.get("/requests.{fmt}", summary="Service requests (no key needed): last 90 days, at most 1000")
def list_requests(
    fmt: str, session: DbSession, language: Language,
    service_request_id: str | None = None, service_code: str | None = None,
    start_date: str | None = None, end_date: str | None = None, status: str | None = None,
    grid: str | None = None,
) -> Response:
    fmt = _format(fmt)
    if service_request_id:  # the spec: this overrides all other arguments
        cases = _cases_by_id(session, _ids(service_request_id))
    else:
        codes = list(dict.fromkeys(p.strip() for p in (service_code or "").split(",") if p.strip()))
        cases = _search(session, codes, _window(start_date, end_date), _statuses(status), grid or None)
    categories = _categories(session)
    items = [_public(doc.request_item(c, categories.get(c["category"]["code"]), language),
                     categories.get(c["category"]["code"])) for c in cases]
    return doc.render(fmt, "service_requests", "request", items)


def _public(item: dict[str, Any], category: Category | None) -> dict[str, Any]:
    """Open311 reads are public: livelihood requests (disputes, hardship help, complaints …) can identify
    a household, so their text and address are withheld and their position blurred to about 100 m."""
    if category is None or category.kind != CategoryKind.livelihood:
        return item
    return {**item, "description": None, "media_url": None, "address": None,
            "lat": round(item["lat"], 3) if item.get("lat") is not None else None,
            "long": round(item["long"], 3) if item.get("long") is not None else None}


@router.get("/requests/{service_request_id}.{fmt}", summary="One service request, as a list of one")
def get_request(service_request_id: str, fmt: str, session: DbSession, language: Language) -> Response:
    fmt = _format(fmt)
    known = service_request_id.isdigit() and int(service_request_id) <= MAX_ID
    cases = _cases_by_id(session, (int(service_request_id),)) if known else []
    if not cases:
        raise NotFound(f"unknown service_request_id {service_request_id!r}")
    category = _categories(session).get(cases[0]["category"]["code"])
    item = _public(doc.request_item(cases[0], category, language), category)
    return doc.render(fmt, "service_requests", "request", [item])
