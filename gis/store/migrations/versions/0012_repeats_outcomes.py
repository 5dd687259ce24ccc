"""repeat and duplicate links, long-standing problems, the explained outcome (issue 12.3-4)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 02:30:00

Placeholder in the chain: its owner fills in the tables (and their distribution in gis/store/distribution.py).
"""

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
