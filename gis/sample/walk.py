"""Walking one case through the workflow with plausible delays: every step through
`gis.workflow.check_transition`, one event each."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gis.categories import Category, CategoryKind, HandlingRule
from gis.sample import CENTRE
from gis.sample.places import Places, Routed
from gis.sample.reports import Report
from gis.workcalendar import SHANGHAI, LimitUnit, TimeLimit, WorkCalendar
from gis.workflow import (
    FIRST_ACTION_FIELD,
    Action,
    CaseStatus,
    Satisfaction,
    Source,
    check_transition,
)

_U, _C, _L = CategoryKind.urban_event, CategoryKind.component, CategoryKind.livelihood

DECLINE_SHARE, REJECT_SHARE, REASSIGN_SHARE = 0.03, 0.008, 0.02  # reassign: of component cases
RATED_SHARE, RERATED_SHARE = 0.72, 0.4
UNSATISFIED_FIRST, UNSATISFIED_AGAIN, BASICALLY_SATISFIED = 0.055, 0.25, 0.13
SLOW_SHARE, STUCK_SHARE, STUCK_WORKING_DAYS = 0.03, 0.055, 150
HARD_CASES = {"illegal_structure": 4, "property_management_dispute": 3, "dangerous_building": 3,
              "complaint": 2.5, "neighbour_dispute": 2, "illegal_outdoor_advert": 2,
              "unpermitted_road_works": 2, "road_surface_damaged": 2, "noise_complaint": 1.5}
"""How much likelier than the rest (0.6) a category is to get stuck for months."""
STRUGGLING_SHARE, STRUGGLING_LOAD = 0.04, 500  # besides grids with a gap: households per worker over 500
STRUGGLING_SLOWER, STRUGGLING_STUCK, STRUGGLING_UNSATISFIED = 2.5, 2.5, 2.5

SURNAMES = "陈李张刘王杨黄周罗谭何吴邓唐彭蒋徐胡赵冉"
DEPARTMENTS = {"公用设施": "utilities", "道路交通": "roads", "市容环境": "sanitation",
               "园林绿化": "greening", "房屋土地": "housing"}
DECLINE_REASONS = ("重复上报，已并入同一位置的在办案件", "经现场核实，反映的问题不存在",
                   "不属于网格受理范围，已告知反映人通过司法途径解决",
                   "信息不全且无法联系反映人，无法核实")
OUTSIDE_DECLINE = "位置不在本区范围内，已告知反映人向所在区反映"
REJECT_REASONS = ("核查发现问题仍存在，退回重新处置", "处置照片与现场不符，退回返工",
                  "反馈内容不完整，退回补充处置")
UNSATISFIED_NOTE = "反映人对处理结果不满意，重新处置"
HANDLE_NOTES = {_U: "已清理整改完毕，已向反映人反馈", _C: "权属单位已修复，已向反映人反馈",
                _L: "已上门沟通协调，已向反映人反馈"}


# -- walking the workflow --------------------------------------------------------------------------


@dataclass
class Ledger:
    """One case's row and events, moved only through `check_transition`; nothing happens after `end`."""

    row: dict[str, Any]
    end: datetime
    calendar: WorkCalendar
    category: Category
    status: CaseStatus = CaseStatus.reported
    events: list[dict[str, Any]] = field(default_factory=list)
    last: datetime = datetime.min.replace(tzinfo=UTC)

    def record(self, at: datetime, actor: str, action: str, before: CaseStatus | None, after: CaseStatus,
               note: str = "", data: dict | None = None, position: tuple[float, float] | None = None) -> dict:
        event = {"at": at, "actor": actor, "action": action, "from_status": before.value if before else None,
                 "to_status": after.value, "note": note, "position": position,
                 "data": json.dumps(data, ensure_ascii=False) if data else None,
                 "district_code": self.row["district_code"], "street_code": self.row["street_code"]}
        self.events.append(event)
        self.last = max(self.last, at)
        return event

    def step(self, action: Action, at: datetime, actor: str, *, reason: str | None = None,
             satisfaction: Satisfaction | None = None, note: str = "", data: dict | None = None,
             position: tuple[float, float] | None = None) -> bool:
        """Take `action` at `at` (at least a minute after the previous event); False after `end`."""
        at = max(at, self.last + timedelta(minutes=1)).replace(microsecond=0)
        if at > self.end:
            return False
        move = check_transition(self.status, action, reason=reason, satisfaction=satisfaction)
        row = self.row
        row[move.timestamp_field] = at
        if move.counts_as_first_action and row[FIRST_ACTION_FIELD] is None:
            row[FIRST_ACTION_FIELD] = at
        if move.starts_clock and row["deadline"] is None:
            row["deadline"] = self.category.deadline(at, self.calendar)
        if move.increments_rework:
            row["rework_count"] += 1
        if move.satisfaction is not None:
            row["satisfaction"] = move.satisfaction.value
        if action is Action.decline:
            row["decline_reason"] = move.reason
        row["status"] = move.target.value
        self.record(at, actor, action.value, self.status, move.target,
                    " — ".join(p for p in (move.reason or "", note) if p), data, position)
        self.status = move.target
        return True


