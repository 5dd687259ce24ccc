"""The OpenAPI page, with Swagger UI served by gridmap itself (FastAPI's default loads it from a CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.pages.assets import VENDOR_PACKAGES

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    swagger = VENDOR_PACKAGES["swagger-ui-dist"]
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} API",
        swagger_js_url=swagger.url("swagger-ui-bundle.js"),
        swagger_css_url=swagger.url("swagger-ui.css"),
        swagger_favicon_url=swagger.url("favicon-32x32.png"),
    )
