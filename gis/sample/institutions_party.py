"""The sample's focus households and party records (issue 12.2, 12.5, 12.6), through the product's store
functions: `gis.store.focus` (register, pair, visits), `gis.store.party` (memberships, grades, pairings),
`gis.store.commitments` and `gis.store.evaluations`. Called by gis/sample/institutions.py."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.focus import DEFAULT_CYCLE_DAYS, Category
from gis.party import EvaluationRow, SubjectKind
from gis.permissions import Actor
from gis.store import commitments, evaluations, focus, party
from gis.workcalendar import SHANGHAI

if TYPE_CHECKING:
    from collections.abc import Callable

FOCUS_SHARE = 0.06  # of the buildings in a grid keep one or two focus households
CATEGORY_ODDS = {Category.lonely_elderly: 0.33, Category.ill_or_disabled: 0.14, Category.childless_elderly: 0.1,
                 Category.retired_cadre: 0.1, Category.military_family: 0.13, Category.hardship: 0.2}
PAIRED_SHARE, OVERDUE_SHARE = 0.85, 0.2
GRADE_ODDS = {"advanced": 0.25, "average": 0.65, "weak": 0.1}
COMMITMENT_TITLES = (
    "每月开展一次楼栋走访", "协调解决小区停车难问题", "为独居老人安装烟感报警器", "推动老旧小区加装电梯",
    "组织党员志愿服务每季度不少于两次", "整治背街小巷环境卫生", "楼栋群内诉求24小时内回应", "开展反诈宣传进楼栋",
    "协助完成燃气管道改造", "每季度召开一次居民议事会", "建立困难家庭帮扶台账", "清理楼道堆放杂物")
TEAM_TITLES = ("网格员每周巡查不少于三次", "居民诉求当日受理、限时办结", "每月公示网格工作情况")
TWO_MEMBER_BRANCH = 2  # the members on record of the branch shown as needing a seconded branch


def _actor(person_id: int | None = None) -> Actor:
    from gis.sample.institutions import SAMPLE_USER

    return Actor(username=SAMPLE_USER, role="admin", person_id=person_id)


# -- focus households -------------------------------------------------------------------------------------

_BUILDINGS_SQL = """
SELECT b.code, g.code AS grid_code FROM building AS b
JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code AND g.valid_to IS NULL
ORDER BY b.code
"""

_PEOPLE_SQL = """
SELECT t.grid_code, m.person_id, m.role::text AS role FROM team_membership AS m
JOIN service_team AS t ON t.id = m.team_id AND t.district_code = m.district_code AND t.valid_to IS NULL
WHERE m.to_date IS NULL OR m.to_date >= :today
ORDER BY t.grid_code, m.person_id
"""


def write_focus(session: Session, rng: np.random.Generator, names: Callable[[], str], today: date) -> dict[str, int]:
    """Focus households in a share of buildings, most paired with a volunteer or central household of the
    grid's team; paired ones visited, a share of them last visited longer ago than their cycle (overdue)."""
    helpers: dict[str, list[int]] = {}
    workers: dict[str, list[int]] = {}
    for p in session.execute(text(_PEOPLE_SQL), {"today": today}).mappings():
        kept = workers if p["role"] in ("grid_worker", "leader") else helpers
        kept.setdefault(p["grid_code"], []).append(p["person_id"])
    categories, odds = list(CATEGORY_ODDS), np.array(list(CATEGORY_ODDS.values()))
    made = visited = 0
    for b in session.execute(text(_BUILDINGS_SQL)).mappings().all():
        if rng.random() >= FOCUS_SHARE:
            continue
        for _ in range(int(rng.integers(1, 3))):
            category = categories[int(rng.choice(len(categories), p=odds / odds.sum()))]
            pool = helpers.get(b["grid_code"], [])
            helper = (focus.Helper(person_id=pool[int(rng.integers(len(pool)))])
                      if pool and rng.random() < PAIRED_SHARE else None)
            since = today - timedelta(days=int(rng.integers(40, 700)))
            household_id = focus.create_household(session, focus.HouseholdInput(
                household=f"{rng.integers(1, 4)}单元{rng.integers(1, 12)}0{rng.integers(1, 5)}", person_name=names(),
                category=category.value, building_code=b["code"], phone=f"139{int(rng.integers(10**7, 10**8))}",
                helper=helper, paired_from=since if helper else None, valid_from=since, note="样例数据"),
                _actor(), today=today)
            made += 1
            if helper is None:
                continue
            cycle = DEFAULT_CYCLE_DAYS[category]
            ago = cycle + int(rng.integers(2, 15)) if rng.random() < OVERDUE_SHARE else int(rng.integers(0, cycle))
            staff = workers.get(b["grid_code"]) or [helper.person_id]
            at = datetime.combine(today - timedelta(days=ago), time(10, int(rng.integers(60))), tzinfo=SHANGHAI)
            focus.record_focus_visit(session, household_id, _actor(staff[0]), visited_at=at, note="关爱走访",
                                     now=at)
            visited += 1
    return {"focus_households": made, "focus_visits": visited}


# -- party records -----------------------------------------------------------------------------------------

_BRANCHES_SQL = """
SELECT o.id, o.place_code, o.member_count, o.street_code FROM party_org AS o
WHERE o.level = 'grid_branch' AND o.valid_to IS NULL ORDER BY o.place_code
"""


