"""Personal data, masked for those who may not see it (pure; who may see it is `gis.permissions.sees_personal_data`).

What counts as personal data on a case: the reporter's name, their contact (phones, e-mail addresses) and the
exact address (with any address id a client sent). Masked forms:

- a name keeps its first character: 张三 → 张**, John Smith → J**;
- a phone keeps its first 3 and last 4 digits when it is a mainland mobile (11 digits starting with 1, with or
  without +86): 13812341234 → 138****1234; any other number (landline, short, foreign) is masked wholly but
  for its last 2 digits: 023-63891234 → *********34;
- a contact text masks each phone in it as above and each e-mail address to its first character and domain
  (zhang@example.cn → z***@example.cn);
- an address is cut to its street: Chinese addresses keep everything up to and including the first road
  segment (路, 街, 道, 巷, 大道 — the sub-district word 街道 is not a road), and never a digit or anything after
  one: 渝中区解放碑街道民族路123号5栋 → 渝中区解放碑街道民族路…; other addresses keep the part before the
  first digit (12 Baker Street → Baker Street…, numbers dropped when the address starts with one).

`mask_case` applies these to a case as the API shows it (`gis.store.case_reads.case_dict`); `mask_row` to a
flat row (the ledger's). Nothing here knows who is asking: the caller decides, with `sees_personal_data`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["ELLIPSIS", "PERSONAL_CASE_KEYS", "mask_address", "mask_case", "mask_contact", "mask_name",
           "mask_phone", "mask_row"]

ELLIPSIS = "…"
NAME_MASK = "**"
_ROAD = re.compile(r"街道|大道|路|街|道|巷")
_DIGIT = re.compile(r"[0-9０-９一二三四五六七八九十百千零〇]+(?:号|栋|幢|单元|室|楼|层|弄|座|#)|[0-9０-９]")
_CONTACT_PART = re.compile(r"(?P<user>[^\s@;,，；]+)@(?P<domain>[^\s@;,，；]+)|(?P<phone>\+?\d(?:[\d\s\-()]*\d)?)")
_MOBILE = re.compile(r"(?:86)?(1\d{10})")
PERSONAL_CASE_KEYS = ("reporter.name", "reporter.contact", "address", "extras.address_id")


def mask_name(name: str | None) -> str | None:
    """张三 → 张**; a Latin name likewise (its first letter). Empty stays empty."""
    if not name or not name.strip():
        return name
    return name.strip()[0] + NAME_MASK


def mask_phone(phone: str | None) -> str | None:
    """A mainland mobile keeps 3 first and 4 last digits (138****1234); any other number all but its last 2."""
    if not phone or not phone.strip():
        return phone
    digits = re.sub(r"\D", "", phone)
    mobile = _MOBILE.fullmatch(digits)
    if mobile:
        number = mobile[1]
        return f"{number[:3]}****{number[-4:]}"
    if len(digits) <= 2:
        return "*" * max(len(digits), 2)
    return "*" * (len(digits) - 2) + digits[-2:]


def _mask_part(match: re.Match[str]) -> str:
    if match["phone"] is not None:
        return mask_phone(match["phone"]) or ""
    return f"{match['user'][0]}***@{match['domain']}"


def mask_contact(contact: str | None) -> str | None:
    """Each e-mail address and each phone number in a contact text masked; other words kept."""
    if not contact or not contact.strip():
        return contact
    return _CONTACT_PART.sub(_mask_part, contact)


def _chinese_street_end(address: str) -> int | None:
    """Where the first road segment ends (after 路/街/道/巷/大道), skipping the sub-district word 街道."""
    for match in _ROAD.finditer(address):
        if match[0] != "街道":
            return match.end()
    return None


def mask_address(address: str | None) -> str | None:
    """An exact address cut to its street, with `…` marking the cut; nothing from the first digit (or house
    number) on is kept. An address with nothing street-like before its number becomes `…` alone."""
    if not address or not address.strip():
        return address
    text = address.strip()
    digit = _DIGIT.search(text)
    cut = digit.start() if digit else len(text)
    road = _chinese_street_end(text)
    if road is not None and road <= cut:
        cut = road
    kept = text[:cut].rstrip(" ,，、-")
    if kept == text:
        return text  # nothing more precise than a street (or a place name) to cut
    if not kept:  # "12 Baker Street, Flat 3": the street's words after the number
        for part in re.split(r"[,，]", text):
            words = [w for w in part.split() if not re.search(r"[0-9０-９]", w)]
            if words:
                kept = " ".join(words)
                break
    return kept + ELLIPSIS


def mask_row(row: Mapping[str, Any], *, name: str = "reporter_name", contact: str = "reporter_contact",
             address: str = "address") -> dict[str, Any]:
    """A flat row (the ledger's) with its reporter's name, contact and address masked."""
    masked = dict(row)
    for key, rule in ((name, mask_name), (contact, mask_contact), (address, mask_address)):
        if key in masked:
            masked[key] = rule(masked[key])
    return masked


def mask_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """A case as the API shows it (`case_dict`), with its reporter, address and address id masked."""
    masked = dict(case)
    reporter = case.get("reporter") or {}
    masked["reporter"] = {**reporter, "name": mask_name(reporter.get("name")),
                          "contact": mask_contact(reporter.get("contact"))}
    masked["address"] = mask_address(case.get("address"))
    extras = dict(case.get("extras") or {})
    if "address_id" in extras:
        extras["address_id"] = None
    masked["extras"] = extras
    return masked


def has_personal_data(case: Mapping[str, Any]) -> bool:
    """Does a case (as the API shows it) carry any personal data at all?"""
    reporter = case.get("reporter") or {}
    return bool(reporter.get("name") or reporter.get("contact") or case.get("address")
                or (case.get("extras") or {}).get("address_id"))
