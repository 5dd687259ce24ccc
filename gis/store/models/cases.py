"""Models of case categories, the work calendar, cases, their events and photos."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis.store.models.base import SRID, Base
from gis.store.vocabulary import open_case_sql

# -- cases --------------------------------------------------------------------------------------


class CaseCategory(Base):
    """A case category with its time limit and handling rule, seeded from gis/data/categories.csv."""

    __tablename__ = "case_category"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    group_zh: Mapped[str] = mapped_column(String(40))
    limit_value: Mapped[float] = mapped_column()
    limit_unit: Mapped[str] = mapped_column(String(20))
    handling_rule: Mapped[str] = mapped_column(String(20))
    emergency: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class CalendarDay(Base):
    """A holiday or make-up working day of the work calendar (configurable; seeded from holidays.csv)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    name: Mapped[str] = mapped_column(String(60), default="")
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="ck_calendar_kind"),)


_OPEN_CASE = open_case_sql(None)  # the partial indexes' predicate: the vocabulary's "open case"


class ServiceCase(Base):
    """A resident's or worker's case (诉求/事件), with the grid, branch and team that answered for it at
    creation (kept even when boundaries move) and a timestamp per status. `grid_code` NULL = unrouted.

    `district_code` is never NULL: the grid's district, else (unrouted) the surrounding community's, else
    the nearest district's (gis/store/distribution.py). An idempotency key is unique per district; intake
    looks a key up across districts first, and a retry of the same request lands in the same district."""

    __tablename__ = "service_case"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="service_case_pkey"),
        ForeignKeyConstraint(["grid_id", "district_code"], ["grid.id", "grid.district_code"], name="fk_case_grid"),
        ForeignKeyConstraint(["team_id", "district_code"], ["service_team.id", "service_team.district_code"],
                             name="fk_case_team"),
        ForeignKeyConstraint(["branch_id", "district_code"], ["party_org.id", "party_org.district_code"],
                             name="fk_case_branch"),
        Index("ix_case_grid_status", "grid_code", "status"),
        Index("ix_case_street_status", "street_code", "status"),
        Index("ix_case_open_deadline", "deadline", postgresql_where=text("closed_at IS NULL")),
        Index("uq_case_idempotency", "idempotency_key", "district_code", unique=True),
        CheckConstraint("rework_count >= 0", name="ck_case_rework"),
        # Declared here so autogenerate keeps them; created by migrations 0003 and 0004.
        Index("ix_case_open_position", "position", postgresql_using="gist", postgresql_where=text(_OPEN_CASE)),
        Index("ix_case_open_grid", "grid_code", postgresql_include=["deadline"], postgresql_where=text(_OPEN_CASE)),
        Index("ix_case_deadline", "deadline"),
        Index("ix_case_handled_at", "handled_at"),
        Index("ix_case_closed_at", "closed_at"),
        Index("ix_case_grid_reported", "grid_code", "reported_at"),
        Index("ix_case_community_reported", "community_code", "reported_at"),
        Index("ix_case_street_reported", "street_code", "reported_at"),
        Index("ix_case_work_day_session", "work_day_id", "session_date"),
        CheckConstraint("(work_day_id IS NULL) = (session_date IS NULL)", name="ck_service_case_session"),
        # How a case ended, and its links to other cases (gis/repeats.py, migration 0012).
        CheckConstraint("outcome IS NULL OR outcome IN ('solved', 'explained', 'merged')", name="ck_case_outcome"),
        CheckConstraint("(outcome = 'explained') = (expected_by IS NOT NULL)", name="ck_case_explained"),
        CheckConstraint("(status = 'merged') = (merged_into IS NOT NULL)", name="ck_case_merged"),
        CheckConstraint("repeat_of IS NULL OR repeat_of <> id", name="ck_case_repeat_of"),
        Index("ix_case_repeat_of", "repeat_of", postgresql_where=text("repeat_of IS NOT NULL")),
        Index("ix_case_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    source: Mapped[str] = mapped_column(String(20))
    category_code: Mapped[str] = mapped_column(ForeignKey("case_category.code"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    reporter_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reporter_contact: Mapped[str | None] = mapped_column(String(100), nullable=True)
    position = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    given_crs: Mapped[str] = mapped_column(String(10), default="wgs84")
    given_lon: Mapped[float] = mapped_column()
    given_lat: Mapped[float] = mapped_column()
    # Who answers, fixed at creation (or by a manual routing / reassignment / applied redraw plan):
    grid_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), nullable=True)
    community_code: Mapped[str | None] = mapped_column(String(12), index=True, nullable=True)
    street_code: Mapped[str | None] = mapped_column(String(9), nullable=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    branch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    department: Mapped[str | None] = mapped_column(String(100), nullable=True)  # owning department
    first_contact: Mapped[str] = mapped_column(String(80))  # 首问负责: who received it
    created_by: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    filed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    declined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reworked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_action_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    supervised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[str | None] = mapped_column(String(30), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Posted fields stored but not worked with (api/open311_input.py STORED_EXTRAS); staff read them.
    extras: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"), default=dict)
    # The work-day or reception session the problem was raised at (gis/store/rosters.py, migration 0010).
    work_day_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    session_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Outcome (solved | explained | merged: gis.workflow.Outcome), set by handle, explain or merge; an
    # explanation's text and the date the resident was told to expect; the case a duplicate was merged into
    # and the earlier case a repeat was linked to (ids only: a case may move to another district).
    outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)
    explanation: Mapped[str | None] = mapped_column(Text, nullable=True)
    expected_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    merged_into: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    repeat_of: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CaseEvent(Base):
    """One change to a case: who, when, where, from which status to which. The ledger is rebuilt from these."""

    __tablename__ = "case_event"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="case_event_pkey"),
        Index("ix_case_event_case_at", "case_id", "at"),
        ForeignKeyConstraint(["case_id", "district_code"], ["service_case.id", "service_case.district_code"],
                             name="fk_event_case", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(30))  # a workflow Action, or create/route/supervise/escalate
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    position = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)
    data: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    district_code: Mapped[str] = mapped_column(String(6))  # the case's
    street_code: Mapped[str | None] = mapped_column(String(9), index=True, nullable=True)


class CasePhoto(Base):
    """A photo attached to a case (kept in the database so nothing is lost between machines)."""

    __tablename__ = "case_photo"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="case_photo_pkey"),
        ForeignKeyConstraint(["case_id", "district_code"], ["service_case.id", "service_case.district_code"],
                             name="fk_photo_case", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    district_code: Mapped[str] = mapped_column(String(6))  # the case's
