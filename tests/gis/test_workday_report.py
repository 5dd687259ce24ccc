"""The work-day report's figures and the roster's rotation, on hand-made rows whose answers are written out
here (gis/workday_report.py, gis/rosters.py)."""

from __future__ import annotations

from datetime import date

import pytest

from gis.rosters import groups_of, on_duty, on_duty_group, role_counts, session_index, session_of, shown
from gis.workcalendar import WorkCalendar
from gis.workday_report import REGULAR_TIMES, CadreDuty, Counts, cadre_attendance, report, share
from gis.workday_report_files import FIGURES, report_csv
from gis.workdays import Rule, Schedule

WEDNESDAYS = Schedule(valid_from=date(2027, 3, 1), rule=Rule(3))  # 3, 10, 17, 24, 31 March 2027
HOLIDAY = WorkCalendar(holidays=[date(2027, 3, 17)])


def _duties(times: dict[str, tuple[int, int]]) -> list[CadreDuty]:
    """Per cadre (came, absent): that many present and absent duties."""
    return [CadreDuty(key, key.upper(), "干部", attended)
            for key, (came, absent) in times.items() for attended in [True] * came + [False] * absent]


# -- each cadre's attendance ---------------------------------------------------------------------------------


def test_a_session_with_three_cadres_and_one_absentee() -> None:
    got = cadre_attendance(_duties({"a": (1, 0), "b": (1, 0), "c": (0, 1)}))
    assert (got["cadres_scheduled"], got["came_regularly"], got["never_came"]) == (3, 0, 1)
    assert got["never"] == [{"key": "c", "name": "C", "title": "干部"}]
    assert got["regular_share"] == 0.0 and got["never_share"] == round(1 / 3, 4)
    assert got["times"] == {"a": 1, "b": 1, "c": 0}


def test_three_times_or_more_is_regular_and_never_is_zero() -> None:
    assert REGULAR_TIMES == 3
    got = cadre_attendance(_duties({"a": (4, 0), "b": (3, 1), "c": (2, 2), "d": (0, 4), "e": (0, 1)}))
    assert (got["cadres_scheduled"], got["came_regularly"], got["never_came"]) == (5, 2, 2)
    assert (got["regular_share"], got["never_share"]) == (0.4, 0.4)
    assert [n["key"] for n in got["never"]] == ["d", "e"]


def test_nobody_scheduled_gives_no_share() -> None:
    got = cadre_attendance([])
    assert (got["cadres_scheduled"], got["regular_share"], got["never_share"], got["never"]) == (0, None, None, [])


def test_the_report_hides_the_names_unless_allowed() -> None:
    counts = Counts(sessions_scheduled=2, sessions_held=1, attendances=4, cadre_attendances=2, households_visited=10,
                    problems_raised=5, problems_solved=3, problems_open=2, evaluated=4, satisfied=3)
    duties = _duties({"a": (1, 0), "b": (0, 1)})
    full = report(counts, duties, show_names=True)
    assert full["satisfaction"] == 0.75 and full["cadres"]["never"][0]["name"] == "B"
    bare = report(counts, duties, show_names=False)
    assert "never" not in bare["cadres"] and "times" not in bare["cadres"] and bare["cadres"]["never_came"] == 1
    assert "B" not in repr(bare)
    assert report(Counts(*[0] * 10), [], show_names=True)["satisfaction"] is None


@pytest.mark.parametrize(("part", "whole", "expected"), [(0, 0, None), (1, 3, 0.3333), (2, 2, 1.0)])
def test_share(part: int, whole: int, expected: float | None) -> None:
    assert share(part, whole) == expected


# -- sessions and rotation ---------------------------------------------------------------------------------


def test_session_index_counts_from_valid_from_and_skips_days_off() -> None:
    assert [session_index(WEDNESDAYS, date(2027, 3, d)) for d in (3, 10, 17, 24, 31)] == [0, 1, 2, 3, 4]
    assert session_index(WEDNESDAYS, date(2027, 3, 11)) is None
    # A holiday on the 17th: no session, and it uses no turn.
    assert [session_index(WEDNESDAYS, date(2027, 3, d), HOLIDAY) for d in (3, 10, 17, 24, 31)] == [0, 1, None, 2, 3]


