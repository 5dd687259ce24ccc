"""work-day rosters, cadres' attendance and cases raised at a session (issue 12.1)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:30:00

Placeholder in the chain: its owner fills in the tables (and their distribution in gis/store/distribution.py).
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
