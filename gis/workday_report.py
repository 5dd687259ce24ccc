"""The work-day report for a period (Yuzhong's "46 sessions, 15,892 cadre-visits, 42,210 households
visited, 4,194 problems solved, 95% satisfied"; its survey: "60.5% of cadres came three times or more,
6.0% never"). Pure: the store (gis/store/workday_report.py) counts the rows, this module turns them into
the figures.

Definitions (decided here):

* **sessions scheduled** — the dates of the schedules in the period, up to today (gis/rosters.py);
  **sessions held** — those at which at least one person was recorded present.
* **attendances** — present records at those sessions; **cadre attendances** (干部人次) the cadres' among them.
* **households visited** — households reached by the visits tagged to a session of the period, each
  building's reach at one session capped at its households (`gis.workdays.households_visited`).
* **problems raised / solved / still open** — the cases tagged to a session of the period; solved and
  open by the store's vocabulary (gis/store/vocabulary.py), as of now; **satisfaction** — satisfied or
  basically satisfied among those evaluated (None when none was).
* **each cadre's attendance** — over the sessions whose attendance was recorded: a cadre (one person, or
  one account when no person is named) scheduled at one of them or more came `n` times; the share who
  came `REGULAR_TIMES` times or more, and the list of those who never came.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REGULAR_TIMES = 3
"""A cadre who came this many times or more in the period came regularly (Yuzhong's survey)."""


@dataclass(frozen=True)
class CadreDuty:
    """One cadre on duty at one session whose attendance was recorded."""

    key: str  # "person:12" or "user:4": the same cadre across work days
    name: str | None
    title: str | None
    attended: bool


@dataclass(frozen=True)
class Counts:
    sessions_scheduled: int
    sessions_held: int
    attendances: int
    cadre_attendances: int
    households_visited: int
    problems_raised: int
    problems_solved: int
    problems_open: int
    evaluated: int
    satisfied: int


def share(part: int, whole: int) -> float | None:
    """part / whole rounded to four places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def cadre_attendance(duties: Iterable[CadreDuty]) -> dict[str, Any]:
    """Each cadre's number of sessions attended; the share who came REGULAR_TIMES or more, those who never."""
    came: dict[str, int] = {}
    who: dict[str, tuple[str | None, str | None]] = {}
    for duty in duties:
        came[duty.key] = came.get(duty.key, 0) + int(duty.attended)
        if duty.key not in who or (duty.name and not who[duty.key][0]):
            who[duty.key] = (duty.name, duty.title)
    regular = sum(1 for n in came.values() if n >= REGULAR_TIMES)
    never = sorted((k for k, n in came.items() if n == 0), key=lambda k: (who[k][0] or "", k))
    return {
        "cadres_scheduled": len(came),
        "came_regularly": regular,
        "regular_share": share(regular, len(came)),
        "never_came": len(never),
        "never_share": share(len(never), len(came)),
        "never": [{"key": k, "name": who[k][0], "title": who[k][1]} for k in never],
        "times": {k: came[k] for k in sorted(came)},
    }


def report(counts: Counts, duties: Iterable[CadreDuty], *, show_names: bool) -> dict[str, Any]:
    """The report's figures; the cadres' names (the list of those who never came, the times per cadre)
    only with `show_names`, else their number alone."""
    cadres = cadre_attendance(duties)
    if not show_names:
        cadres = {k: v for k, v in cadres.items() if k not in ("never", "times")}
    return {
        "sessions_scheduled": counts.sessions_scheduled,
        "sessions_held": counts.sessions_held,
        "attendances": counts.attendances,
        "cadre_attendances": counts.cadre_attendances,
        "households_visited": counts.households_visited,
        "problems_raised": counts.problems_raised,
        "problems_solved": counts.problems_solved,
        "problems_open": counts.problems_open,
        "evaluated": counts.evaluated,
        "satisfied": counts.satisfied,
        "satisfaction": share(counts.satisfied, counts.evaluated),
        "cadres": cadres,
    }