@dataclass
class Clock:
    """Delays. The command centre works 08:00–22:00 daily; handlers count working time (emergencies: 24×7)."""

    rng: random.Random
    calendar: WorkCalendar
    end: datetime

    def hours(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rng.gauss(0, sigma))

    def centre(self, at: datetime, hours: float, emergency: bool) -> datetime:
        """`hours` after `at`; what would fall in the night is picked up early next morning."""
        done = at + timedelta(hours=hours)
        local = done.astimezone(SHANGHAI)
        if emergency or 8 <= local.hour < 22:
            return done
        morning = (local if local.hour < 8 else local + timedelta(days=1)).replace(hour=8, minute=0, second=0)
        return morning + timedelta(minutes=self.rng.uniform(0, 90))

    def work(self, at: datetime, hours: float, emergency: bool) -> datetime:
        if emergency:
            return at + timedelta(hours=hours)
        earliest = at + timedelta(days=hours / 7)  # at most 7 working hours a day
        if earliest > self.end:  # beyond the history: no need to walk the calendar
            return earliest
        return self.calendar.add_working_time(at, TimeLimit(max(hours, 0.02), LimitUnit.working_hours))

    def allowed(self, dispatched: datetime, deadline: datetime, emergency: bool) -> float:
        """The hours the limit leaves, counted as the handler works (clock hours for emergencies)."""
        if emergency:
            return (deadline - dispatched).total_seconds() / 3600
        return self.calendar.working_time_between(dispatched, deadline).total_seconds() / 3600


@dataclass(frozen=True)
class Team:
    """How a grid's team works: its pace (1 = typical) and whether it struggles (late, stuck, disliked)."""

    speed: float = 1.0
    struggling: bool = False


def make_teams(rng: random.Random, places: Places, end: datetime) -> dict[str | None, Team]:
    """Every grid's team; the grids with an organisational gap (no team, no branch, no serving grid worker,
    over 500 households per worker) and ~4% of the others struggle, so the grades spread."""
    day = end.date()
    serving: dict[str, int] = {}
    for w in places.workers.itertuples():
        if w.from_date <= day and (w.to_date is None or day <= w.to_date):
            serving[w.grid_code] = serving.get(w.grid_code, 0) + 1
    households = places.buildings.groupby("grid_code")["households"].sum()
    teams: dict[str | None, Team] = {None: Team()}
    for grid in places.grids:
        workers = serving.get(grid.code, 0)
        gap = (grid.team_id is None or grid.branch_id is None or not workers
               or households.get(grid.code, 0) > STRUGGLING_LOAD * workers)
        struggling = gap or rng.random() < STRUGGLING_SHARE
        speed = math.exp(rng.gauss(0, 0.3)) * (STRUGGLING_SLOWER if struggling else 1)
        teams[grid.code] = Team(speed, struggling)
    return teams


def _handling_hours(rng: random.Random, category: Category, allowed: float, team: Team) -> float:
    """Mostly well inside the limit (slower teams take longer), some late, and a few hard cases (illegal
    structures, property disputes …) stuck for months, some still open a year on."""
    draw = rng.random()
    stuck = 0.0 if category.emergency else STUCK_SHARE * HARD_CASES.get(category.code, 0.6)
    stuck *= STRUGGLING_STUCK if team.struggling else 1
    if draw < stuck:
        return min(STUCK_WORKING_DAYS * 7 * math.exp(rng.gauss(0, 1.2)), 400 * 7.0)
    if draw < stuck + SLOW_SHARE:
        return 1.4 * math.exp(rng.gauss(0, 0.45)) * allowed
    return 0.27 * math.exp(rng.gauss(0, 0.55)) * team.speed * allowed


