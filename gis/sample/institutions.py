"""The sample district's institutional records (issue 12), seeded and written through the product's own store
functions, so that the wall, the grid card and the work-day report have something to show:

* every community a community work day on the 2nd and 4th Tuesday with 3-5 cadres, and a few communities a
  weekly rotating reception (party and people's-congress representatives taking turns), over the period;
  attendance recorded for every past session (most come, a few stay away, one cadre never comes);
  the history's visits on a session day in that community and its cases raised at work-day visits or
  receptions on a session day tagged to the session (`gis.store.rosters` tag columns, one UPDATE each);
* focus households, party memberships, grades and pairings, commitments and evaluations
  (gis/sample/institutions_party.py);
* a liaison per street for its communities, one community left without (a gap on the wall).

Everything written here carries `created_by` = `SAMPLE_USER`; `gridmap sample` adds it once, when no work
day of that user exists (so it stays idempotent like the history).
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gis.permissions import Actor
from gis.sample import Progress
from gis.sample.walk import SURNAMES
from gis.store import liaisons, rosters
from gis.store.models import WorkDayAttendance
from gis.store.reference import load_calendar
from gis.store.workdays import Assignee, WorkDayInput, schedule_work_day
from gis.workcalendar import SHANGHAI

SAMPLE_USER = "gridmap-sample"
ACTOR = Actor(username=SAMPLE_USER, role="admin")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红"
CADRE_TITLES = ("区民政局科员", "区财政局副科长", "区住建委干部", "区司法局科员", "区城管局副科长",
                "区卫健委干部", "区人社局科员", "区委组织部干部", "区应急局科员", "区教委干部")
WORK_DAY_RULE = {"weekday": 2, "weeks": [2, 4]}  # the Tuesday of the 2nd and 4th week (Yuzhong's cadres' day)
RECEPTION_RULE = {"weekday": 4}  # every Thursday
RECEPTION_EVERY = 6  # one community in six keeps a weekly reception
RECEPTION_GROUPS = 4  # its representatives take turns in four groups
NEVER_CAME = 0  # the cadre (by place in the first community's roster) who never comes


def generate_institutions(session: Session, *, seed: int = 2026, end: datetime | None = None, days: int = 365,
                          progress: Progress = print) -> dict[str, Any]:
    """Write the records for the `days` up to `end` (default now); same seed, end and places: same records.
    Returns counts."""
    from gis.sample.institutions_party import write_focus, write_party

    started = clock.perf_counter()
    end = (end or datetime.now(UTC)).astimezone(SHANGHAI).replace(microsecond=0)
    today, start = end.date(), end.date() - timedelta(days=days)
    rng = np.random.default_rng(seed)
    names = _Names(rng)
    communities = [dict(r) for r in session.execute(text(
        "SELECT code, name, street_code FROM community ORDER BY code")).mappings()]
    progress(f"institutions: {len(communities)} communities, {start} … {today}, seed {seed}")
    counts = _work_days(session, rng, names, communities, start, end)
    progress(f"institutions: {counts['work_days']} work days and receptions, "
             f"{counts['attendance_marks']:,} attendance marks")
    counts |= _tag_history(session)
    progress(f"institutions: tagged {counts['visits_tagged']:,} visits and {counts['cases_tagged']:,} cases")
    counts |= write_focus(session, rng, names, today)
    counts |= write_party(session, rng, names, today)
    progress(f"institutions: {counts['focus_households']} focus households, {counts['memberships']} memberships, "
             f"{counts['commitments']} commitments, {counts['evaluations']} evaluations")
    counts |= _liaisons(session, names, communities, start)
    counts["seconds"] = round(clock.perf_counter() - started, 1)
    progress(f"institutions: done in {counts['seconds']} s")
    return counts


def has_institutions(session: Session) -> bool:
    return session.execute(text("SELECT 1 FROM work_day WHERE created_by = :u LIMIT 1"),
                           {"u": SAMPLE_USER}).first() is not None


class _Names:
    """Seeded Chinese names, each given once (so person rows do not merge)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self.used = rng, set()

    def __call__(self) -> str:
        while True:
            name = (str(self.rng.choice(list(SURNAMES))) + str(self.rng.choice(list(GIVEN)))
                    + (str(self.rng.choice(list(GIVEN))) if self.rng.random() < 0.7 else ""))
            if name not in self.used:
                self.used.add(name)
                return name


