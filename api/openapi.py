"""The published OpenAPI document says what errors really look like.

FastAPI declares its own `HTTPValidationError` for every 422, but our handlers (api/errors.py) send
`{error, detail}` for every error, and Open311 routes send the spec's error list. The document is
rewritten once, here, so clients and schema-driven tests see the bodies we actually send.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "the kind of problem, e.g. InvalidInput, NotFound"},
        "detail": {"type": "string", "description": "what was wrong, in words for people"},
        "problems": {"type": "array", "items": {"type": "string"}, "description": "one line per bad field"},
        "details": {"type": "object", "description": "structured data about the problem"},
    },
}
OPEN311_ERRORS_SCHEMA: dict[str, Any] = {
    "title": "Open311Errors",
    "type": "array",
    "items": {"type": "object", "required": ["code", "description"],
              "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}},
}
NATIVE_ERRORS = {
    "400": "a body that cannot be parsed at all", "401": "not signed in: no valid session or API key",
    "403": "the caller may not do this", "404": "not found",
    "409": "the request clashes with the current state (e.g. an illegal workflow step)",
    "413": "too large", "429": "too many failed sign-ins; retry after Retry-After seconds",
    "422": "invalid input: the message names the field and the rule",
    "503": "the database is away for the moment; retry after Retry-After seconds",
}
OPEN311_ERRORS = {
    "400": "invalid input", "403": "missing or invalid api_key", "404": "unknown resource or format",
    "503": "the database is away for the moment; retry after Retry-After seconds",
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_OPEN311_REF = {"$ref": "#/components/schemas/Open311Errors"}


def _native_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _open311_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {
        "application/json": {"schema": _OPEN311_REF}, "text/xml": {"schema": {"type": "string"}}}}


def _html_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}},
                                                    "application/json": {"schema": _ERROR_REF}}}


def _is_page(operation: dict[str, Any]) -> bool:
    """Pages answer people in HTML (a bad query parameter still gets the JSON error body)."""
    return any("text/html" in (response.get("content") or {}) for response in operation.get("responses", {}).values())


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's validation-error schema with ours and declare every error status we send."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    schemas["Open311Errors"] = OPEN311_ERRORS_SCHEMA
    for path, operations in spec.get("paths", {}).items():
        open311 = path.startswith("/open311/")
        errors, make = (OPEN311_ERRORS, _open311_response) if open311 else (NATIVE_ERRORS, _native_response)
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if open311:
                responses.pop("422", None)
            page = _is_page(operation)
            for status, description in errors.items():
                responses[status] = _html_response(description) if page else make(description)
    return spec


def install_openapi(app: FastAPI) -> None:
    """Build the document on first request, with the error bodies rewritten, and keep it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
