"""measure_change: which units each committed change of cases or visits touches (issue 11.2)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 02:30:00

The measures are kept per grid between requests and refreshed for the touched units only
(gis/store/incremental.py); this log says which units a change touched. Statement-level triggers with
transition tables write it in the changing transaction, one row per distinct (grid, community, street,
district) of the rows changed:

* `service_case` INSERT, UPDATE, DELETE: the codes of the old and the new rows (a case reassigned to
  another grid touches both grids; a case moved to another district is a delete and an insert);
* `visit` and `focus_household` INSERT, UPDATE, DELETE: the codes of the building's grid;
* TRUNCATE of any of them: one row with `everything` set (the reader recomputes every unit).

`xid` (the writing transaction) lets a reader take exactly the changes its last computation could not see:
those whose transaction is not visible in the snapshot taken before that computation (a max(id) watermark
would miss a transaction that commits after a later one). Rows are pruned by age (`at`) by the readers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_CODES = "grid_code, community_code, street_code, district_code"

_CASES_FUNCTION = f"""
CREATE FUNCTION gridmap_note_cases_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO measure_change ({_CODES}) SELECT DISTINCT {_CODES} FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO measure_change ({_CODES}) SELECT DISTINCT {_CODES} FROM old_rows;
    ELSE
        INSERT INTO measure_change ({_CODES})
        SELECT {_CODES} FROM old_rows UNION SELECT {_CODES} FROM new_rows;
    END IF;
    RETURN NULL;
END $$"""

_VISIT_CODES = ("SELECT g.code, m.code, g.street_code, g.district_code FROM {rows} AS v "
                "JOIN building AS b ON b.id = v.building_id JOIN grid AS g ON g.id = b.grid_id "
                "JOIN community AS m ON m.id = g.community_id")

# A row with a building_id (a visit, a focus household): the codes of the building's grid.
_VISITS_FUNCTION = f"""
CREATE FUNCTION gridmap_note_visits_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO measure_change ({_CODES}) {_VISIT_CODES.format(rows="new_rows")} GROUP BY 1, 2, 3, 4;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO measure_change ({_CODES}) {_VISIT_CODES.format(rows="old_rows")} GROUP BY 1, 2, 3, 4;
    ELSE
        INSERT INTO measure_change ({_CODES})
        {_VISIT_CODES.format(rows="old_rows")} UNION {_VISIT_CODES.format(rows="new_rows")};
    END IF;
    RETURN NULL;
END $$"""

_EVERYTHING_FUNCTION = """
CREATE FUNCTION gridmap_note_everything_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO measure_change (everything) VALUES (true);
    RETURN NULL;
END $$"""

_TRIGGERS = {
    "service_case": "gridmap_note_cases_touched",
    "visit": "gridmap_note_visits_touched",
    "focus_household": "gridmap_note_visits_touched",  # migration 0011: a household of a building, like a visit
}
_TRANSITIONS = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.execute("""
        CREATE TABLE measure_change (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            everything boolean NOT NULL DEFAULT false,
            grid_code text, community_code text, street_code text, district_code text)""")
    op.execute("CREATE INDEX ix_measure_change_xid ON measure_change (xid)")
    op.execute("CREATE INDEX ix_measure_change_at ON measure_change (at)")
    op.execute(_CASES_FUNCTION)
    op.execute(_VISITS_FUNCTION)
    op.execute(_EVERYTHING_FUNCTION)
    for table, function in _TRIGGERS.items():
        if op.get_bind().execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
            continue  # a database stamped past the migration that makes it
        for event, clause in _TRANSITIONS.items():
            op.execute(f"CREATE TRIGGER note_measure_change_{event} AFTER {event.upper()} ON {table} "
                       f"REFERENCING {clause} FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
        op.execute(f"CREATE TRIGGER note_measure_change_truncate AFTER TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION gridmap_note_everything_touched()")


def downgrade() -> None:
    for table in _TRIGGERS:
        for event in (*_TRANSITIONS, "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS note_measure_change_{event} ON {table}")
    for function in ("gridmap_note_cases_touched", "gridmap_note_visits_touched", "gridmap_note_everything_touched"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.execute("DROP TABLE IF EXISTS measure_change")
