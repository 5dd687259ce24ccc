"""Period specs → spans of whole Asia/Shanghai days: answers worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from gis.errors import InvalidInput
from gis.periods import DEFAULT_PERIOD, FORMS, Period, parse_period, period_between

SHANGHAI = timezone(timedelta(hours=8))
# 2025-03-10 18:30 UTC is already 2025-03-11 02:30 in Shanghai: "today" is the 11th.
NOW = datetime(2025, 3, 10, 18, 30, tzinfo=UTC)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("spec", "first", "last"), [
    ("today", date(2025, 3, 11), date(2025, 3, 11)),
    ("7d", date(2025, 3, 5), date(2025, 3, 11)),
    ("30d", date(2025, 2, 10), date(2025, 3, 11)),
    ("90d", date(2024, 12, 12), date(2025, 3, 11)),
    ("365d", date(2024, 3, 12), date(2025, 3, 11)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2025-12", date(2025, 12, 1), date(2025, 12, 31)),
    ("2025-03-01..2025-03-15", date(2025, 3, 1), date(2025, 3, 15)),
    ("2025-03-01..2025-03-01", date(2025, 3, 1), date(2025, 3, 1)),
    (" 7D ", date(2025, 3, 5), date(2025, 3, 11)),
])
def test_spans_are_whole_local_days_with_the_end_day_included(spec: str, first: date, last: date) -> None:
    span = parse_period(spec, NOW)
    assert (span.first_day, span.last_day) == (first, last)
    assert span.start == _midnight(first)
    assert span.end == _midnight(last + timedelta(days=1))
    assert span.start.utcoffset() == timedelta(hours=8)


def test_rolling_periods_count_today_as_their_last_day() -> None:
    span = parse_period("7d", NOW)
    assert (span.end - span.start) == timedelta(days=7)
    assert span.start <= NOW < span.end


def test_default_is_thirty_days() -> None:
    assert DEFAULT_PERIOD == "30d"
    assert parse_period(None, NOW) == parse_period("30d", NOW)
    assert parse_period("", NOW).spec == "30d"


def test_labels_in_both_languages() -> None:
    assert parse_period("30d", NOW).label() == "近30天"
    assert parse_period("30d", NOW).label("en") == "Last 30 days"
    assert parse_period("2025-03", NOW).label("zh-CN") == "2025年3月"
    assert parse_period("2025-03", NOW).label("en-GB") == "March 2025"
    assert parse_period("today", NOW).label("en") == "Today"


def test_as_json_gives_local_iso_times_with_an_exclusive_end() -> None:
    assert parse_period("2025-03", NOW).as_json("en") == {
        "spec": "2025-03", "start": "2025-03-01T00:00:00+08:00", "end": "2025-04-01T00:00:00+08:00",
        "first_day": "2025-03-01", "last_day": "2025-03-31", "label": "March 2025",
    }


@pytest.mark.parametrize("spec", [
    "yesterday", "14d", "30", "2025-13", "2025-00", "2025-3", "2025-02-30..2025-03-01",
    "2025-03-15..2025-03-01", "2025-03-01..", "2025-03-01...2025-03-02", "2000-01-01..2020-01-01",
])
def test_bad_specs_name_the_allowed_forms(spec: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_period(spec, NOW)
    assert repr(spec) in str(caught.value)
    for form in FORMS:
        assert form in str(caught.value)
    assert caught.value.details["allowed"] == list(FORMS)


def test_now_must_be_aware() -> None:
    with pytest.raises(InvalidInput, match="no timezone"):
        parse_period("7d", datetime(2025, 3, 10, 12, 0))


def test_one_period_type_for_ledger_dates_and_map_specs() -> None:
    january = period_between(date(2025, 1, 1), date(2025, 2, 1))
    assert january == parse_period("2025-01", NOW)  # the same value, whichever way it was asked
    assert isinstance(january, Period) and january.slug() == "2025-01" and january.end_day == date(2025, 2, 1)
    odd = period_between(date(2025, 1, 3), date(2025, 1, 6))
    assert (odd.spec, odd.first_day, odd.last_day) == ("2025-01-03..2025-01-05", date(2025, 1, 3), date(2025, 1, 5))
    assert odd.describe("zh-CN") == "2025-01-03 至 2025-01-05" and odd.describe("en") == "2025-01-03 to 2025-01-05"
    with pytest.raises(InvalidInput, match="at most 366"):
        period_between(date(2025, 1, 1), date(2026, 1, 3), max_days=366)
