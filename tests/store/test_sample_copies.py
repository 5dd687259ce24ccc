"""A test that writes takes its own copy of the sample district; the shared one stays as loaded."""

from __future__ import annotations

from sqlalchemy import text

from gis.store.database import Database
from gis.store.users import create_user


def _count(database: Database, sql: str) -> int:
    with database.session() as session:
        return session.execute(text(sql)).scalar_one()


def test_a_copy_holds_the_sample_and_its_writes_stay_there(sample_db: Database, own_sample_db: Database) -> None:
    buildings = "SELECT count(*) FROM building"
    assert _count(own_sample_db, buildings) == _count(sample_db, buildings) > 1000
    users = "SELECT count(*) FROM app_user WHERE username = 'copy-writer'"
    with own_sample_db.session() as session:
        create_user(session, "copy-writer", "command_centre", key="key-copy-writer")
        session.execute(text("DELETE FROM building WHERE code IN (SELECT code FROM building LIMIT 10)"))
    assert _count(own_sample_db, users) == 1 and _count(sample_db, users) == 0
    assert _count(own_sample_db, buildings) == _count(sample_db, buildings) - 10
