"""Reading a posted Open311 service request: its fields (a form, as the spec says, or a JSON object),
its key (never the page cookie), and the case it asks for, each limit named when exceeded."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api import open311_format as doc
from api.auth import header_key, refuse_key_in_url
from gis.cases import CaseInput
from gis.errors import InvalidInput
from gis.text import storable_text

LIMITS = {"description": 4000, "address_string": 400, "media_url": 2000, "idempotency_key": 100}
STORED_EXTRAS: dict[str, int] = {"address_id": 100}
"""Posted fields kept with the case as they are (`service_case.extras`), with their length limits: staff see
them in the native API, Open311 output never shows them. A new stored field is a line here."""


def _scalar(name: str, value: object) -> str:
    if isinstance(value, dict | list):
        raise InvalidInput(f"field {name!r} must be a single value, not {type(value).__name__}")
    return str(value).strip()


async def posted_fields(request: Request) -> dict[str, str]:
    """The POST fields, from a form (the spec) or a JSON object; blank fields count as absent."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise InvalidInput("a JSON body must be an object of fields")
        fields = {k: _scalar(k, v) for k, v in body.items() if v is not None}
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        fields = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    else:
        raise InvalidInput(f"unsupported Content-Type {content_type or '(none)'!r}; send "
                           "application/x-www-form-urlencoded (as the spec says) or application/json")
    for name, value in fields.items():
        storable_text("a field name", name)
        storable_text(f"field {name!r}", value)
    return {k: v for k, v in fields.items() if v}


PostedFields = Annotated[dict[str, str], Depends(posted_fields)]


def api_key_of(request: Request, fields: dict[str, str]) -> str | None:
    """The key from the posted form (GeoReport v2's `api_key` field) or a header — never from the URL (it
    ends up in logs), nor from the page's session cookie (that would invite CSRF)."""
    refuse_key_in_url(request)
    return fields.get("api_key") or header_key(request)


def _checked_length(name: str, value: str | None, limit: int = 100) -> str | None:
    if value is not None and len(value) > limit:
        raise InvalidInput(f"{name} is {len(value)} characters long; at most {limit} are accepted")
    return value


def _limited(fields: dict[str, str], name: str, limit: int = 100) -> str | None:
    return _checked_length(name, fields.get(name), limit)


def _coordinate(fields: dict[str, str], name: str) -> float:
    try:
        return float(fields[name])
    except ValueError:
        raise InvalidInput(f"{name} {fields[name]!r} is not a number") from None


def _position(fields: dict[str, str]) -> tuple[float, float]:
    """(lon, lat) as given; we route by position, so an address alone is not enough."""
    given = [name for name in ("lat", "long") if name in fields]
    if len(given) == 1:
        raise InvalidInput(f"lat and long must be sent together; only {given[0]} was given")
    if not given:
        raise InvalidInput("lat and long are required: requests are routed to their grid by position, so "
                           "address_string or address_id alone cannot be accepted")
    return _coordinate(fields, "long"), _coordinate(fields, "lat")


def _media_url(fields: dict[str, str]) -> str | None:
    url = _limited(fields, "media_url", LIMITS["media_url"])
    if url is not None and (not url.startswith(("http://", "https://")) or any(c.isspace() for c in url)):
        raise InvalidInput(f"media_url {url[:80]!r} must be one http(s) URL")
    return url


def _reporter_name(fields: dict[str, str]) -> str | None:
    """Chinese order (family name first, no space) when both parts are CJK, else "first last"."""
    first, last = fields.get("first_name", ""), fields.get("last_name", "")
    cjk = all(ord(c) > 0x2E7F for c in first + last)
    name = f"{last}{first}" if cjk else " ".join(p for p in (first, last) if p)
    return _checked_length("first_name and last_name", name) or None


def case_input(fields: dict[str, str], header_key: str | None) -> CaseInput:
    lon, lat = _position(fields)
    description = _limited(fields, "description", LIMITS["description"]) or ""
    contact = "; ".join(fields[k] for k in ("phone", "email") if k in fields)
    return CaseInput(
        source=fields.get("source", "resident"), category_code=fields["service_code"], lon=lon, lat=lat,
        crs=fields.get("coordinate_system", "wgs84"),
        description=doc.join_media_url(description, _media_url(fields)),
        address=_limited(fields, "address_string", LIMITS["address_string"]) or "",
        reporter_name=_reporter_name(fields),
        reporter_contact=_checked_length("phone and email", contact) or None,
        idempotency_key=header_key or _limited(fields, "idempotency_key", LIMITS["idempotency_key"]),
        extras={name: _limited(fields, name, limit) for name, limit in STORED_EXTRAS.items() if name in fields},
    )
