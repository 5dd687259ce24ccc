"""party members, branch grades, pairings, commitments and evaluations (issue 12.5-6)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 02:30:00

- `party_membership`: a person in a branch (party_org) from one day to another, with the building they
  live in; a branch's members on a day are its active records (gis/party.py `members_of`).
- `branch_grade`: a dated grade per branch (advanced 先进 / average 一般 / weak 后进) and who graded it.
- `branch_pairing`: a weak branch paired with a strong one (结对共建), dated.
- `commitment`: a branch's, team's or member's commitment with its due date, status and evidence.
- `evaluation`: a yearly score (述职测评) per grid or branch, entered or imported.

All five are distributed by district_code with their branch (gis/store/distribution.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BRANCH = ["party_org.id", "party_org.district_code"]


def _common() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
            sa.Column("district_code", sa.String(length=6), nullable=False)]


PARTY_MEASURED = ("party_membership", "branch_grade")
"""The tables the wall's party measures read (gis/store/party.py)."""


def upgrade() -> None:
    op.create_table(
        "party_membership",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("building_code", sa.String(length=40), nullable=True),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        *_common(),
        sa.PrimaryKeyConstraint("id", "district_code", name="party_membership_pkey"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["branch_id", "district_code"], _BRANCH, name="fk_party_membership_branch",
                                ondelete="CASCADE"),
        sa.CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ck_party_membership_dates"),
    )
    op.create_index("ix_party_membership_person_id", "party_membership", ["person_id"])
    op.create_index("ix_party_membership_branch_id", "party_membership", ["branch_id"])
    op.create_index("ix_party_membership_building_code", "party_membership", ["building_code"])
    op.create_index("uq_party_membership", "party_membership", ["person_id", "branch_id", "from_date", "district_code"],
                    unique=True)

    op.create_table(
        "branch_grade",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=10), nullable=False),
        sa.Column("graded_on", sa.Date(), nullable=False),
        sa.Column("graded_by", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        *_common(),
        sa.PrimaryKeyConstraint("id", "district_code", name="branch_grade_pkey"),
        sa.ForeignKeyConstraint(["branch_id", "district_code"], _BRANCH, name="fk_branch_grade_branch",
                                ondelete="CASCADE"),
        sa.CheckConstraint("grade IN ('advanced', 'average', 'weak')", name="ck_branch_grade_grade"),
    )
    op.create_index("ix_branch_grade_branch_id", "branch_grade", ["branch_id"])

    op.create_table(
        "branch_pairing",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("weak_branch_id", sa.Integer(), nullable=False),
        sa.Column("strong_branch_id", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        *_common(),
        sa.PrimaryKeyConstraint("id", "district_code", name="branch_pairing_pkey"),
        sa.ForeignKeyConstraint(["weak_branch_id", "district_code"], _BRANCH, name="fk_branch_pairing_weak",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["strong_branch_id", "district_code"], _BRANCH, name="fk_branch_pairing_strong",
                                ondelete="CASCADE"),
        sa.CheckConstraint("weak_branch_id <> strong_branch_id", name="ck_branch_pairing_two"),
        sa.CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ck_branch_pairing_dates"),
    )
    op.create_index("ix_branch_pairing_weak_branch_id", "branch_pairing", ["weak_branch_id"])
    op.create_index("ix_branch_pairing_strong_branch_id", "branch_pairing", ["strong_branch_id"])

    op.create_table(
        "commitment",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("holder_kind", sa.String(length=10), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("membership_id", sa.BigInteger(), nullable=True),
        sa.Column("place_code", sa.String(length=15), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), server_default=sa.text("'promised'"), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="commitment_pkey"),
        sa.CheckConstraint("holder_kind IN ('branch', 'team', 'member')", name="ck_commitment_holder_kind"),
        sa.CheckConstraint("status IN ('promised', 'in_progress', 'kept', 'not_kept')", name="ck_commitment_status"),
        sa.CheckConstraint("(holder_kind = 'branch') = (team_id IS NULL AND membership_id IS NULL)",
                           name="ck_commitment_holder"),
        sa.CheckConstraint("left(place_code, 6) = district_code", name="ck_commitment_district"),
    )
    op.create_index("ix_commitment_place_code", "commitment", ["place_code"])

    op.create_table(
        "evaluation",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("place_code", sa.String(length=15), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        *_common(),
        sa.PrimaryKeyConstraint("id", "district_code", name="evaluation_pkey"),
        sa.CheckConstraint("subject_kind IN ('grid', 'branch')", name="ck_evaluation_subject"),
        sa.CheckConstraint("score >= 0 AND score <= 100", name="ck_evaluation_score"),
        sa.CheckConstraint("left(place_code, 6) = district_code", name="ck_evaluation_district"),
    )
    op.create_index("ix_evaluation_place_code", "evaluation", ["place_code"])
    op.create_index("uq_evaluation", "evaluation", ["year", "subject_kind", "place_code", "district_code"],
                    unique=True)
    # The wall's party measures read members and grades: a change of either is a change of organisation
    # (migration 0003's "org" kind), so layers and the incremental measures recompute (gis/store/incremental.py).
    for table in PARTY_MEASURED:
        op.execute(f"CREATE TRIGGER note_layer_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION gridmap_note_change('org')")


def downgrade() -> None:
    for table in PARTY_MEASURED:
        op.execute(f"DROP TRIGGER IF EXISTS note_layer_change ON {table}")
    for table in ("evaluation", "commitment", "branch_pairing", "branch_grade", "party_membership"):
        op.drop_table(table)
