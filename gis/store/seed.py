"""Reference data kept as files (categories, work calendar) and synced into the database."""

from __future__ import annotations

from importlib import resources

from sqlalchemy import Connection, text

from gis.categories import load_categories
from gis.workcalendar import read_calendar_entries


def seed_reference_data(connection: Connection) -> None:
    """Upsert categories and calendar days from gis/data; safe to run again after editing the files."""
    for category in load_categories().values():
        row = category.as_row()
        connection.execute(text(
            "INSERT INTO case_category (code, name_zh, name_en, kind, group_zh, limit_value, limit_unit, "
            "handling_rule, emergency, active) VALUES (:code, :name_zh, :name_en, :kind, :group_zh, "
            ":limit_value, :limit_unit, :handling_rule, :emergency, true) ON CONFLICT (code) DO UPDATE SET "
            "name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, kind = EXCLUDED.kind, "
            "group_zh = EXCLUDED.group_zh, limit_value = EXCLUDED.limit_value, limit_unit = EXCLUDED.limit_unit, "
            "handling_rule = EXCLUDED.handling_rule, emergency = EXCLUDED.emergency"
        ), row)
    calendar_text = (resources.files("gis") / "data" / "holidays.csv").read_text(encoding="utf-8")
    for entry in read_calendar_entries(calendar_text):
        connection.execute(text(
            "INSERT INTO calendar_day (day, kind, name) VALUES (:day, :kind, :name) "
            "ON CONFLICT (day) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name"
        ), {"day": entry.day, "kind": entry.kind, "name": entry.name})
