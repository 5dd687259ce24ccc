"""The case ledger (诉求台账): the cases of one grid, community or street reported in a period, as a
community office files them — an Excel workbook (ledger sheet and 汇总 summary) or a CSV.

Pure: no database, no web framework. `gis/store/ledger.py` supplies one dict per case; this package
checks the request (scope, period, language, who may read it), turns each case into a row under
Chinese (or English) headers, computes the summary from those same cases, and writes the bytes.

Choices a reader of the file should know:
- The period is local (Asia/Shanghai) dates, `from` inclusive and `to` exclusive, on the report time.
- Times are written as Excel datetimes in Asia/Shanghai local time without a time zone.
- Overdue is judged at export time: open past the deadline, or closed after it (as `GET /api/cases`).
- Every figure counts the cases reported in the period (a cohort), so its closure figures are shares of the
  cases *filed* (立案: not declined, past the filing decision): 立案办结率 = closed / filed and
  立案按期办结率 = closed by the deadline / filed. They are named apart from the wall's 结案率 and 按期结案率
  (`gis.metrics`: closed / due to close in the period), which count another set of cases; `RATES` below
  says what each ledger rate divides, and a test holds every label the two share to the same formula.
  Rework rate = cases reworked / cases handled; satisfaction = satisfied or basically satisfied / rated.
- Text a spreadsheet would run as a formula is kept as text: a string cell in the workbook, and a
  leading apostrophe in the CSV before = + - @ (OWASP's advice on CSV injection).
"""

from __future__ import annotations

from gis.ledger.columns import COLUMNS, Case, Column, format_row, format_rows, headers, local_time
from gis.ledger.files import build_csv, build_workbook
from gis.ledger.scope import (
    CSV_MEDIA_TYPE,
    EXPORTERS,
    MAX_PERIOD_DAYS,
    XLSX_MEDIA_TYPE,
    LedgerMeta,
    LedgerScope,
    PlaceNames,
    ScopeLevel,
    can_read_scope,
    check_may_export,
    check_read_scope,
    ledger_period,
    parse_scope,
)
from gis.ledger.summary import RATES, RateLabel, Summary, Tally, summarise

__all__ = ["COLUMNS", "CSV_MEDIA_TYPE", "EXPORTERS", "MAX_PERIOD_DAYS", "RATES", "XLSX_MEDIA_TYPE", "Case", "Column",
           "LedgerMeta", "LedgerScope", "PlaceNames", "RateLabel", "ScopeLevel", "Summary", "Tally", "build_csv",
           "build_workbook", "can_read_scope", "check_may_export", "check_read_scope", "format_row", "format_rows",
           "headers", "ledger_period", "local_time", "parse_scope", "summarise"]
