"""Models of liaisons (联络员, 分片包干): a cadre's dated assignment to a group of grids or communities
(gis/liaisons.py holds the rules). Both tables are distributed by `district_code` (gis/store/distribution.py):
an assignment's places lie in one district."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.store.models.base import Base


class Liaison(Base):
    """One assignment: who (a person, an account or both), over which kind of place (`scope`: grid or
    community), from its first day to its last (both included; open-ended without `to_date`)."""

    __tablename__ = "liaison"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="liaison_pkey"),
        CheckConstraint("person_id IS NOT NULL OR user_id IS NOT NULL", name="ck_liaison_who"),
        CheckConstraint("scope IN ('grid', 'community')", name="ck_liaison_scope"),
        CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ck_liaison_dates"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True, nullable=True)
    scope: Mapped[str] = mapped_column(String(10))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))


class LiaisonArea(Base):
    """One place of an assignment, by code (a grid's 15 digits or a community's 12): codes outlive a
    grid's boundary versions, so a redraw keeps the assignment."""

    __tablename__ = "liaison_area"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="liaison_area_pkey"),
        ForeignKeyConstraint(["liaison_id", "district_code"], ["liaison.id", "liaison.district_code"],
                             name="fk_liaison_area_liaison", ondelete="CASCADE"),
        Index("uq_liaison_area", "liaison_id", "code", "district_code", unique=True),
        Index("ix_liaison_area_code", "code"),
        CheckConstraint("code ~ '^[0-9]{12}([0-9]{3})?$'", name="ck_liaison_area_code"),
        CheckConstraint("left(code, 6) = district_code", name="ck_liaison_area_district"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    liaison_id: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(15))
    district_code: Mapped[str] = mapped_column(String(6))
