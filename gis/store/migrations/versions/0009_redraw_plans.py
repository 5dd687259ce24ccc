"""redraw plans and the lineage of the grid versions they make

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 21:00:00

- `redraw_plan`: one community's or street's full set of grids, its status (draft → checked → approved →
  applied, or discarded), who made, approved and applied it and when, the area's grid versions it was made
  from (a stale plan is refused), accepted warnings with their reasons.
- `plan_grid`: the plan's grids as drawn (any geometry: the checks say what is wrong with it).
- `grid.plan_id`, `grid.lineage`, `grid.sources`: where a version made by a plan came from.
Both new tables are distributed by `district_code` on a Citus cluster (gis/store/distribution.py).
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "redraw_plan",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("base_grid_ids", ARRAY(sa.Integer()), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("applied_by", sa.String(length=80), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_warnings", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("restores_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="redraw_plan_pkey"),
    )
    op.create_index("ix_redraw_plan_district_code", "redraw_plan", ["district_code"])
    op.create_index("ix_redraw_plan_area_code", "redraw_plan", ["area_code"])
    op.create_table(
        "plan_grid",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("sources", ARRAY(sa.String(length=15)), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=True),
        sa.ForeignKeyConstraint(["plan_id", "district_code"], ["redraw_plan.id", "redraw_plan.district_code"],
                                name="fk_plan_grid_plan", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", "district_code", name="plan_grid_pkey"),
    )
    op.create_index("ix_plan_grid_plan", "plan_grid", ["plan_id"])
    op.add_column("grid", sa.Column("plan_id", sa.Integer(), nullable=True))
    op.add_column("grid", sa.Column("lineage", sa.String(length=12), nullable=True))
    op.add_column("grid", sa.Column("sources", ARRAY(sa.String(length=15)), nullable=True))


def downgrade() -> None:
    for column in ("sources", "lineage", "plan_id"):
        op.drop_column("grid", column)
    op.drop_table("plan_grid")
    op.drop_table("redraw_plan")
