"""Models of long-standing problems (老大难) and the cases linked to them (gis/repeats.py holds the rules;
the outcome and link columns of a case are on `ServiceCase`). Both tables are distributed by
`district_code` with their community (gis/store/distribution.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.store.models.base import Base


class LongProblem(Base):
    """A long-standing problem (老大难): a title, the place it sits (a community, optionally one grid), an
    owner (an account or a department, or both), the date of its next review and its status."""

    __tablename__ = "long_problem"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="long_problem_pkey"),
        CheckConstraint("status IN ('open', 'in_progress', 'resolved')", name="ck_long_problem_status"),
        CheckConstraint("owner_username IS NOT NULL OR owner_department IS NOT NULL", name="ck_long_problem_owner"),
        CheckConstraint("left(community_code, 6) = district_code", name="ck_long_problem_district"),
        CheckConstraint("grid_code IS NULL OR left(grid_code, 12) = community_code", name="ck_long_problem_grid"),
        Index("ix_long_problem_review", "review_on", postgresql_where=text("status <> 'resolved'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_username: Mapped[str | None] = mapped_column(String(80), nullable=True)
    owner_department: Mapped[str | None] = mapped_column(String(100), nullable=True)
    review_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    community_code: Mapped[str] = mapped_column(String(12), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), nullable=True)
    street_code: Mapped[str] = mapped_column(String(9), index=True)
    district_code: Mapped[str] = mapped_column(String(6))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LongProblemCase(Base):
    """A case linked to a long-standing problem (kept by id: a case may move to another district)."""

    __tablename__ = "long_problem_case"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="long_problem_case_pkey"),
        ForeignKeyConstraint(["problem_id", "district_code"], ["long_problem.id", "long_problem.district_code"],
                             name="fk_long_problem_case_problem", ondelete="CASCADE"),
        Index("uq_long_problem_case", "problem_id", "case_id", "district_code", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    problem_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    district_code: Mapped[str] = mapped_column(String(6))
