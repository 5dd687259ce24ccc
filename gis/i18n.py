"""Which of the two languages gridmap writes (zh-CN, en) a caller's language tag means: one rule for the
domain's labels (workflow, measures, periods, categories, calendar, ledger). Pure; the pages pick the
request's language themselves and pass the tag here.

"zh", "zh-Hans", "zh_CN" … mean zh-CN; "en", "en-GB", "en_US" … mean en; anything else falls back to
zh-CN (`language_key`), or is refused by name where the caller asked strictly (`parse_language`).
"""

from __future__ import annotations

from gis.errors import InvalidInput

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "is_english", "language_key", "parse_language"]

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


def _tag(language: str | None) -> str:
    return (language or "").strip().replace("_", "-").lower()


def language_key(language: str | None) -> str:
    """"en" for any English tag, else "zh-CN" (the default for unknown and empty tags)."""
    return "en" if _tag(language).startswith("en") else DEFAULT_LANGUAGE


def is_english(language: str | None) -> bool:
    return language_key(language) == "en"


def parse_language(value: str) -> str:
    """Like `language_key`, but a tag that is neither Chinese nor English is refused, naming the choices."""
    tag = _tag(value)
    if tag.startswith(("zh", "en")):
        return language_key(tag)
    raise InvalidInput(f"lang {value!r} is not offered; allowed: {', '.join(LANGUAGES)}",
                       details={"lang": value, "allowed": list(LANGUAGES)})
