"""focus households (关爱对象), their pairings and visit cycles (issue 12.2)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:30:00

Placeholder in the chain: its owner fills in the tables (and their distribution in gis/store/distribution.py).
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
