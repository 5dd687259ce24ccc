"""work days (社区工作日 / 楼栋工作日) and visits that count households

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00

- `work_day`: a schedule at a community or a building (one date, or a rule such as
  {"weekday": 2, "weeks": [2, 4]}), with its title, meeting place, times and validity (gis/workdays.py).
- `work_day_assignee`: the cadres and workers assigned to it (a person, an account, or both).
- `visit` gains households_reached (NULL for the visits before: not counted), problems_raised,
  work_day_id, user_id (the account that recorded it; person_id becomes optional) and idempotency_key,
  unique with district_code, so a visit queued offline and sent twice is stored once.

Both new tables are distributed by district_code on a Citus cluster (gis/store/distribution.py).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_day",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("building_code", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("rule", JSONB(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="work_day_pkey"),
        sa.CheckConstraint("scope IN ('community', 'building')", name="ck_work_day_scope"),
        sa.CheckConstraint("(scope = 'building') = (building_code IS NOT NULL)", name="ck_work_day_building"),
        sa.CheckConstraint("(on_date IS NULL) <> (rule IS NULL)", name="ck_work_day_date_or_rule"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="ck_work_day_validity"),
        sa.CheckConstraint("end_time IS NULL OR start_time IS NULL OR end_time > start_time",
                           name="ck_work_day_times"),
        sa.CheckConstraint("left(community_code, 6) = district_code", name="ck_work_day_district"),
    )
    op.create_index("ix_work_day_community_code", "work_day", ["community_code"])
    op.create_index("ix_work_day_street_code", "work_day", ["street_code"])
    op.create_table(
        "work_day_assignee",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("work_day_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="work_day_assignee_pkey"),
        sa.ForeignKeyConstraint(["work_day_id", "district_code"], ["work_day.id", "work_day.district_code"],
                                name="fk_assignee_work_day", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.CheckConstraint("person_id IS NOT NULL OR user_id IS NOT NULL", name="ck_assignee_who"),
        sa.CheckConstraint("role IN ('cadre', 'worker')", name="ck_assignee_role"),
    )
    op.create_index("ix_work_day_assignee_person_id", "work_day_assignee", ["person_id"])
    op.create_index("ix_work_day_assignee_user_id", "work_day_assignee", ["user_id"])
    op.create_index("uq_work_day_assignee", "work_day_assignee",
                    ["work_day_id", "person_id", "user_id", "district_code"], unique=True,
                    postgresql_nulls_not_distinct=True)

    op.alter_column("visit", "person_id", nullable=True)
    op.add_column("visit", sa.Column("user_id", sa.Integer(), nullable=True))
    op.add_column("visit", sa.Column("households_reached", sa.Integer(), nullable=True))
    op.add_column("visit", sa.Column("problems_raised", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("visit", sa.Column("work_day_id", sa.BigInteger(), nullable=True))
    op.add_column("visit", sa.Column("idempotency_key", sa.String(length=200), nullable=True))
    op.create_foreign_key("visit_user_id_fkey", "visit", "app_user", ["user_id"], ["id"])
    op.create_index("ix_visit_user_id", "visit", ["user_id"])
    op.create_index("ix_visit_work_day_id", "visit", ["work_day_id"])
    op.create_index("uq_visit_idempotency_key", "visit", ["idempotency_key", "district_code"], unique=True)
    op.create_check_constraint("ck_visit_households", "visit", "households_reached IS NULL OR households_reached >= 0")
    op.create_check_constraint("ck_visit_problems", "visit", "problems_raised >= 0")
    op.create_check_constraint("ck_visit_who", "visit", "person_id IS NOT NULL OR user_id IS NOT NULL")


def downgrade() -> None:
    for name in ("ck_visit_who", "ck_visit_problems", "ck_visit_households"):
        op.drop_constraint(name, "visit", type_="check")
    op.drop_index("uq_visit_idempotency_key", table_name="visit")
    op.drop_index("ix_visit_work_day_id", table_name="visit")
    op.drop_index("ix_visit_user_id", table_name="visit")
    op.drop_constraint("visit_user_id_fkey", "visit", type_="foreignkey")
    for column in ("idempotency_key", "work_day_id", "problems_raised", "households_reached", "user_id"):
        op.drop_column("visit", column)
    op.execute("DELETE FROM visit WHERE person_id IS NULL")
    op.alter_column("visit", "person_id", nullable=False)
    op.drop_table("work_day_assignee")
    op.drop_table("work_day")