def test_a_rotation_deals_turns_in_group_order() -> None:
    people = [{"id": "leader", "rotation_group": None}, {"id": "p1", "rotation_group": 0},
              {"id": "c1", "rotation_group": 0}, {"id": "p2", "rotation_group": 1}, {"id": "c2", "rotation_group": 2}]
    assert groups_of(p["rotation_group"] for p in people) == [0, 1, 2]
    assert [on_duty_group(k, [0, 1, 2]) for k in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    assert on_duty_group(5, []) is None
    assert [[p["id"] for p in on_duty(people, k)] for k in range(4)] == [
        ["leader", "p1", "c1"], ["leader", "p2"], ["leader", "c2"], ["leader", "p1", "c1"]]
    # Groups need not be numbered from 0 without gaps: the sorted groups take turns.
    sparse = [{"id": "x", "rotation_group": 5}, {"id": "y", "rotation_group": 9}]
    assert [[p["id"] for p in on_duty(sparse, k)] for k in range(3)] == [["x"], ["y"], ["x"]]


def test_a_later_visit_belongs_to_the_last_session_before_it() -> None:
    assert session_of(WEDNESDAYS, date(2027, 3, 10)) == date(2027, 3, 10)
    assert session_of(WEDNESDAYS, date(2027, 3, 14)) == date(2027, 3, 10)
    assert session_of(WEDNESDAYS, date(2027, 3, 2)) is None  # before the first session
    once = Schedule(valid_from=date(2027, 3, 1), on=date(2027, 3, 2))
    assert session_of(once, date(2027, 4, 1)) == date(2027, 3, 2)  # 30 days later: still its session
    assert session_of(once, date(2027, 4, 3)) is None  # 32 days later: too late


def test_the_public_sees_roles_and_counts_not_names() -> None:
    people = [{"assignee_id": 1, "role": "cadre", "name": "张三", "title": "副区长", "attended": True},
              {"assignee_id": 2, "role": "congress_rep", "name": "李四", "title": "区人大代表", "attended": None},
              {"assignee_id": 3, "role": "cadre", "name": "王五", "title": None, "attended": False}]
    assert role_counts(people) == {"cadre": 2, "congress_rep": 1}
    public = shown({"date": "2027-03-03", "place": "党群服务中心"}, people, show_names=False)
    assert public == {"date": "2027-03-03", "place": "党群服务中心", "roles": {"cadre": 2, "congress_rep": 1},
                      "people_count": 3, "present": 1}
    named = shown({"date": "2027-03-03"}, people, show_names=True)
    assert [p["name"] for p in named["people"]] == ["张三", "李四", "王五"]
    assert set(named["people"][0]) == {"assignee_id", "role", "name", "title", "attended"}


def test_the_csv_lists_every_figure_and_never_runs_a_name_as_a_formula() -> None:
    counts = Counts(sessions_scheduled=2, sessions_held=2, attendances=3, cadre_attendances=3, households_visited=7,
                    problems_raised=1, problems_solved=1, problems_open=0, evaluated=1, satisfied=1)
    body = {"from": "2027-03-01", "counted_to": "2027-03-31",
            **report(counts, [CadreDuty("person:1", "=HYPERLINK(1)", None, False)], show_names=True)}
    lines = report_csv(body, "en").decode("utf-8-sig").splitlines()
    assert lines[1] == "Figure,Value"
    assert lines[2:2 + len(FIGURES)] == [
        "Sessions scheduled,2", "Sessions held,2", "Attendances,3", "Cadre attendances,3", "Households visited,7",
        "Problems raised,1", "Problems solved,1", "Problems still open,0", "Evaluated,1",
        "Satisfied (incl. basically),1", "Satisfaction,1.0"]
    assert lines[-1] == "'=HYPERLINK(1),"
    assert "安排场次,2" in report_csv(body).decode("utf-8-sig")