def new_person(session: Session, name: str, district: str = "500103") -> int:
    """The person row of someone the sample invents (a cadre, a representative), found by name when one with
    no phone exists already (a person is unique by district, name and phone)."""
    found = session.execute(text("INSERT INTO person (name, phone, district_code) VALUES (:n, NULL, :d) "
                                 "ON CONFLICT DO NOTHING RETURNING id"), {"n": name, "d": district}).scalar()
    return found or session.execute(text("SELECT id FROM person WHERE district_code = :d AND name = :n "
                                         "AND phone IS NULL"), {"n": name, "d": district}).scalar_one()


# -- work days, receptions, attendance ---------------------------------------------------------------


def _work_days(session: Session, rng: np.random.Generator, names: _Names, communities: list[dict[str, Any]],
               start: date, end: datetime) -> dict[str, int]:
    """Schedules through the store, then who came to every past session: the people on duty by the store's
    own rota (`gis.store.rosters.sessions`), written in bulk as `rosters.record_attendance` writes them
    (one call per session, which answers with the session's roster, would take ~15 s for ~2,400 sessions)."""
    likely: dict[int, float] = {}  # person → chance of coming
    for number, c in enumerate(communities):
        cadres = []
        for place in range(int(rng.integers(3, 6))):
            person = new_person(session, names())
            likely[person] = 0.0 if number == 0 and place == NEVER_CAME else float(rng.uniform(0.7, 0.97))
            cadres.append(Assignee(person_id=person, role="cadre", title=str(rng.choice(CADRE_TITLES))))
        schedule_work_day(session, WorkDayInput(
            scope="community", title=f"{c['name']}工作日", community_code=c["code"],
            place=f"{c['name']}党群服务中心", start_time=time(9), end_time=time(17), rule=WORK_DAY_RULE,
            valid_from=start, assignees=tuple(cadres)), ACTOR, now=end)
        if number % RECEPTION_EVERY == 1:
            reps = []
            for group in range(RECEPTION_GROUPS):
                for role, title in (("party_rep", "区党代表"), ("congress_rep", "区人大代表")):
                    person = new_person(session, names())
                    likely[person] = float(rng.uniform(0.85, 1.0))
                    reps.append(Assignee(person_id=person, role=role, title=title, rotation_group=group))
            schedule_work_day(session, WorkDayInput(
                scope="community", kind="reception", title=f"{c['name']}代表接待日", community_code=c["code"],
                place=f"{c['name']}代表联络站", start_time=time(9, 30), end_time=time(11, 30), rule=RECEPTION_RULE,
                valid_from=start, assignees=tuple(reps)), ACTOR, now=end)
    rows = rosters.work_days(session, "w.created_by = :by", {"by": SAMPLE_USER})
    marks = [{"work_day_id": row["id"], "session_date": day, "assignee_id": p["assignee_id"],
              "attended": bool(rng.random() < likely.get(p["person_id"], 0.9)), "recorded_by": SAMPLE_USER,
              "district_code": row["district_code"]}
             for row, day, people in rosters.sessions(rows, start, end.date(), load_calendar(session)) for p in people]
    for first in range(0, len(marks), 5000):
        session.execute(pg_insert(WorkDayAttendance.__table__), marks[first:first + 5000])
    return {"work_days": len(rows), "attendance_marks": len(marks)}


_TAG_VISITS_SQL = """
UPDATE visit AS v SET work_day_id = s.id, session_date = s.day,
       households_reached = greatest(1, b.households * (40 + (b.id * 7 + extract(doy FROM s.day)::int) % 61) / 100)
FROM unnest(CAST(:ids AS bigint[]), CAST(:communities AS text[]), CAST(:days AS date[])) AS s(id, community, day)
JOIN grid AS g ON left(g.code, 12) = s.community AND g.valid_to IS NULL
JOIN building AS b ON b.grid_id = g.id AND b.district_code = g.district_code
WHERE v.building_id = b.id AND v.district_code = b.district_code AND v.work_day_id IS NULL
  AND v.visited_at >= CAST(s.day AS timestamp) AT TIME ZONE 'Asia/Shanghai'
  AND v.visited_at < CAST(s.day + 1 AS timestamp) AT TIME ZONE 'Asia/Shanghai'
"""