def write_party(session: Session, rng: np.random.Generator, names: Callable[[], str], today: date) -> dict[str, Any]:
    branches = [dict(r) for r in session.execute(text(_BRANCHES_SQL)).mappings()]
    if not branches:
        return {"memberships": 0, "grades": 0, "pairings": 0, "commitments": 0, "evaluations": 0}
    counts = {"memberships": _memberships(session, rng, names, branches, today)}
    counts |= _grades(session, rng, branches, today)
    counts["commitments"] = _commitments(session, rng, branches, today)
    rows = [EvaluationRow(year=today.year - 1, subject=SubjectKind.grid, code=b["place_code"],
                          score=Decimal(str(round(float(np.clip(rng.normal(90, 4), 70, 99.5)), 1))),
                          respondents=int(rng.integers(30, 121)), note="年度述职测评（样例）") for b in branches]
    counts["evaluations"] = len(evaluations.save(session, rows, _actor(), today, "entered"))
    return counts


def _memberships(session: Session, rng: np.random.Generator, names: Callable[[], str],
                 branches: list[dict[str, Any]], today: date) -> int:
    """The members on record of the first branch of each street, as many as it declares; and one other
    branch with only TWO_MEMBER_BRANCH on record (under three: it needs a seconded branch)."""
    first: dict[str, dict[str, Any]] = {}
    for b in branches:
        first.setdefault(b["street_code"], b)
    chosen = [(b, b["member_count"]) for b in first.values()]
    rest = [b for b in branches if b not in first.values()]
    if rest:
        chosen.append((min(rest, key=lambda b: (b["member_count"], b["place_code"])), TWO_MEMBER_BRANCH))
    rows = []
    for branch, count in chosen:
        homes = [r[0] for r in session.execute(text(
            "SELECT b.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code "
            "WHERE g.code = :g AND g.valid_to IS NULL ORDER BY b.code"), {"g": branch["place_code"]})]
        for _ in range(count):
            joined = today - timedelta(days=int(rng.integers(200, 12000)))
            rows.append({"person_name": names(), "branch_code": branch["place_code"], "from_date": joined.isoformat(),
                         "building_code": homes[int(rng.integers(len(homes)))] if homes else ""})
    return party.import_members(session, rows, _actor(), today)["imported"] if rows else 0


def _grades(session: Session, rng: np.random.Generator, branches: list[dict[str, Any]], today: date) -> dict[str, int]:
    """Last year's grade of every grid branch; each weak branch paired with an advanced one of its street
    (else of the district)."""
    graded_on = date(today.year - 1, 12, 20)
    grades = list(GRADE_ODDS)
    odds = np.array(list(GRADE_ODDS.values()))
    chosen = {b["id"]: grades[int(rng.choice(len(grades), p=odds))] for b in branches}
    if "weak" not in chosen.values():
        chosen[branches[len(branches) // 2]["id"]] = "weak"
    if "advanced" not in chosen.values():
        chosen[branches[0]["id"]] = "advanced"
    words = {"advanced": "先进", "average": "一般", "weak": "后进"}
    for b in branches:
        grade = chosen[b["id"]]
        party.add_grade(session, b["id"], grade, graded_on, f"{graded_on.year}年度评定：{words[grade]}", _actor(),
                        today)
    pairings = 0
    for b in branches:
        if chosen[b["id"]] != "weak":
            continue
        strong = [s for s in branches if chosen[s["id"]] == "advanced"]
        near = [s for s in strong if s["street_code"] == b["street_code"]] or strong
        party.pair(session, b["id"], near[int(rng.integers(len(near)))]["id"], today, _actor(), today)
        pairings += 1
    return {"grades": len(branches), "pairings": pairings}


def _commitments(session: Session, rng: np.random.Generator, branches: list[dict[str, Any]], today: date) -> int:
    """Two or three public commitments per branch and one per team in a third of the grids; statuses by
    their dates: past due mostly kept (some not), the others promised or in progress."""
    teams = {r["grid_code"]: r["id"] for r in session.execute(text(
        "SELECT id, grid_code FROM service_team WHERE valid_to IS NULL")).mappings()}
    made = 0
    for b in branches:
        holders = [("branch", {"branch_id": b["id"]}, COMMITMENT_TITLES)] * int(rng.integers(2, 4))
        if b["place_code"] in teams and rng.random() < 1 / 3:
            holders.append(("team", {"team_id": teams[b["place_code"]]}, TEAM_TITLES))
        for kind, holder, titles in holders:
            made_on = today - timedelta(days=int(rng.integers(20, 330)))
            due_on = made_on + timedelta(days=int(rng.integers(60, 240)))
            item = commitments.create(session, commitments.CommitmentInput(
                holder_kind=kind, title=str(titles[int(rng.integers(len(titles)))]), due_on=due_on, made_on=made_on,
                **holder), _actor(), today)
            if due_on < today:
                kept = rng.random() < 0.85
                commitments.update(session, item["id"], _actor(), status="kept" if kept else "not_kept",
                                   evidence="已完成，见社区公示栏" if kept else "")
            elif rng.random() < 0.6:
                commitments.update(session, item["id"], _actor(), status="in_progress")
            made += 1
    return made
