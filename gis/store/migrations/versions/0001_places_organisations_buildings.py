"""places organisations buildings

Revision ID: 0001
Revises:
Create Date: 2026-11-21 04:37:55.570067
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "district",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                spatial_index=False,
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("idx_district_geom", "district", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "party_org",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "level",
            sa.Enum("street_committee", "community_org", "grid_branch", "building_group", name="org_level"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("place_code", sa.String(length=40), nullable=False),
        sa.Column("secretary", sa.String(length=100), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column("valid_from", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_party_org_district_code"), "party_org", ["district_code"], unique=False)
    op.create_index(op.f("ix_party_org_place_code"), "party_org", ["place_code"], unique=False)
    op.create_index(op.f("ix_party_org_street_code"), "party_org", ["street_code"], unique=False)
    op.create_index(
        "uq_party_org_current",
        "party_org",
        ["level", "place_code"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_person_district_code"), "person", ["district_code"], unique=False)
    op.create_index(
        "uq_person_name_phone",
        "person",
        ["district_code", "name", "phone"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "service_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("valid_from", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_service_team_district_code"), "service_team", ["district_code"], unique=False)
    op.create_index(op.f("ix_service_team_grid_code"), "service_team", ["grid_code"], unique=False)
    op.create_index(op.f("ix_service_team_street_code"), "service_team", ["street_code"], unique=False)
    op.create_index(
        "uq_team_current_grid", "service_team", ["grid_code"], unique=True, postgresql_where=sa.text("valid_to IS NULL")
    )
    op.create_table(
        "street",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                spatial_index=False,
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["district_code"],
            ["district.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("idx_street_geom", "street", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_street_district_code"), "street", ["district_code"], unique=False)
    op.create_table(
        "team_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("leader", "grid_worker", "central_household", "volunteer", "caring_resident", name="team_role"),
            nullable=False,
        ),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ck_membership_dates"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(["team_id"], ["service_team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_team_membership_district_code"), "team_membership", ["district_code"], unique=False)
    op.create_index(op.f("ix_team_membership_person_id"), "team_membership", ["person_id"], unique=False)
    op.create_index(op.f("ix_team_membership_street_code"), "team_membership", ["street_code"], unique=False)
    op.create_index(op.f("ix_team_membership_team_id"), "team_membership", ["team_id"], unique=False)
    op.create_index("uq_membership", "team_membership", ["team_id", "person_id", "role", "from_date"], unique=True)
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                spatial_index=False,
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["street_code"],
            ["street.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("idx_community_geom", "community", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_community_district_code"), "community", ["district_code"], unique=False)
    op.create_index(op.f("ix_community_street_code"), "community", ["street_code"], unique=False)
    op.create_table(
        "grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("valid_from", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                spatial_index=False,
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name="ck_grid_code_digits"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_grid_validity"),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("idx_grid_geom", "grid", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_grid_code"), "grid", ["code"], unique=False)
    op.create_index(op.f("ix_grid_community_id"), "grid", ["community_id"], unique=False)
    op.create_index(op.f("ix_grid_district_code"), "grid", ["district_code"], unique=False)
    op.create_index(op.f("ix_grid_street_code"), "grid", ["street_code"], unique=False)
    op.create_index("uq_grid_current_code", "grid", ["code"], unique=True, postgresql_where=sa.text("valid_to IS NULL"))
    op.create_table(
        "building",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("floors", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.Column(
            "geom",
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
        sa.CheckConstraint("households >= 0", name="ck_building_households"),
        sa.CheckConstraint("residents >= 0", name="ck_building_residents"),
        sa.ForeignKeyConstraint(["grid_id"], ["grid.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("idx_building_geom", "building", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_building_grid_id"), "building", ["grid_id"], unique=False)
    op.create_table(
        "visit",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("building_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("street_code", sa.String(length=9), nullable=True),
        sa.ForeignKeyConstraint(["building_id"], ["building.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_visit_building_id"), "visit", ["building_id"], unique=False)
    op.create_index(op.f("ix_visit_district_code"), "visit", ["district_code"], unique=False)
    op.create_index(op.f("ix_visit_person_id"), "visit", ["person_id"], unique=False)
    op.create_index(op.f("ix_visit_street_code"), "visit", ["street_code"], unique=False)
    op.create_index(op.f("ix_visit_visited_at"), "visit", ["visited_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_visit_visited_at"), table_name="visit")
    op.drop_index(op.f("ix_visit_street_code"), table_name="visit")
    op.drop_index(op.f("ix_visit_person_id"), table_name="visit")
    op.drop_index(op.f("ix_visit_district_code"), table_name="visit")
    op.drop_index(op.f("ix_visit_building_id"), table_name="visit")
    op.drop_table("visit")
    op.drop_index(op.f("ix_building_grid_id"), table_name="building")
    op.drop_index("idx_building_geom", table_name="building", postgresql_using="gist")
    op.drop_table("building")
    op.drop_index("uq_grid_current_code", table_name="grid", postgresql_where=sa.text("valid_to IS NULL"))
    op.drop_index(op.f("ix_grid_street_code"), table_name="grid")
    op.drop_index(op.f("ix_grid_district_code"), table_name="grid")
    op.drop_index(op.f("ix_grid_community_id"), table_name="grid")
    op.drop_index(op.f("ix_grid_code"), table_name="grid")
    op.drop_index("idx_grid_geom", table_name="grid", postgresql_using="gist")
    op.drop_table("grid")
    op.drop_index(op.f("ix_community_street_code"), table_name="community")
    op.drop_index(op.f("ix_community_district_code"), table_name="community")
    op.drop_index("idx_community_geom", table_name="community", postgresql_using="gist")
    op.drop_table("community")
    op.drop_index("uq_membership", table_name="team_membership")
    op.drop_index(op.f("ix_team_membership_team_id"), table_name="team_membership")
    op.drop_index(op.f("ix_team_membership_street_code"), table_name="team_membership")
    op.drop_index(op.f("ix_team_membership_person_id"), table_name="team_membership")
    op.drop_index(op.f("ix_team_membership_district_code"), table_name="team_membership")
    op.drop_table("team_membership")
    op.drop_index(op.f("ix_street_district_code"), table_name="street")
    op.drop_index("idx_street_geom", table_name="street", postgresql_using="gist")
    op.drop_table("street")
    op.drop_index("uq_team_current_grid", table_name="service_team", postgresql_where=sa.text("valid_to IS NULL"))
    op.drop_index(op.f("ix_service_team_street_code"), table_name="service_team")
    op.drop_index(op.f("ix_service_team_grid_code"), table_name="service_team")
    op.drop_index(op.f("ix_service_team_district_code"), table_name="service_team")
    op.drop_table("service_team")
    op.drop_index("uq_person_name_phone", table_name="person")
    op.drop_index(op.f("ix_person_district_code"), table_name="person")
    op.drop_table("person")
    op.drop_index("uq_party_org_current", table_name="party_org", postgresql_where=sa.text("valid_to IS NULL"))
    op.drop_index(op.f("ix_party_org_street_code"), table_name="party_org")
    op.drop_index(op.f("ix_party_org_place_code"), table_name="party_org")
    op.drop_index(op.f("ix_party_org_district_code"), table_name="party_org")
    op.drop_table("party_org")
    op.drop_index("idx_district_geom", table_name="district", postgresql_using="gist")
    op.drop_table("district")
    sa.Enum(name="team_role").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="org_level").drop(op.get_bind(), checkfirst=True)
