"""Reference data (categories, work calendar) follows the files in gis/data into an existing database,
writes only what differs, and the migrations carry no live code."""

from __future__ import annotations

import ast
import logging
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from gis.categories import load_categories
from gis.store.database import MIGRATIONS_DIR, Database
from gis.store.reference import load_calendar, load_category
from gis.store.seed import shipped_file, sync_reference_data


def _edited(csv_text: str, code: str, column: str, value: str) -> str:
    lines = csv_text.splitlines()
    header = lines[0].split(",")
    for i, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == code:
            cells[header.index(column)] = value
            lines[i] = ",".join(cells)
            return "\n".join(lines) + "\n"
    raise AssertionError(f"{code} not in the file")


def test_a_migrated_database_holds_the_files_and_a_sync_writes_nothing(db: Database) -> None:
    with db.engine.begin() as connection:
        report = sync_reference_data(connection)
    assert report.writes == 0
    with db.session() as session:
        stored = session.execute(text("SELECT code FROM case_category WHERE active")).scalars().all()
    assert sorted(stored) == sorted(load_categories())


def test_an_edited_time_limit_reaches_an_existing_database_once(
    db: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    with db.session() as session:
        assert load_category(session, "exposed_rubbish").limit.value == 4
    edited = _edited(shipped_file("categories.csv"), "exposed_rubbish", "limit_value", "6")
    with caplog.at_level(logging.INFO, logger="gridmap.reference"), db.engine.begin() as connection:
        first = sync_reference_data(connection, categories_csv=edited)
    assert first.changed["case_category"] == ["exposed_rubbish"]
    assert first.writes == 1
    assert "exposed_rubbish changed: limit_value 4.0 → 6" in caplog.text
    with db.session() as session:
        assert load_category(session, "exposed_rubbish").limit.value == 6
    with db.engine.begin() as connection:
        assert sync_reference_data(connection, categories_csv=edited).writes == 0


def test_added_and_removed_categories_are_added_and_retired(db: Database) -> None:
    shipped = shipped_file("categories.csv")
    without = "\n".join(line for line in shipped.splitlines() if not line.startswith("exposed_rubbish,")) + "\n"
    with_new = without + "pothole_patrol,坑洼巡查,Pothole patrol,component,园林绿化,1,working_days,owner_first,false\n"
    with db.engine.begin() as connection:
        report = sync_reference_data(connection, categories_csv=with_new)
    assert report.added["case_category"] == ["pothole_patrol"]
    assert report.retired["case_category"] == ["exposed_rubbish"]
    with db.session() as session:
        active = dict(session.execute(text("SELECT code, active FROM case_category")).all())
    assert active["exposed_rubbish"] is False and active["pothole_patrol"] is True
    with db.engine.begin() as connection:  # back to the shipped file: the retired one returns
        back = sync_reference_data(connection)
    assert back.changed["case_category"] == ["exposed_rubbish"] and back.retired["case_category"] == ["pothole_patrol"]


def test_calendar_follows_the_file_within_the_years_it_covers(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO calendar_day (day, kind, name) VALUES "
                                "('2031-01-01', 'holiday', '元旦'), ('2026-03-07', 'holiday', '本地假日')"))
    shipped = shipped_file("holidays.csv")
    lines = shipped.splitlines()
    dropped = next(line for line in lines if line.startswith("2026-10-07,"))
    edited = "\n".join(line for line in lines if line != dropped) + "\n2026-12-31,holiday,跨年\n"
    with db.engine.begin() as connection:
        report = sync_reference_data(connection, calendar_csv=edited)
    assert report.added["calendar_day"] == ["2026-12-31"]
    assert report.retired["calendar_day"] == ["2026-03-07", "2026-10-07"]
    with db.session() as session:
        calendar = load_calendar(session)
    assert not calendar.is_working_day(date(2026, 12, 31))  # a Thursday, now a holiday
    with db.session() as session:
        days = set(session.execute(text("SELECT day FROM calendar_day")).scalars())
    assert date(2031, 1, 1) in days and date(2026, 3, 7) not in days and date(2026, 10, 8) not in days
    with db.engine.begin() as connection:
        assert sync_reference_data(connection, calendar_csv=edited).writes == 0


def test_migrations_import_nothing_from_gis() -> None:
    for path in sorted(Path(MIGRATIONS_DIR, "versions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        assert not [m for m in imported if m and m.split(".")[0] == "gis"], path.name
