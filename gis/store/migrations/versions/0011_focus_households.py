"""focus households (关爱对象), their pairings and visit cycles (issue 12.2)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:30:00

- `focus_household`: a household of a building on the focus register (door label, name and phone, category,
  its own visit cycle if any, its helper — a person or a name — with the pairing's dates, the register's
  dates, a note); the rules are gis/focus.py. Distributed by district_code with its building.
- `visit` gains focus_household_id: a visit to a focus household is a row of the one visit table (kept by
  id, not a foreign key, as work_day_id: a visit moves with its building).
- A statement trigger notes changes of focus_household as kind "visits" in layer_change (migration 0003),
  so the wall's data version moves when the register does.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CATEGORIES = ("lonely_elderly", "ill_or_disabled", "childless_elderly", "retired_cadre", "military_family",
              "hardship")
MAX_CYCLE_DAYS = 366


def upgrade() -> None:
    op.create_table(
        "focus_household",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("building_id", sa.BigInteger(), nullable=False),
        sa.Column("household", sa.String(length=40), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("cycle_days", sa.Integer(), nullable=True),
        sa.Column("helper_person_id", sa.Integer(), nullable=True),
        sa.Column("helper_name", sa.String(length=100), nullable=True),
        sa.Column("paired_from", sa.Date(), nullable=True),
        sa.Column("paired_to", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="focus_household_pkey"),
        sa.ForeignKeyConstraint(["building_id", "district_code"], ["building.id", "building.district_code"],
                                name="fk_focus_household_building", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["helper_person_id"], ["person.id"]),
        sa.CheckConstraint("category IN (" + ", ".join(f"'{c}'" for c in CATEGORIES) + ")",
                           name="ck_focus_household_category"),
        sa.CheckConstraint(f"cycle_days IS NULL OR cycle_days BETWEEN 1 AND {MAX_CYCLE_DAYS}",
                           name="ck_focus_household_cycle"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_focus_household_validity"),
        sa.CheckConstraint("(helper_person_id IS NOT NULL OR helper_name IS NOT NULL) = (paired_from IS NOT NULL)",
                           name="ck_focus_household_helper"),
        sa.CheckConstraint("paired_to IS NULL OR (paired_from IS NOT NULL AND paired_to >= paired_from)",
                           name="ck_focus_household_pairing"),
    )
    op.create_index("ix_focus_household_building_id", "focus_household", ["building_id"])
    op.create_index("ix_focus_household_helper_person_id", "focus_household", ["helper_person_id"])
    op.add_column("visit", sa.Column("focus_household_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_visit_focus_household_id", "visit", ["focus_household_id"])
    op.execute("CREATE TRIGGER note_layer_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON focus_household "
               "FOR EACH STATEMENT EXECUTE FUNCTION gridmap_note_change('visits')")


def downgrade() -> None:
    op.drop_index("ix_visit_focus_household_id", table_name="visit")
    op.drop_column("visit", "focus_household_id")
    op.execute("DROP TRIGGER IF EXISTS note_layer_change ON focus_household")
    op.drop_table("focus_household")
