"""cases users categories calendar

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 04:48:46.970151

No reference rows here: categories and the calendar are synced from gis/data after every migration
(gis.store.seed.sync_reference_data), so this file imports nothing from gis and never changes with it.
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name="ck_calendar_kind"),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "case_category",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("group_zh", sa.String(length=40), nullable=False),
        sa.Column("limit_value", sa.Double(), nullable=False),
        sa.Column("limit_unit", sa.String(length=20), nullable=False),
        sa.Column("handling_rule", sa.String(length=20), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "command_centre",
                "planner",
                "street_officer",
                "grid_worker",
                "open311_client",
                name="user_role",
            ),
            nullable=False,
        ),
        sa.Column("api_key_hash", sa.String(length=64), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_key_hash"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "service_case",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("category_code", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("reporter_name", sa.String(length=100), nullable=True),
        sa.Column("reporter_contact", sa.String(length=100), nullable=True),
        sa.Column(
            "position",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                spatial_index=False,
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("given_crs", sa.String(length=10), nullable=False),
        sa.Column("given_lon", sa.Double(), nullable=False),
        sa.Column("given_lat", sa.Double(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("first_contact", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reworked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_action_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supervised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.String(length=30), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("rework_count >= 0", name="ck_case_rework"),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["party_org.id"],
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["case_category.code"],
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["service_team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_service_case_position", "service_case", ["position"], unique=False, postgresql_using="gist")
    op.create_index("ix_case_grid_status", "service_case", ["grid_code", "status"], unique=False)
    op.create_index(
        "ix_case_open_deadline",
        "service_case",
        ["deadline"],
        unique=False,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("ix_case_street_status", "service_case", ["street_code", "status"], unique=False)
    op.create_index(op.f("ix_service_case_category_code"), "service_case", ["category_code"], unique=False)
    op.create_index(op.f("ix_service_case_community_code"), "service_case", ["community_code"], unique=False)
    op.create_index(op.f("ix_service_case_district_code"), "service_case", ["district_code"], unique=False)
    op.create_index(op.f("ix_service_case_reported_at"), "service_case", ["reported_at"], unique=False)
    op.create_index(op.f("ix_service_case_status"), "service_case", ["status"], unique=False)
    op.create_index("uq_case_idempotency", "service_case", ["idempotency_key"], unique=True)
    op.create_table(
        "case_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "position",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["service_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_event_at"), "case_event", ["at"], unique=False)
    op.create_index(op.f("ix_case_event_case_id"), "case_event", ["case_id"], unique=False)
    op.create_index(op.f("ix_case_event_street_code"), "case_event", ["street_code"], unique=False)
    op.create_table(
        "case_photo",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["service_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_photo_case_id"), "case_photo", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_photo_case_id"), table_name="case_photo")
    op.drop_table("case_photo")
    op.drop_index(op.f("ix_case_event_street_code"), table_name="case_event")
    op.drop_index(op.f("ix_case_event_case_id"), table_name="case_event")
    op.drop_index(op.f("ix_case_event_at"), table_name="case_event")
    op.drop_table("case_event")
    op.drop_index("uq_case_idempotency", table_name="service_case")
    op.drop_index(op.f("ix_service_case_status"), table_name="service_case")
    op.drop_index(op.f("ix_service_case_reported_at"), table_name="service_case")
    op.drop_index(op.f("ix_service_case_district_code"), table_name="service_case")
    op.drop_index(op.f("ix_service_case_community_code"), table_name="service_case")
    op.drop_index(op.f("ix_service_case_category_code"), table_name="service_case")
    op.drop_index("ix_case_street_status", table_name="service_case")
    op.drop_index("ix_case_open_deadline", table_name="service_case", postgresql_where=sa.text("closed_at IS NULL"))
    op.drop_index("ix_case_grid_status", table_name="service_case")
    op.drop_index("idx_service_case_position", table_name="service_case", postgresql_using="gist")
    op.drop_table("service_case")
    op.drop_table("app_user")
    op.drop_table("case_category")
    op.drop_table("calendar_day")
