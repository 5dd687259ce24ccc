"""What the server's logs may say: never a key. The one place a key may travel in a URL is the kiosk's
start-up address (`/wall?key=...`), and uvicorn's access log writes every request line with its query,
so its records pass through `RedactSecrets` first."""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = re.compile(r"(?i)([?&](?:key|api_key|password)=)[^&#\s]*")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return SECRET_PARAMETERS.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments so no key, api_key or password value is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """On uvicorn's access and error loggers (idempotent; uvicorn's own logging set-up keeps filters)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
