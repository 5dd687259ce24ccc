"""Party branches, service teams and their members, with the deliberate organisational gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from district.constants import LEFT_DATE, WORKER_TARGET
from district.places import Community, Gaps, Grid, Names

# -- people and organisations -------------------------------------------------------------------


def random_date(rng: np.random.Generator, start: date, end: date) -> str:
    """A day between start and end, as YYYY-MM-DD."""
    return (start + timedelta(days=int(rng.integers(0, (end - start).days + 1)))).isoformat()


@dataclass
class OrgGaps:
    """Grids chosen for the organisational gaps."""

    without_team: list[int]
    without_branch: list[int]
    worker_left: int
    understaffed: list[int]


def choose_org_gaps(grids: list[Grid], gaps: Gaps, rng: np.random.Generator) -> OrgGaps:
    """Pick distinct grids, away from the communities of the spatial gaps, so each gap stands alone."""
    taken = {grids[i].community for i in (*gaps.hole_grids, *gaps.overlap_grids)}
    by_code = sorted(range(len(grids)), key=lambda i: grids[i].code)
    pool = [i for i in by_code if grids[i].community not in taken]
    picked = [pool[int(i)] for i in rng.choice(len(pool), size=4, replace=False)]
    rest = [i for i in pool if i not in picked]
    # A few understaffed grids: one worker fewer than needed, so households per worker exceed 500.
    big = [i for i in rest if grids[i].households > 900]
    understaffed = sorted((big[int(i)] for i in rng.choice(len(big), size=5, replace=False)),
                          key=lambda i: grids[i].code)
    return OrgGaps(sorted(picked[:2], key=lambda i: grids[i].code), [picked[2]], picked[3], understaffed)


def workers_needed(households: int) -> int:
    """Fewest grid workers (1..3) that keep households per worker at or under the 500 target."""
    for workers in (1, 2, 3):
        if households / workers <= WORKER_TARGET[1]:
            return workers
    return 3


TEAM_FIELDS = (
    "grid_code", "branch_name", "branch_secretary", "branch_members", "team_name", "person_name", "role",
    "phone", "from_date", "to_date",
)


def build_teams(
    communities: list[Community], grids: list[Grid], org: OrgGaps, names: Names, rng: np.random.Generator
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """One row per membership; branch columns repeat on each row of the grid (empty where none)."""
    rows: list[dict[str, str]] = []
    workers_per_grid: dict[str, int] = {}
    for community in sorted(communities, key=lambda c: c.code):
        community.party_secretary = names.person()
        residents = sum(grids[i].residents for i in community.grids)
        community.party_members = int(round(residents * rng.uniform(0.028, 0.042)))
    start, end = date(2021, 3, 1), date(2023, 12, 31)
    for g_index in sorted(range(len(grids)), key=lambda i: grids[i].code):
        grid = grids[g_index]
        has_branch = g_index not in org.without_branch
        has_team = g_index not in org.without_team
        leader = names.person() if has_team else ""
        secretary = ""
        if has_branch:
            secretary = leader if has_team and rng.random() < 0.4 else names.person()
        branch = {
            "grid_code": grid.code,
            "branch_name": f"{grid.name}党支部" if has_branch else "",
            "branch_secretary": secretary,
            "branch_members": str(max(8, int(round(grid.residents * rng.uniform(0.02, 0.035)))))
            if has_branch else "",
        }
        empty = {"team_name": "", "person_name": "", "role": "", "phone": "", "from_date": "", "to_date": ""}
        if not has_team:
            rows.append({**branch, **empty})
            continue
        base = {**branch, "team_name": f"{grid.name}服务团队"}

        def member(person: str, role: str, since: str, until: str = "", base: dict[str, str] = base) -> None:
            rows.append({**base, "person_name": person, "role": role, "phone": names.phone(),
                         "from_date": since, "to_date": until})

        member(leader, "leader", random_date(rng, start, end))
        workers = workers_needed(grid.households)
        if g_index in org.understaffed:
            workers = max(1, workers - 1)
        successor_from = ""
        if g_index == org.worker_left:  # the only worker left; nobody replaced them
            member(names.person(), "grid_worker", random_date(rng, start, end), LEFT_DATE)
            workers = 0
        elif rng.random() < 0.08:  # history: a former worker, replaced the next day
            left = date.fromisoformat(random_date(rng, date(2023, 1, 1), date(2024, 6, 30)))
            since = random_date(rng, start, date(2022, 6, 30))
            member(names.person(), "grid_worker", since, left.isoformat())
            successor_from = (left + timedelta(days=1)).isoformat()
        for number in range(workers):
            since = successor_from if number == 0 and successor_from else random_date(rng, start, end)
            member(names.person(), "grid_worker", since)
        workers_per_grid[grid.code] = workers
        for role, low, high in (("central_household", 1, 3), ("volunteer", 2, 5), ("caring_resident", 1, 3)):
            for _ in range(int(rng.integers(low, high + 1))):
                member(names.person(), role, random_date(rng, start, date(2025, 6, 30)))
    return rows, workers_per_grid