def walk(ledger: Ledger, report: Report, routed: Routed, clock: Clock, team: Team) -> None:
    """The case's life from report to wherever it stands at `end`."""
    rng, category, grid = clock.rng, report.category, routed.grid
    if grid is None:
        _walk_unrouted(ledger, report, routed, clock)
        return
    emergency = category.emergency
    if emergency:
        decided = report.reported_at + timedelta(minutes=rng.uniform(3, 15))
    else:
        decided = clock.centre(report.reported_at, clock.hours(0.35, 0.8), False)
    if rng.random() < DECLINE_SHARE:
        ledger.step(Action.decline, decided, CENTRE, reason=rng.choice(DECLINE_REASONS))
        return
    if not ledger.step(Action.file, decided, CENTRE):
        return
    delay = rng.uniform(0.03, 0.15) if emergency else clock.hours(0.3, 0.8)
    if not ledger.step(Action.dispatch, clock.centre(ledger.last, delay, emergency), CENTRE):
        return
    handler = f"worker-{grid.code}"
    if category.handling_rule is HandlingRule.owner_first:
        handler = f"department-{DEPARTMENTS.get(category.group_zh, 'owner')}"
        if rng.random() < REASSIGN_SHARE:
            department = f"{category.group_zh}养护单位"
            later = clock.centre(ledger.last, clock.hours(2, 0.6), emergency)
            if not ledger.step(Action.reassign, later, CENTRE, reason=f"权属单位有误，改派至{department}",
                               data={"from_grid": grid.code, "to_department": department}):
                return
            ledger.row["department"] = department
    _handle(ledger, report, routed, clock, handler, team)


def _walk_unrouted(ledger: Ledger, report: Report, routed: Routed, clock: Clock) -> None:
    """Unrouted reports wait in the district's queue (~2 days): outside the district they are declined,
    inside a community (the hole) they are filed by hand and dispatched to its residents' committee."""
    picked = clock.centre(report.reported_at, clock.hours(48, 1.1), False)
    if routed.community_code is None:
        ledger.step(Action.decline, picked, CENTRE, reason=OUTSIDE_DECLINE)
        return
    if not ledger.step(Action.file, picked, CENTRE, note="人工立案：位置不在任何网格内，交社区处置"):
        return
    committee = f"{routed.community_name}居委会"
    if ledger.step(Action.dispatch, clock.centre(ledger.last, clock.hours(0.5, 0.6), False), CENTRE,
                   data={"from_grid": None, "to_department": committee}):
        ledger.row["department"] = committee
        _handle(ledger, report, routed, clock, f"community-{routed.community_code}", Team())


def _handle(ledger: Ledger, report: Report, routed: Routed, clock: Clock, handler: str, team: Team) -> None:
    """Accept, handle, verify (or send back once), evaluate (or reopen), until done for good or `end`."""
    rng, category = clock.rng, report.category
    emergency = category.emergency
    start = ledger.row["dispatched_at"]
    allowed = clock.allowed(start, ledger.row["deadline"], emergency)
    first_work = _handling_hours(rng, category, allowed, team)
    unsatisfied = UNSATISFIED_FIRST * (STRUGGLING_UNSATISFIED if team.struggling else 1)
    evaluator = ledger.row["first_contact"] if report.source in (Source.hotline, Source.resident) else CENTRE
    evaluations = 0
    for round_ in range(4):  # at most: rejected once, then reopened by two evaluations
        delay = rng.uniform(0.08, 0.35) if emergency else clock.hours(min(0.5, 0.12 * allowed), 0.8)
        if not ledger.step(Action.accept, clock.work(ledger.last, delay, emergency), handler):
            return
        work = first_work if round_ == 0 else 0.5 * allowed * math.exp(rng.gauss(0, 0.5))
        handled = max(clock.work(start, work, emergency), ledger.last + timedelta(minutes=10))
        if not ledger.step(Action.handle, handled, handler, note=HANDLE_NOTES[category.kind],
                           position=(routed.lon, routed.lat)):
            return
        check = rng.uniform(0.15, 0.6) if emergency else clock.hours(min(0.6, 0.12 * allowed), 0.8)
        checked = clock.centre(ledger.last, check, emergency)
        if round_ == 0 and rng.random() < REJECT_SHARE:
            if not ledger.step(Action.reject, checked, CENTRE, reason=rng.choice(REJECT_REASONS)):
                return
            start = ledger.last
            continue
        if not ledger.step(Action.verify, checked, CENTRE):
            return
        if evaluations == 2 or rng.random() >= (RERATED_SHARE if evaluations else RATED_SHARE):
            return
        evaluations += 1
        rated = clock.centre(ledger.last, clock.hours(20, 0.8), False)
        if rng.random() < (UNSATISFIED_AGAIN if evaluations == 2 else unsatisfied):
            if not ledger.step(Action.evaluate_unsatisfied, rated, evaluator, note=UNSATISFIED_NOTE,
                               satisfaction=Satisfaction.unsatisfied):
                return
            start = ledger.last
            continue
        basic = rng.random() < BASICALLY_SATISFIED
        rating = Satisfaction.basically_satisfied if basic else Satisfaction.satisfied
        ledger.step(Action.evaluate_satisfied, rated, evaluator, satisfaction=rating)
        return

