"""The shipped category list and the checks on category files (no database)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from gis.categories import (
    COLUMNS,
    DEFAULT_HANDLING_RULE,
    GROUPS,
    Category,
    CategoryKind,
    HandlingRule,
    load_categories,
    parse_categories,
)
from gis.errors import InvalidInput
from gis.workcalendar import SHANGHAI, LimitUnit, TimeLimit, default_calendar

HEADER = ",".join(COLUMNS) + "\n"
GOOD_ROW = (
    "exposed_rubbish,暴露垃圾,Exposed rubbish,urban_event,市容环境,4,working_hours,locality_first,false\n"
)


@pytest.fixture(scope="module")
def categories() -> dict[str, Category]:
    return load_categories()


def test_shipped_file_loads(categories: dict[str, Category]) -> None:
    assert 25 <= len(categories) <= 40
    assert all(code == category.code for code, category in categories.items())


def test_every_limit_is_positive_and_emergencies_count_clock_hours(categories: dict[str, Category]) -> None:
    for category in categories.values():
        assert category.limit.value > 0, category.code
        if category.emergency:
            assert category.limit == TimeLimit(2, LimitUnit.clock_hours), category.code


@pytest.mark.parametrize(
    ("code", "limit"),
    [
        ("exposed_rubbish", TimeLimit(4, LimitUnit.working_hours)),
        ("street_uncleanliness", TimeLimit(2, LimitUnit.working_hours)),
        ("policy_consultation", TimeLimit(3, LimitUnit.working_days)),
        ("complaint", TimeLimit(13, LimitUnit.working_days)),
        ("road_collapse", TimeLimit(2, LimitUnit.clock_hours)),
    ],
)
def test_limits_from_local_standards(categories: dict[str, Category], code: str, limit: TimeLimit) -> None:
    assert categories[code].limit == limit


def test_kinds_groups_and_rules(categories: dict[str, Category]) -> None:
    for category in categories.values():
        assert category.group_zh in GROUPS[category.kind]
        assert category.handling_rule is DEFAULT_HANDLING_RULE[category.kind]
    used = {(c.kind, c.group_zh) for c in categories.values()}
    for kind, groups in GROUPS.items():
        for group in groups:
            assert (kind, group) in used, f"no category in {kind} / {group}"


def test_category_helpers(categories: dict[str, Category]) -> None:
    rubbish = categories["exposed_rubbish"]
    assert rubbish.name() == "暴露垃圾"
    assert rubbish.name("en") == "Exposed rubbish"
    assert rubbish.kind is CategoryKind.urban_event and rubbish.handling_rule is HandlingRule.locality_first
    assert list(rubbish.as_row()) == list(COLUMNS)
    assert rubbish.as_row()["limit_unit"] == "working_hours"
    # Dispatched Fri 14 Mar 2025 16:00; 4 working hours: Fri 1.5h, Mon 09:00 + 2.5h → Mon 11:30.
    due = rubbish.deadline(datetime(2025, 3, 14, 16, tzinfo=SHANGHAI), default_calendar())
    assert due == datetime(2025, 3, 17, 11, 30, tzinfo=SHANGHAI)


def test_a_good_minimal_file() -> None:
    parsed = parse_categories(HEADER + GOOD_ROW)
    assert list(parsed) == ["exposed_rubbish"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (GOOD_ROW.replace("working_hours", "working_weeks"),
         "line 2 (exposed_rubbish): limit_unit 'working_weeks' unknown; allowed: clock_hours"),
        (GOOD_ROW.replace(",4,", ",0,"),
         "line 2 (exposed_rubbish): time limit 0 working_hours must be positive"),
        (GOOD_ROW.replace(",4,", ",four,"), "limit_value 'four' is not a number"),
        (GOOD_ROW.replace("urban_event", "event"), "kind 'event' unknown"),
        (GOOD_ROW.replace("市容环境", "园林绿化"), "group_zh '园林绿化' is not a urban_event group"),
        (GOOD_ROW.replace("locality_first", "anyone"), "handling_rule 'anyone' unknown"),
        (GOOD_ROW.replace("false", "yes"), "emergency 'yes' must be true or false"),
        (GOOD_ROW.replace("false", "true"), "an emergency counts clock_hours"),
        (GOOD_ROW.replace("exposed_rubbish", "Exposed-Rubbish"), "code 'Exposed-Rubbish' must be lower-case"),
        (GOOD_ROW.replace("Exposed rubbish", ""), "name_en is empty"),
    ],
)
def test_bad_rows_are_named(row: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_categories(HEADER + row, "cats.csv")
    assert message in caught.value.message
    assert caught.value.message.startswith("cats.csv: 1 problem(s)")


def test_all_problems_reported_at_once() -> None:
    text = HEADER + GOOD_ROW + GOOD_ROW + GOOD_ROW.replace("exposed_rubbish", "x").replace(",4,", ",-1,")
    with pytest.raises(InvalidInput) as caught:
        parse_categories(text)
    assert caught.value.details["problems"] == [
        "line 3 (exposed_rubbish): code 'exposed_rubbish' is used twice",
        "line 4 (x): time limit -1 working_hours must be positive",
    ]


def test_missing_column_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="missing column"):
        parse_categories("code,name_zh\nx,y\n")
    path = tmp_path / "empty.csv"
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(InvalidInput, match="no categories"):
        load_categories(path)
