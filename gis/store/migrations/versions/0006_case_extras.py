"""posted fields kept with a case beyond its own columns

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 17:40:00

`service_case.extras` (JSONB, default {}) keeps fields a client posts that gridmap stores but does not
work with (Open311's address_id to begin with; api/open311_input.py lists them), so a new stored field
is a line in that list, not a column, a model, an input type and a migration.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service_case", sa.Column("extras", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")))


def downgrade() -> None:
    op.drop_column("service_case", "extras")
