"""The sample district's institutional records (gis/sample/institutions.py) on a copy of the sample with 100
days of history: schedules everywhere, a work-day report that equals counts made from the raw rows, and a
public grid card with a next work day and commitments but no private name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from gis.periods import district_today
from gis.permissions import Actor
from gis.sample.history import generate_history
from gis.sample.institutions import SAMPLE_USER, generate_institutions, has_institutions
from gis.settings import Settings
from gis.store.database import Database
from gis.store.grid_card import public_card
from gis.store.workday_report import workday_report

DAYS = 100
CENTRE = Actor(username="centre", role="command_centre")


@pytest.fixture(scope="module")
def sample(module_sample_db: Database) -> tuple[Database, dict[str, Any]]:
    with module_sample_db.session() as session:
        generate_history(session, seed=5, days=DAYS, progress=lambda _: None, cases_per_grid_day=0.2)
    with module_sample_db.session() as session:
        assert not has_institutions(session)
        made = generate_institutions(session, seed=5, days=DAYS, progress=lambda _: None)
    return module_sample_db, made


@pytest.fixture(scope="module")
def client(sample: tuple[Database, dict[str, Any]]) -> Iterator[TestClient]:
    database, _ = sample
    settings = Settings(database_url=str(database.engine.url.render_as_string(hide_password=False)))
    with TestClient(create_app(settings, database=database)) as test_client:
        yield test_client


def _rows(database: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    with database.session() as session:
        return [dict(r) for r in session.execute(text(sql), params).mappings()]


def test_every_community_has_a_work_day_and_some_a_reception(sample: tuple[Database, dict[str, Any]]) -> None:
    database, made = sample
    rows = _rows(database, "SELECT c.code, count(w.id) FILTER (WHERE w.kind = 'work_day') AS work_days, "
                           "count(w.id) FILTER (WHERE w.kind = 'reception') AS receptions, "
                           "min(a.n) AS fewest_cadres, max(a.n) AS most_cadres "
                           "FROM community AS c LEFT JOIN work_day AS w ON w.community_code = c.code "
                           "LEFT JOIN LATERAL (SELECT count(*) AS n FROM work_day_assignee AS x "
                           "WHERE x.work_day_id = w.id AND x.role = 'cadre') AS a ON w.kind = 'work_day' "
                           "GROUP BY c.code")
    assert len(rows) > 50
    assert all(r["work_days"] == 1 for r in rows)
    assert {r["fewest_cadres"] for r in rows} | {r["most_cadres"] for r in rows} <= {3, 4, 5}
    assert 0 < sum(r["receptions"] for r in rows) < len(rows)
    assert made["work_days"] == sum(r["work_days"] + r["receptions"] for r in rows)
    with database.session() as session:
        assert has_institutions(session)


def test_attendance_has_absences_and_one_cadre_who_never_came(sample: tuple[Database, dict[str, Any]]) -> None:
    database, _ = sample
    (marks,) = _rows(database, "SELECT count(*) FILTER (WHERE attended) AS came, count(*) AS marks "
                               "FROM work_day_attendance WHERE recorded_by = :u", u=SAMPLE_USER)
    assert 0.7 < marks["came"] / marks["marks"] < 0.97
    never = _rows(database, "SELECT a.id FROM work_day_assignee AS a JOIN work_day_attendance AS t "
                            "ON t.assignee_id = a.id AND t.work_day_id = a.work_day_id "
                            "WHERE a.role = 'cadre' GROUP BY a.id HAVING bool_or(t.attended) IS FALSE")
    assert len(never) >= 1


_RAW = """
WITH ids AS (SELECT id FROM work_day WHERE community_code = :c)
SELECT
  (SELECT count(DISTINCT (work_day_id, session_date)) FROM work_day_attendance
    WHERE work_day_id IN (SELECT id FROM ids) AND session_date BETWEEN :f AND :t) AS recorded_sessions,
  (SELECT count(DISTINCT (work_day_id, session_date)) FROM work_day_attendance
    WHERE work_day_id IN (SELECT id FROM ids) AND session_date BETWEEN :f AND :t AND attended) AS held,
  (SELECT count(*) FROM work_day_attendance
    WHERE work_day_id IN (SELECT id FROM ids) AND session_date BETWEEN :f AND :t AND attended) AS attendances,
  (SELECT count(*) FROM work_day_attendance AS t JOIN work_day_assignee AS a ON a.id = t.assignee_id
    WHERE t.work_day_id IN (SELECT id FROM ids) AND t.session_date BETWEEN :f AND :t AND t.attended
      AND a.role = 'cadre') AS cadre_attendances,
  (SELECT count(*) FROM service_case
    WHERE work_day_id IN (SELECT id FROM ids) AND session_date BETWEEN :f AND :t) AS raised,
  (SELECT coalesce(sum(r), 0) FROM (SELECT least(sum(v.households_reached), max(b.households)) AS r
     FROM visit AS v JOIN building AS b ON b.id = v.building_id
     WHERE v.work_day_id IN (SELECT id FROM ids) AND v.session_date BETWEEN :f AND :t
     GROUP BY v.work_day_id, v.session_date, v.building_id) AS s) AS households