_CASES_SQL = """
SELECT id, district_code, left(grid_code, 12) AS community, source,
       (reported_at AT TIME ZONE 'Asia/Shanghai')::date AS day
FROM service_case WHERE work_day_id IS NULL AND grid_code IS NOT NULL AND source = ANY(:sources)
"""

_TAG_CASES_SQL = """
UPDATE service_case AS c SET work_day_id = s.id, session_date = s.day
FROM unnest(CAST(:cases AS bigint[]), CAST(:districts AS text[]), CAST(:ids AS bigint[]), CAST(:days AS date[]))
     AS s(case_id, district_code, id, day)
WHERE c.id = s.case_id AND c.district_code = s.district_code
"""

CASE_FOLLOW_UP_DAYS = 6
"""A problem raised at a session is filed as a case on the day or within this many days after it."""


def _tag_history(session: Session) -> dict[str, int]:
    """The history's visits on a work-day session day in the community (households reached: a seeded share
    of the building's), and its cases raised at a work-day visit or a reception (their source) filed on a
    session day of the community or up to CASE_FOLLOW_UP_DAYS after, tagged to that session. Bulk UPDATEs:
    the tag columns have no bulk store function; what the intake checks for a tag
    (`rosters.check_session_tag`: a session date, the kind's source, not in the future) holds by construction."""
    rows = rosters.work_days(session, "w.created_by = :by", {"by": SAMPLE_USER})
    if not rows:
        return {"visits_tagged": 0, "cases_tagged": 0}
    first = min(r["valid_from"] for r in rows)
    last = datetime.now(UTC).astimezone(SHANGHAI).date()
    held = [(row, day) for row, day, _ in rosters.sessions(rows, first, last, load_calendar(session))]
    work = [(row, day) for row, day in held if row["kind"] == "work_day"]
    visits = session.execute(text(_TAG_VISITS_SQL), {
        "ids": [r["id"] for r, _ in work], "communities": [r["community_code"] for r, _ in work],
        "days": [d for _, d in work]}).rowcount
    by_place = {(row["community_code"], rosters.SOURCE_OF_KIND[row["kind"]], day): row["id"] for row, day in held}
    tags: dict[str, list] = {"cases": [], "districts": [], "ids": [], "days": []}
    for case in session.execute(text(_CASES_SQL), {"sources": sorted(set(rosters.SOURCE_OF_KIND.values()))}
                                ).mappings():
        for back in range(CASE_FOLLOW_UP_DAYS + 1):
            day = case["day"] - timedelta(days=back)
            work_day_id = by_place.get((case["community"], case["source"], day))
            if work_day_id is not None:
                for key, value in zip(tags, (case["id"], case["district_code"], work_day_id, day), strict=True):
                    tags[key].append(value)
                break
    cases = session.execute(text(_TAG_CASES_SQL), tags).rowcount if tags["cases"] else 0
    return {"visits_tagged": visits, "cases_tagged": cases}


# -- liaisons -------------------------------------------------------------------------------------------


def _liaisons(session: Session, names: _Names, communities: list[dict[str, Any]], start: date) -> dict[str, int]:
    """One cadre per street for its communities (分片包干); the first street's last community has none."""
    streets: dict[str, list[str]] = {}
    for c in communities:
        streets.setdefault(c["street_code"], []).append(c["code"])
    left_out = None
    for number, (street, codes) in enumerate(sorted(streets.items())):
        if number == 0 and len(codes) > 1:
            left_out, codes = codes[-1], codes[:-1]
        liaisons.assign(session, liaisons.LiaisonInput(
            scope="community", codes=tuple(codes), from_date=start, person_id=new_person(session, names()),
            note=f"街道 {street} 联络员"), ACTOR)
    return {"liaisons": len(streets), "community_without_liaison": left_out}
