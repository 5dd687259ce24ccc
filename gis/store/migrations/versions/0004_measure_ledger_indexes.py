"""indexes for measures over a period and for ledger exports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 14:00:00

Measures read the cases a period touches by their deadline, handling and closure times; past moments
rebuild state from a case's events in time order; the visit cycle reads recent visits per building;
ledger exports read one grid, community or street for a period.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_case_deadline": "service_case (deadline)",
    "ix_case_handled_at": "service_case (handled_at)",
    "ix_case_closed_at": "service_case (closed_at)",
    "ix_case_grid_reported": "service_case (grid_code, reported_at)",
    "ix_case_community_reported": "service_case (community_code, reported_at)",
    "ix_case_street_reported": "service_case (street_code, reported_at)",
    "ix_case_event_case_at": "case_event (case_id, at)",
    "ix_visit_visited_at": "visit (visited_at) INCLUDE (building_id)",
}


def upgrade() -> None:
    for name, target in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
