"""Models of redraw plans: a plan (one community's or street's full set of grids, with its status and
who did what when) and its grids. Applied plans are kept; the grids they made say where they came from
(`grid.plan_id`, `grid.lineage`, `grid.sources`)."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis.store.models.base import SRID, Base


class RedrawPlan(Base):
    """draft → checked → approved → applied (or discarded); see gis/plans/model.py PlanStatus."""

    __tablename__ = "redraw_plan"
    __table_args__ = (PrimaryKeyConstraint("id", "district_code", name="redraw_plan_pkey"),)

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    area_code: Mapped[str] = mapped_column(String(12), index=True)  # the community (12) or street (9) redrawn
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    base_grid_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer))  # the area's current versions when made
    author: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    effective_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    applied_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    discarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    accepted_warnings: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    restores_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # a rollback: the grids of that day
    note: Mapped[str] = mapped_column(Text, server_default="")


class PlanGridRow(Base):
    """One grid of a plan, as drawn (it may be invalid: the checks say so)."""

    __tablename__ = "plan_grid"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="plan_grid_pkey"),
        ForeignKeyConstraint(["plan_id", "district_code"], ["redraw_plan.id", "redraw_plan.district_code"],
                             name="fk_plan_grid_plan", ondelete="CASCADE"),
        Index("ix_plan_grid_plan", "plan_id"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(Integer)
    district_code: Mapped[str] = mapped_column(String(6))
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(100))
    branch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sources: Mapped[list[str]] = mapped_column(ARRAY(String(15)), server_default=text("'{}'"))
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False), nullable=True)
