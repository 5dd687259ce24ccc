"""Masking rules for personal data (gis/privacy.py): each rule with answers written out by hand."""

from __future__ import annotations

import pytest

from gis.privacy import has_personal_data, mask_address, mask_case, mask_contact, mask_name, mask_phone, mask_row


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张**"), ("欧阳娜娜", "欧**"), ("李", "李**"), (" 王五 ", "王**"), ("John Smith", "J**"),
    ("", ""), (None, None),
])
def test_a_name_keeps_its_first_character(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812341234", "138****1234"),
    ("138-1234-1234", "138****1234"),
    ("+86 138 1234 1234", "138****1234"),
    ("8613812341234", "138****1234"),
    ("023-63891234", "*********34"),  # a landline: not a mobile, all but the last 2
    ("12345", "***45"),
    ("110", "*10"),
    ("7", "**"),
    ("", ""), (None, None),
])
def test_a_phone_keeps_three_first_and_four_last_digits_or_only_two(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


def test_a_contact_masks_each_phone_and_email_in_it() -> None:
    assert mask_contact("13912345678; zhang@example.cn") == "139****5678; z***@example.cn"
    assert mask_contact("座机 023-63891234 手机13800001111") == "座机 *********34 手机138****1111"
    assert mask_contact(None) is None


@pytest.mark.parametrize(("address", "masked"), [
    ("渝中区解放碑街道民族路123号5栋", "渝中区解放碑街道民族路…"),  # 街道 is the sub-district, not the road
    ("测试路1号", "测试路…"),
    ("民生路12号3单元502室", "民生路…"),
    ("长江大道8号附1号", "长江大道…"),
    ("较场口街5号", "较场口街…"),
    ("十八梯巷12号", "十八梯巷…"),
    ("重庆市渝中区中山一路二十号", "重庆市渝中区中山一路…"),  # 一路 is a name; 二十号 the number
    ("八一广场3号", "八一广场…"),  # no road word: the part before the number
    ("解放碑123号附近民族路", "解放碑…"),  # never anything after a number
    ("5栋", "…"),
    ("解放碑步行街", "解放碑步行街"),  # a street already: nothing to cut
    ("12 Baker Street, London", "Baker Street…"),
    ("Baker Street 12", "Baker Street…"),
    ("", ""), (None, None),
])
def test_an_address_is_cut_to_its_street(address: str | None, masked: str | None) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize("address", [
    "渝中区解放碑街道民族路123号5栋", "民生路12号3单元502室", "12 Baker Street, London", "Flat 3, 12 Baker Street",
    "解放碑123号附近民族路",
])
def test_no_house_number_survives(address: str) -> None:
    assert not any(ch.isdigit() for ch in mask_address(address) or "")


def test_a_case_is_masked_in_reporter_address_and_address_id_only() -> None:
    case = {"id": 7, "description": "垃圾", "address": "民生路12号3单元502室",
            "reporter": {"name": "张三", "contact": "13912345678"}, "extras": {"address_id": "A-1", "other": 1}}
    masked = mask_case(case)
    assert masked == {"id": 7, "description": "垃圾", "address": "民生路…",
                      "reporter": {"name": "张**", "contact": "139****5678"},
                      "extras": {"address_id": None, "other": 1}}
    assert case["reporter"]["name"] == "张三"  # the original is untouched
    assert has_personal_data(case) and not has_personal_data({"reporter": {"name": None}, "address": None})


def test_a_ledger_row_is_masked_in_its_three_columns() -> None:
    row = {"id": 1, "reporter_name": "张三", "reporter_contact": "13912345678", "address": "测试路1号", "x": "y"}
    assert mask_row(row) == {"id": 1, "reporter_name": "张**", "reporter_contact": "139****5678",
                             "address": "测试路…", "x": "y"}
