"""A year of case history and household visits for a generated city, made in SQL at the database.

Cases are drawn per case number by a seeded hash (`hashint8extended`), so the result depends only on the
seed and the scale, whichever session makes a case. Each case lies inside a circle inside its grid (centred
on ST_PointOnSurface, 0.9 of the distance to the boundary), so the boundary rule (gis/assignment.py) routes
it to that grid; 0.3 % lie east of the lattice, outside every grid, and stay unrouted. Busy grids are spread
over the city (grids drawn in an md5 order, with a skew). Statuses, timestamps, deadlines and the
supervision and escalation flags follow the workflow (gis/workflow.py): declined 3 %; stalled in handling
0.4 %; rated 70 % (satisfied 82 %, basically 13 %, unsatisfied 5 %, reopened as rework, handled and closed
again). No case ledger (case_event) is written: the measures of now do not read it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.generate.progress import Progress


def prepare_picks(conn: psycopg.Connection[Any]) -> None:
    """Per current grid (in a scattered order): its keys and a circle inside it; per category, its time
    limit in clock hours (working time approximated). Unlogged helper tables, dropped by `drop_picks`."""
    conn.execute("ANALYZE grid, community, service_team, party_org")  # just loaded: no statistics yet
    conn.execute("DROP TABLE IF EXISTS gen_pick, gen_category")
    conn.execute("""
        CREATE UNLOGGED TABLE gen_pick AS
        SELECT (row_number() OVER (ORDER BY md5(g.code)) - 1)::int AS n, g.id AS grid_id, g.code,
               c.code AS community_code, g.street_code, g.district_code, t.id AS team_id, b.id AS branch_id,
               ST_X(m.p) AS cx, ST_Y(m.p) AS cy, ST_Distance(m.p, ST_Boundary(g.geom)) AS r
        FROM grid AS g
        JOIN community AS c ON c.id = g.community_id
        LEFT JOIN service_team AS t ON t.grid_code = g.code AND t.valid_to IS NULL
        LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code AND b.valid_to IS NULL
        CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.geom) AS p) AS m
        WHERE g.valid_to IS NULL""")
    conn.execute("CREATE UNIQUE INDEX ON gen_pick (n)")
    conn.execute("""
        CREATE UNLOGGED TABLE gen_category AS
        SELECT (row_number() OVER (ORDER BY code) - 1)::int AS k, code,
               CASE limit_unit WHEN 'clock_hours' THEN limit_value
                               WHEN 'working_hours' THEN limit_value * 4.8
                               ELSE limit_value * 24 * 1.4 END AS limit_h
        FROM case_category WHERE active""")
    conn.execute("ANALYZE gen_pick; ANALYZE gen_category")


def drop_picks(conn: psycopg.Connection[Any]) -> None:
    conn.execute("DROP TABLE IF EXISTS gen_pick, gen_category")


def _uniform(seed: int) -> Callable[..., str]:
    """SQL for a uniform [0, 1) drawn from the integer `of` (the case number) for one purpose (`salt`)."""

    def u(salt: int, of: str = "i") -> str:
        return (f"((hashint8extended({of}, {seed * 1000 + salt}) & 9007199254740991)::float8 "
                "/ 9007199254740992.0)")

    return u


_SOURCES = "ARRAY['hotline', 'patrol', 'resident', 'reception_day', 'work_day_visit', 'video', 'referral']"


# Hours after the report at which each step happens (1e9: never), and the case's age in hours at :made,
# which falls with the case number, so that the table's physical order follows reported_at as it does
# when cases arrive one by one. A step has happened when its hour <= age.
def cases_sql(seed: int) -> str:
    """The INSERT of cases :lo to :hi of :total (named parameters in psycopg's %(name)s form)."""
    u = _uniform(seed)
    return f"""
INSERT INTO service_case (source, category_code, description, address, position, given_crs, given_lon,
    given_lat, grid_id, grid_code, community_code, street_code, district_code, team_id, branch_id,
    first_contact, created_by, status, reported_at, filed_at, declined_at, dispatched_at, accepted_at,
    handled_at, closed_at, reworked_at, evaluated_at, first_action_at, deadline, supervised_at,
    escalated_at, decline_reason, rework_count, satisfaction, updated_at)
SELECT ({_SOURCES})[1 + floor(7 * u.src)::int], k.code, 'generated case ' || i, '',
       ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326), 'wgs84', p.lon, p.lat,
       g.grid_id, g.code, g.community_code, g.street_code,
       COALESCE(g.district_code, (SELECT min(code) FROM district)), g.team_id, g.branch_id,
       'generator', 'generator', s.status, r.rep, a.filed, a.declined, a.dispatched, a.accepted, a.handled,
       a.closed, a.reworked, a.evaluated, a.dispatched, a.deadline,
       CASE WHEN h.dis <= h.age AND h.dead < least(h.c1, h.age)
            THEN r.rep + make_interval(secs => 3600 * h.dead + 300) END,
       CASE WHEN h.dis <= h.age AND h.dead + 24 < least(h.c1, h.age)
            THEN r.rep + make_interval(secs => 3600 * (h.dead + 24) + 300) END,
       CASE WHEN s.status = 'declined' THEN 'not within the remit (generated)' END,
       CASE WHEN h.rw AND h.ev <= h.age THEN 1 ELSE 0 END,
       CASE WHEN h.ev <= h.age THEN h.rating END,
       greatest(r.rep, a.filed, a.declined, a.dispatched, a.accepted, a.handled, a.closed, a.reworked,
                a.evaluated)
FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS i
CROSS JOIN LATERAL (SELECT {u(1)} AS grid, {u(2)} AS cat, {u(3)} AS src, {u(4)} AS age,
    {u(5)} AS fil, {u(6)} AS dis, {u(7)} AS acc, {u(8)} AS han, {u(9)} AS ver, {u(10)} AS eva,
    {u(11)} AS rate, {u(12)} AS fate, {u(13)} AS rw, {u(14)} AS ang, {u(15)} AS rad, {u(16)} AS out,
    {u(17)} AS re2) AS u
JOIN gen_category AS k ON k.k = floor(:categories * u.cat)::int
LEFT JOIN gen_pick AS g ON u.out >= 0.003 AND g.n = floor(:grids * power(u.grid, 1.6))::int
CROSS JOIN LATERAL (SELECT
    CASE WHEN g.code IS NULL THEN :maxx + 0.002 + 0.02 * u.rad
         ELSE g.cx + 0.9 * g.r * sqrt(u.rad) * cos(2 * pi() * u.ang) END AS lon,
    CASE WHEN g.code IS NULL THEN :miny + (:maxy - :miny) * u.ang
         ELSE g.cy + 0.9 * g.r * sqrt(u.rad) * sin(2 * pi() * u.ang) END AS lat) AS p
CROSS JOIN LATERAL (SELECT 8760 * ((:total - i) + u.age) / :total AS age, u.fate < 0.03 AS declined,
    u.fate > 0.996 AS stalled, u.rate < 0.7 AS rated,
    CASE WHEN u.rate < 0.7 * 0.05 THEN 'unsatisfied' WHEN u.rate < 0.7 * 0.18 THEN 'basically_satisfied'
         ELSE 'satisfied' END AS rating) AS f
CROSS JOIN LATERAL (SELECT CASE WHEN f.declined THEN 1e9 ELSE 0.3 + 3 * u.fil END AS fil,
    CASE WHEN f.declined THEN 0.5 + 8 * u.fil ELSE 1e9 END AS dec) AS h1
CROSS JOIN LATERAL (SELECT h1.fil + 0.2 + 4 * u.dis AS dis) AS h2
CROSS JOIN LATERAL (SELECT h2.dis + 0.1 + 6 * u.acc AS acc, h2.dis + k.limit_h AS dead) AS h3
CROSS JOIN LATERAL (SELECT CASE WHEN f.stalled THEN 1e9
    ELSE h3.acc + k.limit_h * (0.1 + 1.1 * u.han * u.han) END AS h1) AS h4
CROSS JOIN LATERAL (SELECT h4.h1 + 1 + 30 * u.ver AS c1) AS h5
CROSS JOIN LATERAL (SELECT CASE WHEN f.rated THEN h5.c1 + 2 + 70 * u.eva ELSE 1e9 END AS ev) AS h6
CROSS JOIN LATERAL (SELECT f.age, f.rating, h1.fil, h1.dec, h2.dis, h3.acc, h3.dead, h4.h1, h5.c1, h6.ev,
    f.rated AND f.rating = 'unsatisfied' AS rw,
    CASE WHEN f.rated AND f.rating = 'unsatisfied'
         THEN h6.ev + 0.5 * k.limit_h * (0.2 + u.re2) ELSE 1e9 END AS h2) AS h
CROSS JOIN LATERAL (SELECT h.h2 + 1 + 30 * u.ver AS c2) AS hc
CROSS JOIN LATERAL (SELECT :made - make_interval(secs => 3600 * h.age) AS rep) AS r
CROSS JOIN LATERAL (SELECT
    CASE WHEN h.fil <= h.age THEN r.rep + make_interval(secs => 3600 * h.fil) END AS filed,
    CASE WHEN h.dec <= h.age THEN r.rep + make_interval(secs => 3600 * h.dec) END AS declined,
    CASE WHEN h.dis <= h.age THEN r.rep + make_interval(secs => 3600 * h.dis) END AS dispatched,
    CASE WHEN h.acc <= h.age THEN r.rep + make_interval(secs => 3600 * h.acc) END AS accepted,
    CASE WHEN h.dis <= h.age THEN r.rep + make_interval(secs => 3600 * h.dead) END AS deadline,
    CASE WHEN h.h2 <= h.age THEN r.rep + make_interval(secs => 3600 * h.h2)
         WHEN h.h1 <= h.age THEN r.rep + make_interval(secs => 3600 * h.h1) END AS handled,
    CASE WHEN hc.c2 <= h.age THEN r.rep + make_interval(secs => 3600 * hc.c2)
         WHEN h.c1 <= h.age THEN r.rep + make_interval(secs => 3600 * h.c1) END AS closed,
    CASE WHEN h.rw AND h.ev <= h.age THEN r.rep + make_interval(secs => 3600 * h.ev) END AS reworked,
    CASE WHEN NOT h.rw AND h.ev <= h.age THEN r.rep + make_interval(secs => 3600 * h.ev) END AS evaluated
    ) AS a
CROSS JOIN LATERAL (SELECT CASE
    WHEN h.dec <= h.age THEN 'declined'
    WHEN h.fil > h.age THEN 'reported'
    WHEN h.dis > h.age THEN 'filed'
    WHEN h.acc > h.age THEN 'dispatched'
    WHEN h.h1 > h.age THEN 'in_handling'
    WHEN h.c1 > h.age THEN 'handled'
    WHEN h.ev > h.age THEN 'closed'
    WHEN NOT h.rw THEN 'evaluated'
    WHEN h.h2 > h.age THEN 'rework'
    WHEN hc.c2 > h.age THEN 'handled'
    ELSE 'closed' END AS status) AS s
"""

# A case's index-free insert runs in batches of this many, so the progress bar moves.
BATCH = 250_000


def insert_cases(dsn: str, total: int, made: datetime, seed: int, progress: Progress) -> None:
    """Cases 1..total, in one session (two would interleave old and new cases on the table's pages), with the
    table's plain indexes dropped meanwhile and rebuilt after by two sessions (their definitions read
    from pg_indexes first; rebuilt even if the insert fails), and row triggers (foreign-key checks) off
    where the role may do so: the rows are consistent by construction. One `layer_change` row records it."""
    plain = ("FROM pg_indexes AS i WHERE schemaname = current_schema() AND tablename = 'service_case' "
             "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname)")
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.cursor(row_factory=dict_row) as cursor:
            definitions = [r["indexdef"] for r in cursor.execute(f"SELECT indexdef {plain} ORDER BY indexname")]
        extent = conn.execute("SELECT ST_XMax(e), ST_YMin(e), ST_YMax(e) FROM "
                              "(SELECT ST_Extent(geom)::geometry AS e FROM grid) AS x").fetchone()
        categories, grids = conn.execute(
            "SELECT (SELECT count(*) FROM gen_category), (SELECT count(*) FROM gen_pick)").fetchone()
        conn.execute(f"DO $$ DECLARE n text; BEGIN FOR n IN SELECT indexname {plain} "
                     "LOOP EXECUTE 'DROP INDEX ' || quote_ident(n); END LOOP; END $$")
    assert extent is not None
    sql = cases_sql(seed)
    params: dict[str, Any] = {"maxx": extent[0], "miny": extent[1], "maxy": extent[2], "categories": categories,
                              "grids": grids, "made": made, "total": total}
    for name in (*params, "lo", "hi"):
        sql = sql.replace(f":{name}", f"%({name})s")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            # Not a superuser: foreign keys are checked, which is slower but as correct.
            with suppress(psycopg.errors.InsufficientPrivilege):
                conn.execute("SET session_replication_role = replica")
            conn.execute("SET synchronous_commit = off")
            conn.execute("SET jit = off")
            for lo in range(1, total + 1, BATCH):
                hi = min(lo + BATCH - 1, total)
                conn.execute(sql, {**params, "lo": lo, "hi": hi})
                progress.advance(hi - lo + 1)
    finally:
        progress.note(f"cases: rebuilding {len(definitions)} indexes")
        _rebuild(dsn, definitions)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO layer_change (kind) VALUES ('cases')")
        # The row triggers were off (replica role), and so were the statement triggers that log which
        # units a change touched: one `everything` row makes the readers recompute every unit.
        if conn.execute("SELECT to_regclass('measure_change') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
            conn.execute("INSERT INTO measure_change (everything) VALUES (true)")


def _rebuild(dsn: str, definitions: list[str]) -> None:
    """Run the CREATE INDEX statements on two sessions; re-raise the first failure."""
    queue = list(definitions)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def builder() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                while True:
                    with lock:
                        if not queue:
                            return
                        definition = queue.pop(0)
                    conn.execute(definition)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=builder) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def insert_visits(conn: psycopg.Connection[Any], made: datetime, seed: int) -> int:
    """One visit in the 60 days before `made` for 60 % of the buildings in a grid with a grid worker."""
    u = _uniform(seed)
    return conn.execute(f"""
        INSERT INTO visit (building_id, person_id, visited_at, note, district_code, street_code)
        SELECT b.id, w.person_id, %(made)s - make_interval(secs => 60 * 86400 * {u(31, 'b.id')}),
               '', b.district_code, b.street_code
        FROM building AS b
        JOIN grid AS g ON g.id = b.grid_id
        JOIN (SELECT DISTINCT ON (t.grid_code) t.grid_code, m.person_id
              FROM service_team AS t JOIN team_membership AS m ON m.team_id = t.id AND m.role = 'grid_worker'
              ORDER BY t.grid_code, m.person_id) AS w ON w.grid_code = g.code
        WHERE {u(32, 'b.id')} < 0.6""", {"made": made}).rowcount
