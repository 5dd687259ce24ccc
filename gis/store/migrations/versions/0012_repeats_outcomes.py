"""repeat and duplicate links, long-standing problems, the explained outcome (issue 12.3-4)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 02:30:00

- `service_case` gains `outcome` (solved | explained | merged, gis.workflow.Outcome: how a closed case
  ended; only solved counts as solved), `explanation` and `expected_by` (解释说明: what the resident was
  told and by when), `merged_at` and `merged_into` (a duplicate merged into another case: status merged),
  and `repeat_of` (the earlier case a repeat report is linked to; ids only, a case may change district).
  Cases handled before this migration were solved: their outcome is set so.
- `long_problem` (老大难): a long-standing problem with an owner, a review date and a status, and
  `long_problem_case`, the cases linked to it. Both distributed by district_code with their community
  (gis/store/distribution.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_CASE_COLUMNS = ("outcome", "explanation", "expected_by", "merged_at", "merged_into", "repeat_of")


def upgrade() -> None:
    op.add_column("service_case", sa.Column("outcome", sa.String(length=10), nullable=True))
    op.add_column("service_case", sa.Column("explanation", sa.Text(), nullable=True))
    op.add_column("service_case", sa.Column("expected_by", sa.Date(), nullable=True))
    op.add_column("service_case", sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("service_case", sa.Column("merged_into", sa.BigInteger(), nullable=True))
    op.add_column("service_case", sa.Column("repeat_of", sa.BigInteger(), nullable=True))
    op.execute("UPDATE service_case SET outcome = 'solved' WHERE handled_at IS NOT NULL")
    op.create_check_constraint("ck_case_outcome", "service_case",
                               "outcome IS NULL OR outcome IN ('solved', 'explained', 'merged')")
    op.create_check_constraint("ck_case_explained", "service_case",
                               "(outcome = 'explained') = (expected_by IS NOT NULL)")
    op.create_check_constraint("ck_case_merged", "service_case", "(status = 'merged') = (merged_into IS NOT NULL)")
    op.create_check_constraint("ck_case_repeat_of", "service_case", "repeat_of IS NULL OR repeat_of <> id")
    op.create_index("ix_case_repeat_of", "service_case", ["repeat_of"],
                    postgresql_where=sa.text("repeat_of IS NOT NULL"))
    op.create_index("ix_case_merged_into", "service_case", ["merged_into"],
                    postgresql_where=sa.text("merged_into IS NOT NULL"))

    op.create_table(
        "long_problem",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_username", sa.String(length=80), nullable=True),
        sa.Column("owner_department", sa.String(length=100), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="long_problem_pkey"),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'resolved')", name="ck_long_problem_status"),
        sa.CheckConstraint("owner_username IS NOT NULL OR owner_department IS NOT NULL",
                           name="ck_long_problem_owner"),
        sa.CheckConstraint("left(community_code, 6) = district_code", name="ck_long_problem_district"),
        sa.CheckConstraint("grid_code IS NULL OR left(grid_code, 12) = community_code", name="ck_long_problem_grid"),
    )
    op.create_index("ix_long_problem_community_code", "long_problem", ["community_code"])
    op.create_index("ix_long_problem_street_code", "long_problem", ["street_code"])
    op.create_index("ix_long_problem_review", "long_problem", ["review_on"],
                    postgresql_where=sa.text("status <> 'resolved'"))
    op.create_table(
        "long_problem_case",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("problem_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="long_problem_case_pkey"),
        sa.ForeignKeyConstraint(["problem_id", "district_code"], ["long_problem.id", "long_problem.district_code"],
                                name="fk_long_problem_case_problem", ondelete="CASCADE"),
    )
    op.create_index("ix_long_problem_case_case_id", "long_problem_case", ["case_id"])
    op.create_index("uq_long_problem_case", "long_problem_case", ["problem_id", "case_id", "district_code"],
                    unique=True)


def downgrade() -> None:
    op.drop_table("long_problem_case")
    op.drop_table("long_problem")
    op.drop_index("ix_case_merged_into", table_name="service_case")
    op.drop_index("ix_case_repeat_of", table_name="service_case")
    for name in ("ck_case_repeat_of", "ck_case_merged", "ck_case_explained", "ck_case_outcome"):
        op.drop_constraint(name, "service_case", type_="check")
    op.execute("UPDATE service_case SET status = 'closed', closed_at = coalesce(closed_at, merged_at) "
               "WHERE status = 'merged'")
    for column in reversed(_CASE_COLUMNS):
        op.drop_column("service_case", column)
