"""Open311 GeoReport v2 documents: our categories and cases in the spec's fields, rendered as JSON or XML.

Pure functions, no database and no routes (those are in `api/routers/open311.py`). XML follows the
spec's element names (<services><service>, <service_requests><request>, <discovery>, <errors><error>);
JSON is the same tree by the spec's "Spark convention" (a plural element becomes an array).

What a request shows is a fixed list of fields built here, never the stored case itself: reporter names,
phone numbers, e-mail addresses, team members and the internal ledger cannot leak into Open311 output.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import Response

from gis.categories import Category, CategoryKind, HandlingRule
from gis.i18n import is_english
from gis.workflow import STATUS_CATEGORY, CaseStatus, StatusCategory, label

__all__ = [
    "CHANGESET",
    "FORMATS",
    "MEDIA_MARKER",
    "SPECIFICATION",
    "discovery",
    "errors_response",
    "join_media_url",
    "open311_status",
    "render",
    "request_item",
    "service",
    "service_definition",
    "service_notice",
    "split_media_url",
]

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-21T00:00:00+08:00"
"""When this interface (its service list shape and definitions) last changed; bump it with them."""
CONTACT = "区网格化服务管理中心（网格办）/ the district grid office, which runs the command centre"
KEY_SERVICE = ("API keys (role open311_client) are issued by the district grid office; "
               "reading services and requests needs no key, posting a request does")
FORMATS = {"xml": "text/xml", "json": "application/json"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
MEDIA_MARKER = "\n\nmedia_url: "
"""How a client's media_url is kept at the end of the case description (we never fetch the URL)."""

_SINGULAR = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_KIND_ZH = {
    CategoryKind.urban_event: "事件", CategoryKind.component: "部件", CategoryKind.livelihood: "民生诉求",
}
_RULE_WORDS = {
    HandlingRule.locality_first: ("属地优先：由事发地所在网格、社区和街道先行处置",
                                  "locality first: the grid, community and street where it happens act"),
    HandlingRule.owner_first: ("权属优先：先交由设施的权属单位处置",
                               "owner first: the department or company that owns the facility acts first"),
    HandlingRule.grid_team: ("由网格服务团队处置", "handled by the grid's service team"),
}


# -- documents ----------------------------------------------------------------------------------


def discovery(endpoint_url: str) -> dict[str, Any]:
    """The Service Discovery document for our one production endpoint."""
    return {
        "changeset": CHANGESET, "contact": CONTACT, "key_service": KEY_SERVICE,
        "endpoints": [{
            "specification": SPECIFICATION, "url": endpoint_url, "changeset": CHANGESET, "type": "production",
            "formats": list(FORMATS.values()),
        }],
    }


def service_notice(category: Category, language: str) -> str:
    """The time limit in words: "派遣后4工作时内处置" / "to be handled within 4 working hours of dispatch"."""
    if is_english(language):
        return f"to be handled within {category.limit.describe('en')} of dispatch"
    return f"派遣后{category.limit.describe('zh')}内处置"


def _service_description(category: Category, language: str) -> str:
    zh_rule, en_rule = _RULE_WORDS[category.handling_rule]
    if is_english(language):
        clock = "emergency: clock hours, 24×7" if category.emergency else "counted on the work calendar"
        return f"Time limit {category.limit.describe('en')} from dispatch ({clock}); {en_rule}."
    clock = "紧急，按自然小时全天计时" if category.emergency else "按工作日历计时"
    return f"处置时限：派遣后{category.limit.describe('zh')}（{clock}）；{zh_rule}。"


def service(category: Category, language: str) -> dict[str, Any]:
    """One entry of the service list: a case category."""
    return {
        "service_code": category.code,
        "service_name": category.name(language),
        "description": _service_description(category, language),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join((category.name_zh, category.name_en, category.group_zh,
                              _KIND_ZH[category.kind])),
        "group": category.group_zh,
    }


def service_definition(category: Category) -> dict[str, Any]:
    """A service definition: our categories ask for no extra attributes."""
    return {"service_code": category.code, "attributes": []}


def open311_status(status: CaseStatus) -> str:
    """open | closed: declined, closed and evaluated cases are closed; every other status is open."""
    return "open" if STATUS_CATEGORY[status] is StatusCategory.open else "closed"


