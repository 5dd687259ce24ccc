"""The pages' words: one JSON message catalogue per language (`api/pages/messages/<lang>.json`) and the
one function that picks a page's language.

A catalogue is a set of sections (`signin`, `roles`, `map`, `wall`, ...), each a flat
table of message keys; `{name}` marks a value filled in at display time. Every language has the same
sections and keys (a test holds them equal), so a string is added by adding one line to each file.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from gis.i18n import DEFAULT_LANGUAGE, LANGUAGES, language_key

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "catalogue", "messages", "other_language", "pick_language"]

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"


def pick_language(requested: str | None) -> str:
    """The page language for `?lang=` (`gis.i18n.language_key`: English for any `en…` tag, else zh-CN)."""
    return language_key(requested)


def other_language(language: str) -> str:
    """The language the page's toggle switches to."""
    return "en" if pick_language(language) == "zh-CN" else "zh-CN"


@cache
def catalogue(language: str) -> dict[str, Any]:
    """The whole catalogue of a language (read once)."""
    path = MESSAGES_DIR / f"{pick_language(language)}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def messages(language: str, section: str) -> dict[str, Any]:
    """One section of a language's catalogue, e.g. `messages("en", "wall")["title"]`."""
    return catalogue(language)[section]
