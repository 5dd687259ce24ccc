"""Reading a small table (an organisation's list of members, a year's evaluation scores) from the CSV or
Excel file a district keeps, as rows of text keyed by the header: the checks are the caller's."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from gis.errors import InvalidInput, PayloadTooLarge

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


def read_table(filename: str, data: bytes) -> list[dict[str, str]]:
    """Rows of a `.csv` (UTF-8, with or without a BOM) or `.xlsx` file (its first sheet); header names are
    stripped and lower-cased; empty rows are skipped."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"the file is {len(data)} bytes; at most {MAX_BYTES} are allowed")
    name = (filename or "").lower()
    if name.endswith(".csv"):
        rows = _csv_rows(data)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        raise InvalidInput(f"file {filename!r} is neither .csv nor .xlsx", details={"field": "file"})
    if not rows:
        raise InvalidInput("the file has no header row", details={"field": "file"})
    header = [str(h or "").strip().lower() for h in rows[0]]
    body = [r for r in rows[1:] if any(str(v or "").strip() for v in r)]
    if len(body) > MAX_ROWS:
        raise InvalidInput(f"the file has {len(body)} rows; at most {MAX_ROWS} are allowed", details={"field": "file"})
    return [{h: _text(r[i]) if i < len(r) else "" for i, h in enumerate(header) if h} for r in body]


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the CSV file is not UTF-8 (byte {exc.start})", details={"field": "file"}) from exc
    if "\x00" in content:
        raise InvalidInput("the CSV file contains NUL bytes", details={"field": "file"})
    return list(csv.reader(io.StringIO(content)))


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise InvalidInput(f"the Excel file cannot be read: {exc}", details={"field": "file"}) from exc
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
