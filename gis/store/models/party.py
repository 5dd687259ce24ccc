"""Models of party strength, commitments and evaluations (issue 12, parts 5 and 6; rules in gis/party.py).
Every table is distributed by `district_code` with its branch (gis/store/distribution.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis.store.models.base import Base


class PartyMembership(Base):
    """A party member in a branch (any level of party_org) from one day to another, with the building they
    live in (by code: a building may move district; its code stays)."""

    __tablename__ = "party_membership"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="party_membership_pkey"),
        ForeignKeyConstraint(["branch_id", "district_code"], ["party_org.id", "party_org.district_code"],
                             name="fk_party_membership_branch", ondelete="CASCADE"),
        Index("uq_party_membership", "person_id", "branch_id", "from_date", "district_code", unique=True),
        CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ck_party_membership_dates"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    branch_id: Mapped[int] = mapped_column(Integer, index=True)
    building_code: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))


class BranchGradeEntry(Base):
    """One grading of a branch (先进/一般/后进) on a day, by whom."""

    __tablename__ = "branch_grade"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="branch_grade_pkey"),
        ForeignKeyConstraint(["branch_id", "district_code"], ["party_org.id", "party_org.district_code"],
                             name="fk_branch_grade_branch", ondelete="CASCADE"),
        CheckConstraint("grade IN ('advanced', 'average', 'weak')", name="ck_branch_grade_grade"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    branch_id: Mapped[int] = mapped_column(Integer, index=True)
    grade: Mapped[str] = mapped_column(String(10))
    graded_on: Mapped[date] = mapped_column(Date)
    graded_by: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))


class BranchPairing(Base):
    """A weak branch paired with a strong one (结对共建), from one day to another (both in one district)."""

    __tablename__ = "branch_pairing"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="branch_pairing_pkey"),
        ForeignKeyConstraint(["weak_branch_id", "district_code"], ["party_org.id", "party_org.district_code"],
                             name="fk_branch_pairing_weak", ondelete="CASCADE"),
        ForeignKeyConstraint(["strong_branch_id", "district_code"], ["party_org.id", "party_org.district_code"],
                             name="fk_branch_pairing_strong", ondelete="CASCADE"),
        CheckConstraint("weak_branch_id <> strong_branch_id", name="ck_branch_pairing_two"),
        CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ck_branch_pairing_dates"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    weak_branch_id: Mapped[int] = mapped_column(Integer, index=True)
    strong_branch_id: Mapped[int] = mapped_column(Integer, index=True)
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))


class Commitment(Base):
    """A public or internal commitment (承诺) of a branch, a team or a member, with its status (践诺).
    `place_code` is the grid (or community) the holder answers for, which the area filter reads."""

    __tablename__ = "commitment"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="commitment_pkey"),
        CheckConstraint("holder_kind IN ('branch', 'team', 'member')", name="ck_commitment_holder_kind"),
        CheckConstraint("status IN ('promised', 'in_progress', 'kept', 'not_kept')", name="ck_commitment_status"),
        CheckConstraint("(holder_kind = 'branch') = (team_id IS NULL AND membership_id IS NULL)",
                        name="ck_commitment_holder"),
        CheckConstraint("left(place_code, 6) = district_code", name="ck_commitment_district"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    holder_kind: Mapped[str] = mapped_column(String(10))
    branch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the holder's branch (a member's)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    membership_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    place_code: Mapped[str] = mapped_column(String(15), index=True)
    title: Mapped[str] = mapped_column(String(300))
    made_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), server_default=text("'promised'"))
    evidence: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))


class Evaluation(Base):
    """A yearly evaluation score (述职测评) of a grid or a branch, entered or imported; one per subject and
    year (a later import replaces it)."""

    __tablename__ = "evaluation"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="evaluation_pkey"),
        Index("uq_evaluation", "year", "subject_kind", "place_code", "district_code", unique=True),
        CheckConstraint("subject_kind IN ('grid', 'branch')", name="ck_evaluation_subject"),
        CheckConstraint("score >= 0 AND score <= 100", name="ck_evaluation_score"),
        CheckConstraint("left(place_code, 6) = district_code", name="ck_evaluation_district"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    subject_kind: Mapped[str] = mapped_column(String(10))
    place_code: Mapped[str] = mapped_column(String(15), index=True)  # the grid, or the branch's place
    branch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    respondents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))