def _status_notes(status: CaseStatus, language: str) -> str:
    """The status in words, nothing more: staff notes and decline reasons are internal and may name people."""
    return f"{label(status, language)} ({status.value})"


def _w3c(value: str | datetime | None) -> str | None:
    """A timestamp in the spec's w3 format, in the district's time (+08:00), to the second."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def join_media_url(description: str, media_url: str | None) -> str:
    """The description to store: the client's media_url, when given, kept after a marker line."""
    return f"{description}{MEDIA_MARKER}{media_url}" if media_url else description


def split_media_url(stored: str) -> tuple[str, str | None]:
    """(description, media_url) from a stored description; see `join_media_url`."""
    text, marker, url = stored.rpartition(MEDIA_MARKER)
    if not marker or not url.startswith(("http://", "https://")) or "\n" in url:
        return stored, None
    return text, url


def request_item(case: Mapping[str, Any], category: Category | None, language: str) -> dict[str, Any]:
    """One case as a GeoReport v2 service request: only these fields, never the reporter's personal data.

    `updated_datetime` of a closed request is when it was closed (or declined), as the spec asks.
    `media_url` is the URL the client posted, if any: photos stored here need an API key to read,
    so they are not offered to anonymous Open311 readers.
    """
    status = CaseStatus(case["status"])
    stamps = case["timestamps"]
    updated = case["updated_at"]
    if open311_status(status) == "closed":
        updated = stamps.get("closed_at") or stamps.get("declined_at") or updated
    description, media_url = split_media_url(case.get("description") or "")
    names = case["category"]
    return {
        "service_request_id": str(case["id"]),
        "status": open311_status(status),
        "status_notes": _status_notes(status, language),
        "service_name": names["name_en"] if is_english(language) else names["name_zh"],
        "service_code": names["code"],
        "description": description or None,
        "agency_responsible": case.get("grid_code") or "unrouted",
        "service_notice": service_notice(category, language) if category else None,
        "requested_datetime": _w3c(stamps["reported_at"]),
        "updated_datetime": _w3c(updated),
        "expected_datetime": _w3c(case.get("deadline")),
        "address": case.get("address") or None,
        "address_id": None,
        "zipcode": None,
        "lat": case["position"]["lat"],
        "long": case["position"]["lon"],
        "media_url": media_url,
    }


# -- rendering ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, fields: Mapping[str, Any]) -> None:
    """Children for each field; a list becomes a plural element holding singular ones (Spark convention)."""
    for name, value in fields.items():
        child = ET.SubElement(element, name)
        if isinstance(value, list):
            for entry in value:
                item = ET.SubElement(child, _SINGULAR.get(name, name.rstrip("s")))
                if isinstance(entry, Mapping):
                    _fill(item, entry)
                else:
                    item.text = _text(entry)
        elif isinstance(value, Mapping):
            _fill(child, value)
        else:
            child.text = _text(value)


def to_xml(root: str, item: str | None, payload: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """An XML document with the declaration the spec asks for; `item` names the elements of a list."""
    element = ET.Element(root)
    if isinstance(payload, Mapping):
        _fill(element, payload)
    else:
        for entry in payload:
            _fill(ET.SubElement(element, item or "item"), entry)
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    return (declaration + ET.tostring(element, encoding="unicode")).encode("utf-8")


def render(
    fmt: str, root: str, item: str | None, payload: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *, status_code: int = 200, headers: Mapping[str, str] | None = None,
) -> Response:
    """The payload as JSON when `fmt` is "json", else as XML (the spec's required format); UTF-8."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    else:
        body = to_xml(root, item, payload)
    return Response(body, status_code=status_code, headers=dict(headers or {}),
                    media_type=f"{FORMATS.get(fmt, 'text/xml')}; charset=utf-8")


def errors_response(fmt: str, status_code: int, descriptions: Sequence[str],
                    headers: Mapping[str, str] | None = None) -> Response:
    """The spec's error document: <errors><error><code/><description/></error></errors> or its JSON array."""
    payload = [{"code": status_code, "description": text} for text in descriptions]
    return render(fmt, "errors", "error", payload, status_code=status_code, headers=headers)
