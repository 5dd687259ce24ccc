"""Models of work days (社区工作日 / 楼栋工作日) and the people assigned to them (gis/workdays.py holds
the rules). Both tables are distributed by `district_code` with their place (gis/store/distribution.py)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    Time,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis.store.models.base import Base


class WorkDay(Base):
    """A scheduled work day at a community or a building: one date (`on_date`) or a recurring `rule`
    ({"weekday": 2, "weeks": [2, 4]}), valid from one date until another. The place is kept by code (a
    building's row may move to another district; its code stays), with the community and street it lay
    in when scheduled, which the area filter reads."""

    __tablename__ = "work_day"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="work_day_pkey"),
        CheckConstraint("scope IN ('community', 'building')", name="ck_work_day_scope"),
        CheckConstraint("(scope = 'building') = (building_code IS NOT NULL)", name="ck_work_day_building"),
        CheckConstraint("(on_date IS NULL) <> (rule IS NULL)", name="ck_work_day_date_or_rule"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="ck_work_day_validity"),
        CheckConstraint("end_time IS NULL OR start_time IS NULL OR end_time > start_time", name="ck_work_day_times"),
        CheckConstraint("left(community_code, 6) = district_code", name="ck_work_day_district"),
        CheckConstraint("kind IN ('work_day', 'reception')", name="ck_work_day_kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(10))
    community_code: Mapped[str] = mapped_column(String(12), index=True)
    building_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(Text, default="")
    start_time: Mapped[time | None] = mapped_column(Time, nullable=True)
    end_time: Mapped[time | None] = mapped_column(Time, nullable=True)
    on_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    rule: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str] = mapped_column(String(9), index=True)
    kind: Mapped[str] = mapped_column(String(10), server_default=text("'work_day'"))  # or reception (接待日)


class WorkDayAssignee(Base):
    """A cadre or worker assigned to a work day: a person, an account, or both."""

    __tablename__ = "work_day_assignee"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="work_day_assignee_pkey"),
        ForeignKeyConstraint(["work_day_id", "district_code"], ["work_day.id", "work_day.district_code"],
                             name="fk_assignee_work_day", ondelete="CASCADE"),
        Index("uq_work_day_assignee", "work_day_id", "person_id", "user_id", "district_code", unique=True,
              postgresql_nulls_not_distinct=True),
        CheckConstraint("person_id IS NOT NULL OR user_id IS NOT NULL", name="ck_assignee_who"),
        CheckConstraint("role IN ('cadre', 'worker', 'party_rep', 'congress_rep')", name="ck_assignee_role"),
        CheckConstraint("rotation_group IS NULL OR rotation_group BETWEEN 0 AND 51", name="ck_assignee_rotation"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    work_day_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True, nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    district_code: Mapped[str] = mapped_column(String(6))
    title: Mapped[str | None] = mapped_column(String(100), nullable=True)  # 职务, e.g. 区人大代表
    rotation_group: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)  # NULL: every session


class WorkDayAttendance(Base):
    """Whether one assignee came to one session (a work day's date), as a manager recorded it."""

    __tablename__ = "work_day_attendance"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="work_day_attendance_pkey"),
        ForeignKeyConstraint(["work_day_id", "district_code"], ["work_day.id", "work_day.district_code"],
                             name="fk_attendance_work_day", ondelete="CASCADE"),
        ForeignKeyConstraint(["assignee_id", "district_code"],
                             ["work_day_assignee.id", "work_day_assignee.district_code"],
                             name="fk_attendance_assignee", ondelete="CASCADE"),
        Index("uq_work_day_attendance", "work_day_id", "session_date", "assignee_id", "district_code", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    work_day_id: Mapped[int] = mapped_column(BigInteger)
    session_date: Mapped[date] = mapped_column(Date, index=True)
    assignee_id: Mapped[int] = mapped_column(BigInteger)
    attended: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))
