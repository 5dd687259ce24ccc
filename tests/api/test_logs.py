"""No key reaches the server's logs, not even from the kiosk's start-up address."""

from __future__ import annotations

import io
import logging

import uvicorn

from api.app import create_app
from api.logs import RedactSecrets, redact
from gis.settings import Settings


def test_secrets_in_a_request_line_are_redacted() -> None:
    assert redact("/wall?key=abc123&lang=en") == "/wall?key=[redacted]&lang=en"
    assert redact("/x?lang=en&api_key=s3cr3t") == "/x?lang=en&api_key=[redacted]"
    assert redact("/wall?rotate=0&KEY=abc") == "/wall?rotate=0&KEY=[redacted]"
    assert redact("/api/grids?bbox=1,2,3,4") == "/api/grids?bbox=1,2,3,4"


def test_uvicorns_access_log_never_writes_the_kiosk_key() -> None:
    create_app(Settings(database_url="postgresql+psycopg://unused/none"))
    uvicorn.Config(app=lambda *a: None, log_level="info").configure_logging()  # as `gridmap serve` does
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactSecrets) for f in access.filters), "uvicorn's set-up kept the filter"
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    access.addHandler(handler)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/wall?key=kiosk-secret&rotate=0",
                    "1.1", 303)
    finally:
        access.removeHandler(handler)
    assert "kiosk-secret" not in written.getvalue() and "/wall?key=[redacted]&rotate=0" in written.getvalue()
