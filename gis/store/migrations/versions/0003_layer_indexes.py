"""layer indexes: a change log for the layer version, partial indexes on open cases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:00:00

* `layer_change` — one row per statement that changed a table the map layers read, written by
  statement-level triggers, so `GET /api/layers/version` is `SELECT kind, sum(n) … GROUP BY kind` over a
  handful of rows (gis/store/layers.py `data_version`). Being written inside the changing transaction it
  is seen exactly when the change is committed (a max(id) or max(updated_at) can miss a transaction that
  commits after a later one), costs no scan of the case table, and a rolled-back change leaves no trace.
  Kinds: `cases` (service_case, case_event), `places` (district, street, community, grid, building),
  `org` (party_org, service_team, team_membership, person), `visits` (visit). UPDATEs of service_case are
  only logged when they touch rows (a transition table), because the overdue sweeper runs UPDATEs that
  usually match nothing; every other statement is logged as it runs (imports are deliberate changes, and
  no transition table slows bulk loads). Rows are compacted into one per kind by the reader.
* partial indexes on the open cases (filed, dispatched, in_handling, handled, rework: the statuses that
  `gis.workflow.counts_as_open_case` accepts, frozen here): their positions (case tiles) and their grid
  with the deadline (per-grid counts at low zoom, the overdue layer) — a small slice of a table of
  millions. Queries must spell the same status list as literals for the planner to use them.
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

KINDS = {
    "cases": ("service_case", "case_event"),
    "places": ("district", "street", "community", "grid", "building"),
    "org": ("party_org", "service_team", "team_membership", "person"),
    "visits": ("visit",),
}
OPEN = "('filed', 'dispatched', 'in_handling', 'handled', 'rework')"


def upgrade() -> None:
    op.execute(
        "CREATE TABLE layer_change (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "kind varchar(20) NOT NULL, n bigint NOT NULL DEFAULT 1)"
    )
    op.execute("""
        CREATE FUNCTION gridmap_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO layer_change (kind) VALUES (TG_ARGV[0]);
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE FUNCTION gridmap_note_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM changed_rows) THEN
                INSERT INTO layer_change (kind) VALUES (TG_ARGV[0]);
            END IF;
            RETURN NULL;
        END $$""")
    for kind, tables in KINDS.items():
        for table in tables:
            if table == "service_case":
                op.execute(
                    "CREATE TRIGGER note_layer_change_rows AFTER UPDATE ON service_case "
                    "REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT "
                    f"EXECUTE FUNCTION gridmap_note_rows_changed('{kind}')"
                )
                events = "INSERT OR DELETE OR TRUNCATE"
            else:
                events = "INSERT OR UPDATE OR DELETE OR TRUNCATE"
            op.execute(
                f"CREATE TRIGGER note_layer_change AFTER {events} ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION gridmap_note_change('{kind}')"
            )
    op.execute(f"CREATE INDEX ix_case_open_position ON service_case USING gist (position) "
               f"WHERE status IN {OPEN}")
    op.execute(f"CREATE INDEX ix_case_open_grid ON service_case (grid_code) INCLUDE (deadline) "
               f"WHERE status IN {OPEN}")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_case_open_grid")
    op.execute("DROP INDEX IF EXISTS ix_case_open_position")
    for tables in KINDS.values():
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS note_layer_change ON {table}")
    op.execute("DROP TRIGGER IF EXISTS note_layer_change_rows ON service_case")
    op.execute("DROP FUNCTION IF EXISTS gridmap_note_rows_changed()")
    op.execute("DROP FUNCTION IF EXISTS gridmap_note_change()")
    op.execute("DROP TABLE IF EXISTS layer_change")
