"""liaisons (联络员): dated assignments of cadres to grids or communities (issue 12.7)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 02:30:00

- `liaison`: one assignment of a cadre (a person, an account or both) over grids or communities (`scope`),
  from `from_date` to `to_date` (both included, as a team membership; open-ended without `to_date`).
- `liaison_area`: the places of an assignment, one row per grid or community code (no list in a column).

Both tables are distributed by district_code on a Citus cluster (gis/store/distribution.py); an
assignment's places lie in its district (CHECK on the code's first six digits).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "liaison",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="liaison_pkey"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.CheckConstraint("person_id IS NOT NULL OR user_id IS NOT NULL", name="ck_liaison_who"),
        sa.CheckConstraint("scope IN ('grid', 'community')", name="ck_liaison_scope"),
        sa.CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ck_liaison_dates"),
    )
    op.create_index("ix_liaison_person_id", "liaison", ["person_id"])
    op.create_index("ix_liaison_user_id", "liaison", ["user_id"])
    op.create_table(
        "liaison_area",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("liaison_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="liaison_area_pkey"),
        sa.ForeignKeyConstraint(["liaison_id", "district_code"], ["liaison.id", "liaison.district_code"],
                                name="fk_liaison_area_liaison", ondelete="CASCADE"),
        sa.CheckConstraint("code ~ '^[0-9]{12}([0-9]{3})?$'", name="ck_liaison_area_code"),
        sa.CheckConstraint("left(code, 6) = district_code", name="ck_liaison_area_district"),
    )
    op.create_index("uq_liaison_area", "liaison_area", ["liaison_id", "code", "district_code"], unique=True)
    op.create_index("ix_liaison_area_code", "liaison_area", ["code"])


def downgrade() -> None:
    op.drop_table("liaison_area")
    op.drop_table("liaison")
