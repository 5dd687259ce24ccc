"""The model of focus households (关爱对象) and their helpers (结对帮扶); the rules are gis/focus.py.
Distributed by `district_code` with its building (gis/store/distribution.py); visits to a household are rows
of the one `visit` table carrying its `focus_household_id`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.focus import MAX_CYCLE_DAYS, Category
from gis.store.models.base import Base

CATEGORY_CHECK = "category IN (" + ", ".join(f"'{c.value}'" for c in Category) + ")"


class FocusHousehold(Base):
    """A household of a building on the focus register: who (door label, name, phone: personal data), why
    (`category`), its own visit cycle if any, its helper (a person, or a name for someone with no person
    row) with the pairing's dates, and the register's dates (valid_to exclusive, as every validity here)."""

    __tablename__ = "focus_household"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="focus_household_pkey"),
        ForeignKeyConstraint(["building_id", "district_code"], ["building.id", "building.district_code"],
                             name="fk_focus_household_building", ondelete="CASCADE"),
        CheckConstraint(CATEGORY_CHECK, name="ck_focus_household_category"),
        CheckConstraint(f"cycle_days IS NULL OR cycle_days BETWEEN 1 AND {MAX_CYCLE_DAYS}",
                        name="ck_focus_household_cycle"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_focus_household_validity"),
        CheckConstraint("(helper_person_id IS NOT NULL OR helper_name IS NOT NULL) = (paired_from IS NOT NULL)",
                        name="ck_focus_household_helper"),
        CheckConstraint("paired_to IS NULL OR (paired_from IS NOT NULL AND paired_to >= paired_from)",
                        name="ck_focus_household_pairing"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    building_id: Mapped[int] = mapped_column(BigInteger, index=True)
    household: Mapped[str] = mapped_column(String(40))
    person_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    category: Mapped[str] = mapped_column(String(20))
    cycle_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    helper_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True, nullable=True)
    helper_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    paired_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    paired_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))
