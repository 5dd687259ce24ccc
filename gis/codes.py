"""Place codes: district (6 digits) → street (9) → community (12) → grid (15).

A grid code is the 6-digit administrative division code of GB/T 2260, then 3 digits of street, 3 of
community and 3 of grid sequence (numbered west to east, north to south). Codes are text, never
numbers: a file that turned them into integers or floats is caught here rather than stored wrong.

Rules checked, each named in the error so a planner can fix the file:
- exactly the right number of ASCII digits;
- the first two digits are a PRC province-level code (11–15, 21–23, 31–37, 41–46, 50–54, 61–65,
  71 Taiwan, 81 Hong Kong, 82 Macao);
- the street, community and grid-sequence parts are not 000 (in division codes 000 stands for the
  parent area itself, and grids are numbered from 001).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gis.errors import InvalidInput

PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55))]
    + [str(n) for n in (*range(61, 66), 71, 81, 82)]
)
_PROVINCES_SHOWN = "11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81, 82"

# (name of the part, its width); a code of a level is the concatenation of the first parts.
_PARTS: tuple[tuple[str, int], ...] = (("district", 6), ("street", 3), ("community", 3), ("sequence", 3))
_LEVELS: dict[str, int] = {"district": 1, "street": 2, "community": 3, "grid": 4}
_ASCII_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class StreetCode:
    """A 9-digit street (街道) code split into its parts."""

    district: str
    street: str

    @property
    def code(self) -> str:
        return self.district + self.street

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class CommunityCode:
    """A 12-digit community (社区) code split into its parts."""

    district: str
    street: str
    community: str

    @property
    def street_code(self) -> str:
        return self.district + self.street

    @property
    def code(self) -> str:
        return self.street_code + self.community

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class GridCode:
    """A 15-digit grid (网格) code split into its parts; `sequence` is the grid's 3-digit number."""

    district: str
    street: str
    community: str
    sequence: str

    @property
    def street_code(self) -> str:
        return self.district + self.street

    @property
    def community_code(self) -> str:
        return self.street_code + self.community

    @property
    def code(self) -> str:
        return self.community_code + self.sequence

    def __str__(self) -> str:
        return self.code


# -- public -------------------------------------------------------------------------------------


def parse_district_code(code: object) -> str:
    """Check a 6-digit district code and return it as text."""
    return _check("district", code)[0]


def parse_street_code(code: object) -> StreetCode:
    """Check a 9-digit street code and split it."""
    return StreetCode(*_check("street", code))


def parse_community_code(code: object) -> CommunityCode:
    """Check a 12-digit community code and split it."""
    return CommunityCode(*_check("community", code))


def parse_grid_code(code: object) -> GridCode:
    """Check a 15-digit grid code and split it; raises InvalidInput naming the value and the rule."""
    return GridCode(*_check("grid", code))


def make_grid_code(community_code: object, sequence: int) -> GridCode:
    """The grid code for grid number `sequence` (1–999) of a community: a planner's next free code."""
    community = parse_community_code(community_code)
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence <= 999:
        raise InvalidInput(
            f"grid sequence {sequence!r} must be a whole number from 1 to 999",
            details={"value": repr(sequence), "rule": "sequence 1–999"},
        )
    return parse_grid_code(f"{community.code}{sequence:03d}")


def is_valid_district_code(code: object) -> bool:
    return _is_valid("district", code)


def is_valid_street_code(code: object) -> bool:
    return _is_valid("street", code)


def is_valid_community_code(code: object) -> bool:
    return _is_valid("community", code)


def is_valid_grid_code(code: object) -> bool:
    return _is_valid("grid", code)


# -- private steps ------------------------------------------------------------------------------


def _check(level: str, code: object) -> list[str]:
    """Text → digits of the right length → plausible province → no 000 parts; returns the parts."""
    parts = _PARTS[: _LEVELS[level]]
    width = sum(w for _, w in parts)
    text = _as_text(level, code)
    _check_digits(level, text, width)
    _check_province(level, text)
    split = _split(text, parts)
    _check_no_zero_parts(level, text, dict(zip([name for name, _ in parts], split, strict=True)))
    return split


def _as_text(level: str, code: object) -> str:
    # An int keeps its digits (province codes start at 11, so no leading zero is lost); a float or
    # anything else means the file turned a code into a number and may have rounded it.
    if isinstance(code, str):
        return code
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    raise _error(level, code, f"must be text of digits, not {type(code).__name__}", "text")


def _check_digits(level: str, text: str, width: int) -> None:
    if len(text) != width or not _ASCII_DIGITS.fullmatch(text):
        got = f"{len(text)} characters" if _ASCII_DIGITS.fullmatch(text) else "non-digit characters"
        raise _error(level, text, f"must be exactly {width} digits 0–9 (got {got})", f"{width} digits")


def _check_province(level: str, text: str) -> None:
    if text[:2] not in PROVINCE_CODES:
        raise _error(
            level, text,
            f"starts with {text[:2]}, which is not a PRC province code (allowed: {_PROVINCES_SHOWN})",
            "province prefix",
        )


def _split(text: str, parts: tuple[tuple[str, int], ...]) -> list[str]:
    out, start = [], 0
    for _, width in parts:
        out.append(text[start : start + width])
        start += width
    return out


def _check_no_zero_parts(level: str, text: str, parts: dict[str, str]) -> None:
    for name, part in parts.items():
        if name != "district" and part == "000":
            what = "grids are numbered from 001" if name == "sequence" else "000 stands for the parent area"
            rule = f"has {name} part 000, which is not allowed ({what})"
            raise _error(level, text, rule, f"{name} not 000")


def _is_valid(level: str, code: object) -> bool:
    try:
        _check(level, code)
    except InvalidInput:
        return False
    return True


def _error(level: str, value: object, rule: str, rule_key: str) -> InvalidInput:
    # details stay JSON-safe: a NaN or odd object is shown as its repr.
    shown = value if isinstance(value, str) else repr(value)
    details = {"value": shown, "level": level, "rule": rule_key}
    return InvalidInput(f"{level} code {value!r} {rule}", details=details)
