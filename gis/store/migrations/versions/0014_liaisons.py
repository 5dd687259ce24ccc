"""liaisons (联络员): dated assignments of cadres to grids or communities (issue 12.7)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 02:30:00

Placeholder in the chain: its owner fills in the tables (and their distribution in gis/store/distribution.py).
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
