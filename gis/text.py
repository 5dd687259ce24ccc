"""What text may be stored: PostgreSQL text holds no NUL byte and only valid UTF-8.

One rule for every way text arrives (JSON bodies, forms, query strings, files), so a bad character is
refused by name before anything is written, instead of failing deep inside a query.
"""

from __future__ import annotations

from gis.errors import InvalidInput

__all__ = ["storable_problem", "storable_text"]


def storable_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return f"contains a NUL byte (\\x00) at character {value.index(chr(0))}; text cannot hold one"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"contains an unpaired surrogate ({value[exc.start]!r}) at character {exc.start}; "
                "send valid UTF-8 text")
    return None


def storable_text(name: str, value: str) -> str:
    """`value` unchanged, or InvalidInput naming the field and the bad character."""
    problem = storable_problem(value)
    if problem is not None:
        raise InvalidInput(f"{name} {problem}", details={"field": name})
    return value
