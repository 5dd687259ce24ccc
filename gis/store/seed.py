"""Reference data kept as files (categories, work calendar) and synced into the database.

`sync_reference_data` runs after every migration (`gis.store.database.upgrade`, so on `gridmap migrate`
and at start-up): it compares the files with the tables and writes only what differs, logging each row
it adds, changes or retires. The files are authoritative for what they list: a category missing from
categories.csv is retired (`active = false`; its cases keep it), and a calendar day missing from
holidays.csv is removed when the file covers its year (days of other years are left alone).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from sqlalchemy import Connection, inspect, text

from gis.categories import parse_categories
from gis.workcalendar import CalendarEntry, read_calendar_entries

log = logging.getLogger("gridmap.reference")

_CATEGORY_COLUMNS = ("code", "name_zh", "name_en", "kind", "group_zh", "limit_value", "limit_unit",
                     "handling_rule", "emergency")


@dataclass
class SyncReport:
    """What one sync wrote, per table: keys added, changed and retired (removed)."""

    added: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, list[str]] = field(default_factory=dict)
    retired: dict[str, list[str]] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        return sum(len(keys) for part in (self.added, self.changed, self.retired) for keys in part.values())

    def summary(self) -> str:
        parts = [f"{table}: {len(self.added.get(table, []))} added, {len(self.changed.get(table, []))} changed, "
                 f"{len(self.retired.get(table, []))} retired" for table in ("case_category", "calendar_day")]
        return "; ".join(parts)


def shipped_file(name: str) -> str:
    return (resources.files("gis") / "data" / name).read_text(encoding="utf-8")


def sync_reference_data(
    connection: Connection, *, categories_csv: str | None = None, calendar_csv: str | None = None,
) -> SyncReport:
    """Bring case_category and calendar_day in line with the CSV texts (default: the shipped files).

    Does nothing on a database not yet migrated that far (no reference tables)."""
    report = SyncReport()
    tables = set(inspect(connection).get_table_names())
    if not {"case_category", "calendar_day"} <= tables:
        return report
    categories = parse_categories(categories_csv or shipped_file("categories.csv"), "categories.csv")
    _sync_categories(connection, [c.as_row() for c in categories.values()], report)
    entries = read_calendar_entries(calendar_csv or shipped_file("holidays.csv"))
    _sync_calendar(connection, entries, report)
    if report.writes:
        log.info("reference data synced: %s", report.summary())
    return report


def _sync_categories(connection: Connection, rows: list[dict[str, object]], report: SyncReport) -> None:
    stored = {r.code: dict(r._mapping) for r in connection.execute(text(
        f"SELECT {', '.join(_CATEGORY_COLUMNS)}, active FROM case_category"))}
    added, changed = report.added.setdefault("case_category", []), report.changed.setdefault("case_category", [])
    for row in rows:
        wanted = {**row, "active": True}
        have = stored.get(row["code"])  # type: ignore[arg-type]
        if have == wanted:
            continue
        if have is None:
            added.append(str(row["code"]))
            log.info("category %s added", row["code"])
        else:
            changed.append(str(row["code"]))
            log.info("category %s changed: %s", row["code"], _difference(have, wanted))
        connection.execute(text(
            f"INSERT INTO case_category ({', '.join(_CATEGORY_COLUMNS)}, active) VALUES "
            f"({', '.join(':' + c for c in _CATEGORY_COLUMNS)}, true) ON CONFLICT (code) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in (*_CATEGORY_COLUMNS[1:], "active"))
        ), row)
    listed = {row["code"] for row in rows}
    gone = sorted(code for code, have in stored.items() if code not in listed and have["active"])
    report.retired["case_category"] = gone
    for code in gone:
        log.info("category %s retired (not in categories.csv; its cases keep it)", code)
    if gone:
        connection.execute(text("UPDATE case_category SET active = false WHERE code = ANY(:codes)"), {"codes": gone})


def _sync_calendar(connection: Connection, entries: Iterable[CalendarEntry], report: SyncReport) -> None:
    stored = {r.day: (r.kind, r.name) for r in connection.execute(text("SELECT day, kind, name FROM calendar_day"))}
    wanted = {e.day: (e.kind, e.name) for e in entries}
    added, changed = report.added.setdefault("calendar_day", []), report.changed.setdefault("calendar_day", [])
    for day, (kind, name) in sorted(wanted.items()):
        have = stored.get(day)
        if have == (kind, name):
            continue
        (added if have is None else changed).append(day.isoformat())
        log.info("calendar %s %s: %s %s", day, "added" if have is None else f"changed from {have}", kind, name)
        connection.execute(text(
            "INSERT INTO calendar_day (day, kind, name) VALUES (:day, :kind, :name) "
            "ON CONFLICT (day) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name"
        ), {"day": day, "kind": kind, "name": name})
    years = {day.year for day in wanted}
    gone = sorted(day for day in stored if day not in wanted and day.year in years)
    report.retired["calendar_day"] = [day.isoformat() for day in gone]
    for day in gone:
        log.info("calendar %s removed (not in holidays.csv, which covers %d)", day, day.year)
    if gone:
        connection.execute(text("DELETE FROM calendar_day WHERE day = ANY(:days)"), {"days": gone})


def _difference(have: dict[str, object], wanted: dict[str, object]) -> str:
    return ", ".join(f"{k} {have[k]!r} → {wanted[k]!r}" for k in wanted if have.get(k) != wanted[k])
