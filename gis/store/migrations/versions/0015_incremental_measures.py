"""per-grid aggregates kept up to date for the measures (issue 11.2)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 02:30:00

Placeholder in the chain: its owner fills in the tables (and their distribution in gis/store/distribution.py).
"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
