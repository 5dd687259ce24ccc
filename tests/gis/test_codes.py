"""Place codes: every rule gives an error that names the value and the rule."""

from __future__ import annotations

import pytest

from gis.codes import (
    CommunityCode,
    GridCode,
    StreetCode,
    is_valid_community_code,
    is_valid_district_code,
    is_valid_grid_code,
    is_valid_street_code,
    make_grid_code,
    parse_community_code,
    parse_district_code,
    parse_grid_code,
    parse_street_code,
)
from gis.errors import InvalidInput

# Real district codes (GB/T 2260): Dongcheng, Beijing; Yuzhong, Chongqing; Lüyuan, Changchun.
DONGCHENG, YUZHONG, LUYUAN = "110101", "500103", "220106"


def test_grid_code_splits_into_its_parts() -> None:
    code = parse_grid_code("500103002004007")
    assert code == GridCode(district=YUZHONG, street="002", community="004", sequence="007")
    assert code.street_code == "500103002"
    assert code.community_code == "500103002004"
    assert code.code == str(code) == "500103002004007"


def test_grid_code_is_frozen() -> None:
    code = parse_grid_code("110101001001001")
    with pytest.raises(AttributeError):
        code.sequence = "002"  # type: ignore[misc]


def test_an_integer_grid_code_keeps_its_digits() -> None:
    assert parse_grid_code(220106003002001).code == "220106003002001"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("11010100100100", "exactly 15 digits"),  # 14 digits
        ("1101010010010011", "exactly 15 digits"),  # 16 digits
        ("11010100100100A", "exactly 15 digits"),
        (" 110101001001001", "exactly 15 digits"),  # stray space from a spreadsheet
        ("١١٠١٠١٠٠١٠٠١٠٠١", "exactly 15 digits"),  # Arabic-Indic digits are not 0–9
        ("110101001001000", "sequence part 000"),
        ("110101000001001", "street part 000"),
        ("110101001000001", "community part 000"),
        ("990101001001001", "not a PRC province code"),
        ("000101001001001", "not a PRC province code"),
        (110101001001001.0, "not float"),  # a spreadsheet turned the code into a number
        (None, "not NoneType"),
    ],
)
def test_bad_grid_codes_name_value_and_rule(value: object, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_grid_code(value)
    assert words in str(caught.value)
    assert repr(value) in str(caught.value)
    assert is_valid_grid_code(value) is False


@pytest.mark.parametrize("prefix", ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65",
                                    "71", "81", "82"])
def test_every_province_prefix_is_accepted(prefix: str) -> None:
    assert is_valid_grid_code(f"{prefix}0101001001001")


@pytest.mark.parametrize("prefix", ["10", "16", "20", "24", "30", "38", "40", "47", "49", "55", "60", "66",
                                    "70", "72", "80", "83", "91"])
def test_non_province_prefixes_are_refused(prefix: str) -> None:
    assert not is_valid_grid_code(f"{prefix}0101001001001")


def test_community_code() -> None:
    code = parse_community_code("220106003002")
    assert code == CommunityCode(district=LUYUAN, street="003", community="002")
    assert code.street_code == "220106003"
    assert str(code) == "220106003002"
    assert is_valid_community_code("220106003002")
    assert not is_valid_community_code("220106003002001")  # a grid code is not a community code
    with pytest.raises(InvalidInput, match=r"community code '22010600300' must be exactly 12 digits"):
        parse_community_code("22010600300")


def test_street_code() -> None:
    assert parse_street_code("110101001") == StreetCode(district=DONGCHENG, street="001")
    assert is_valid_street_code("110101001")
    with pytest.raises(InvalidInput, match=r"street code '110101000' has street part 000"):
        parse_street_code("110101000")


def test_district_code() -> None:
    assert parse_district_code(YUZHONG) == YUZHONG
    assert is_valid_district_code(LUYUAN)
    assert not is_valid_district_code("1101")
    with pytest.raises(InvalidInput, match=r"district code '990101' starts with 99"):
        parse_district_code("990101")


def test_error_details_carry_value_and_rule() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_grid_code("110101001001000")
    assert caught.value.details == {"value": "110101001001000", "level": "grid", "rule": "sequence not 000"}


def test_make_grid_code() -> None:
    assert make_grid_code("110101001001", 7).code == "110101001001007"
    assert make_grid_code("110101001001", 999).sequence == "999"


@pytest.mark.parametrize("sequence", [0, 1000, -1, True, 1.0])
def test_make_grid_code_refuses_sequences_outside_1_to_999(sequence: object) -> None:
    with pytest.raises(InvalidInput, match="from 1 to 999"):
        make_grid_code("110101001001", sequence)  # type: ignore[arg-type]