"""


def test_the_work_day_report_of_one_community_equals_the_raw_counts(
        sample: tuple[Database, dict[str, Any]], client: TestClient) -> None:
    database, _ = sample
    community = _rows(database, "SELECT community_code FROM work_day WHERE kind = 'reception' "
                                "ORDER BY community_code LIMIT 1")[0]["community_code"]
    last = district_today()
    first = last - timedelta(days=89)
    with database.session() as session:
        report = workday_report(session, CENTRE, first, last, community=community)
    (raw,) = _rows(database, _RAW, c=community, f=first, t=last)
    assert report["sessions_scheduled"] == raw["recorded_sessions"] > 6  # every past session was recorded
    assert report["sessions_held"] == raw["held"]
    assert report["attendances"] == raw["attendances"] > 0
    assert report["cadre_attendances"] == raw["cadre_attendances"] > 0
    assert report["problems_raised"] == raw["raised"]
    assert report["households_visited"] == raw["households"] > 0
    assert report["problems_solved"] + report["problems_open"] <= report["problems_raised"]
    assert report["cadres"]["cadres_scheduled"] >= 3


def test_the_grid_card_shows_the_next_work_day_and_commitments_and_no_private_name(
        sample: tuple[Database, dict[str, Any]], client: TestClient) -> None:
    database, _ = sample
    grid = _rows(database, "SELECT o.place_code FROM party_org AS o JOIN party_membership AS m ON m.branch_id = o.id "
                           "WHERE o.level = 'grid_branch' ORDER BY o.place_code LIMIT 1")[0]["place_code"]
    with database.session() as session:
        card = public_card(session, grid)
    assert card["next_session"] is not None and card["next_session"]["date"] >= district_today().isoformat()
    assert card["commitments"]
    page = client.get(f"/card/{grid}")
    assert page.status_code == 200
    html = page.text
    assert card["next_session"]["place"] in html
    assert all(c["title"] in html for c in card["commitments"])
    public = [card["leader"]["name"] if card["leader"] else "", *(w["name"] for w in card["workers"]),
              (card["branch"] or {}).get("secretary") or ""]
    private = _rows(database, """
        SELECT person_name AS name FROM focus_household
        UNION SELECT p.name FROM focus_household AS f JOIN person AS p ON p.id = f.helper_person_id
        UNION SELECT p.name FROM party_membership AS m JOIN person AS p ON p.id = m.person_id
        UNION SELECT p.name FROM work_day_assignee AS a JOIN person AS p ON p.id = a.person_id
        UNION SELECT p.name FROM team_membership AS m JOIN person AS p ON p.id = m.person_id
            WHERE m.role IN ('volunteer', 'central_household', 'caring_resident')""")
    names = {r["name"] for r in private if not any(r["name"] in shown for shown in public)}
    assert len(names) > 100
    assert not [n for n in names if n in html]
