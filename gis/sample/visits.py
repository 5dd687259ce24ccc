"""Household visits on a cycle per building, by the grid workers serving on the day."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np

from gis.sample import VISIT_NOTE_PREFIX
from gis.sample.places import Places
from gis.sample.write import VISIT_COLUMNS
from gis.workcalendar import SHANGHAI, WorkCalendar

VISIT_TOPICS = ("了解家庭情况", "政策宣传", "独居老人关怀", "安全隐患排查", "矛盾纠纷排查",
                "人口信息核对", "反诈宣传", "垃圾分类宣传", "困难家庭回访", "征求意见建议")


# -- household visits ------------------------------------------------------------------------------


def draw_visits(
    rng: np.random.Generator, places: Places, calendar: WorkCalendar, start: datetime, end: datetime
) -> dict[str, list]:
    """Each building in a grid gets visits on a cycle of its own (~12 days; longer where workers carry more
    households, and much longer for a fifth of buildings: gated towers, absent owners), on working days,
    by a grid worker serving that day; a grid with no worker serving gets none."""
    staff: dict[str, list[tuple[int, date, date | None]]] = {}
    for w in places.workers.itertuples():
        staff.setdefault(w.grid_code, []).append((int(w.person_id), w.from_date, w.to_date))
    inside = places.buildings[places.buildings["grid_code"].notna()]
    households = inside.groupby("grid_code")["households"].sum()
    days = (start.date() + timedelta(days=i) for i in range((end - start).days + 2))
    working = {d for d in days if calendar.is_working_day(d)}
    span = (end - start).total_seconds() / 86400
    visits: dict[str, list] = {name: [] for name in VISIT_COLUMNS}
    for index, b in enumerate(inside.itertuples()):
        workers = staff.get(b.grid_code, [])
        if not workers:
            continue
        serving = sum(1 for *_, left in workers if left is None) or 1
        load = max(float(households[b.grid_code]) / (serving * 400), 0.5)
        cycle = 12 * math.exp(rng.normal(0, 0.45)) * (3.5 if rng.random() < 0.2 else 1) * load ** 0.7
        offsets = np.cumsum(rng.gamma(3, cycle / 3, size=int(span / cycle * 2) + 6)) - rng.uniform(0, cycle)
        for offset in offsets[(offsets >= 0) & (offsets < span)]:
            day = (start + timedelta(days=float(offset))).date()
            while day not in working and day < end.date() and rng.random() > 0.1:
                day += timedelta(days=1)
            active = [p for p, since, left in workers if since <= day and (left is None or day <= left)]
            morning = rng.random() < 0.5
            minute = int(rng.integers(9 * 60, 11 * 60 + 45) if morning else rng.integers(14 * 60, 17 * 60))
            at = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(minutes=minute)
            if not active or not start <= at <= end:
                continue
            visits["building_id"].append(int(b.id))
            visits["person_id"].append(active[index % len(active)])
            visits["visited_at"].append(at)
            visits["note"].append(VISIT_NOTE_PREFIX + VISIT_TOPICS[int(rng.integers(len(VISIT_TOPICS)))])
            visits["district_code"].append(b.district_code)
            visits["street_code"].append(b.street_code)
    return visits

