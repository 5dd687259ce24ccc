"""SQLAlchemy models of places, organisations, buildings and visits.

Distribution: the tables keyed by place are distributed by `district_code` on a Citus cluster and the small
lookup tables are reference tables; the lists and the rules (district_code NOT NULL and in every primary
and unique key and in every foreign key between distributed tables) are in gis/store/distribution.py,
the mapping in docs/scaling.md. Geometries are stored in WGS84 (EPSG:4326) with a GiST index each.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gis.store.vocabulary import open_case_sql

SRID = 4326


class Base(DeclarativeBase):
    """Declarative base for every gridmap table."""


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


class OrgLevel(enum.StrEnum):
    """The party organisation mirrors the places (DOMAIN.md)."""

    street_committee = "street_committee"  # 街道党工委
    community_org = "community_org"  # 社区党组织
    grid_branch = "grid_branch"  # 网格党支部
    building_group = "building_group"  # 楼栋党小组


class TeamRole(enum.StrEnum):
    """Roles in a grid's service team."""

    leader = "leader"
    grid_worker = "grid_worker"
    central_household = "central_household"  # 党员中心户
    volunteer = "volunteer"
    caring_resident = "caring_resident"


# -- places -------------------------------------------------------------------------------------


class District(Base):
    __tablename__ = "district"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)


class Street(Base):
    __tablename__ = "street"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    district_code: Mapped[str] = mapped_column(String(6), ForeignKey("district.code"), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)


class Community(Base):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    street_code: Mapped[str] = mapped_column(String(9), ForeignKey("street.code"), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)


class Grid(Base):
    """A responsibility field. Several rows may share a code: one per boundary version.

    The current version has `valid_to IS NULL`; a partial unique index keeps one current row per code (the
    code starts with the district code, so (code, district_code) is as unique as the code).
    """

    __tablename__ = "grid"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="grid_pkey"),
        Index("uq_grid_current_code", "code", "district_code", unique=True,
              postgresql_where=text("valid_to IS NULL")),
        CheckConstraint("code ~ '^[0-9]{15}$'", name="ck_grid_code_digits"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_grid_validity"),
        CheckConstraint("left(code, 6) = district_code", name="ck_grid_code_district"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    code: Mapped[str] = mapped_column(String(15), index=True)
    name: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    street_code: Mapped[str] = mapped_column(String(9), index=True)
    valid_from: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)

    community: Mapped[Community] = relationship()


# -- organisations ------------------------------------------------------------------------------


class Person(Base):
    """Anyone serving in a team or party organisation."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    __table_args__ = (
        Index("uq_person_name_phone", "district_code", "name", "phone", unique=True,
              postgresql_nulls_not_distinct=True),
    )


class PartyOrg(Base):
    """A party organisation at one level, tied to the place it mirrors."""

    __tablename__ = "party_org"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="party_org_pkey"),
        Index("uq_party_org_current", "level", "place_code", "district_code", unique=True,
              postgresql_where=text("valid_to IS NULL")),
        # Street, community and grid codes start with the district code; a building group follows its building.
        CheckConstraint("level = 'building_group' OR left(place_code, 6) = district_code",
                        name="ck_party_org_place_district"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    level: Mapped[OrgLevel] = mapped_column(_enum(OrgLevel, "org_level"))
    name: Mapped[str] = mapped_column(String(200))
    # The code of the place it answers for: street, community or grid code, or the building code.
    place_code: Mapped[str] = mapped_column(String(40), index=True)
    secretary: Mapped[str | None] = mapped_column(String(100), nullable=True)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    street_code: Mapped[str | None] = mapped_column(String(9), index=True, nullable=True)
    valid_from: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)


class ServiceTeam(Base):
    """A grid's service team; teams change over time, so each has validity dates."""

    __tablename__ = "service_team"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="service_team_pkey"),
        Index("uq_team_current_grid", "grid_code", "district_code", unique=True,
              postgresql_where=text("valid_to IS NULL")),
        CheckConstraint("left(grid_code, 6) = district_code", name="ck_team_grid_district"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    grid_code: Mapped[str] = mapped_column(String(15), index=True)
    name: Mapped[str] = mapped_column(String(200))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    street_code: Mapped[str] = mapped_column(String(9), index=True)
    valid_from: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)

    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="team")


class TeamMembership(Base):
    """Who served in which team, in which role, from when to when."""

    __tablename__ = "team_membership"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="team_membership_pkey"),
        Index("uq_membership", "team_id", "person_id", "role", "from_date", "district_code", unique=True),
        CheckConstraint("to_date IS NULL OR to_date >= from_date", name="ck_membership_dates"),
        ForeignKeyConstraint(["team_id", "district_code"], ["service_team.id", "service_team.district_code"],
                             name="fk_membership_team", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    team_id: Mapped[int] = mapped_column(Integer, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[TeamRole] = mapped_column(_enum(TeamRole, "team_role"))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    street_code: Mapped[str] = mapped_column(String(9), index=True)

    team: Mapped[ServiceTeam] = relationship(back_populates="memberships")
    person: Mapped[Person] = relationship()


# -- buildings and visits -----------------------------------------------------------------------


class Building(Base):
    """A building point. `grid_id` is the current grid containing it, NULL when outside every grid.

    Its district is its grid's, else the surrounding community's, else the nearest district's
    (gis/store/distribution.py); the loaders keep one row per code, moving a building that changes district.
    Grids are never deleted (a redraw closes a version), so the grid reference has no ON DELETE action."""

    __tablename__ = "building"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="building_pkey"),
        Index("uq_building_code", "code", "district_code", unique=True),
        CheckConstraint("households >= 0", name="ck_building_households"),
        CheckConstraint("residents >= 0", name="ck_building_residents"),
        ForeignKeyConstraint(["grid_id", "district_code"], ["grid.id", "grid.district_code"], name="fk_building_grid"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(Text, default="")
    households: Mapped[int] = mapped_column(Integer, default=0)
    residents: Mapped[int] = mapped_column(Integer, default=0)
    floors: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grid_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    # Distribution keys, not query keys (buildings are read by grid and by bbox): no index of their own.
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9), nullable=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)

    grid: Mapped[Grid | None] = relationship()


class Visit(Base):
    """A household visit by a grid worker to a building (service coverage)."""

    __tablename__ = "visit"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="visit_pkey"),
        Index("ix_visit_visited_at", "visited_at", postgresql_include=["building_id"]),
        ForeignKeyConstraint(["building_id", "district_code"], ["building.id", "building.district_code"],
                             name="fk_visit_building", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    building_id: Mapped[int] = mapped_column(BigInteger, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    district_code: Mapped[str] = mapped_column(String(6), index=True)  # the building's
    street_code: Mapped[str | None] = mapped_column(String(9), index=True, nullable=True)


# -- cases --------------------------------------------------------------------------------------


class UserRole(enum.StrEnum):
    """Who may read and change what (see gis/permissions.py)."""

    admin = "admin"  # district grid office: everything
    command_centre = "command_centre"  # 指挥中心: sorts, dispatches, verifies, supervises; reads all
    planner = "planner"  # 规划/网格办: reads all, redraws boundaries
    street_officer = "street_officer"  # reads and acts on cases of one street
    grid_worker = "grid_worker"  # 网格员: own grid only
    open311_client = "open311_client"  # a hotline or app posting residents' requests


class AppUser(Base):
    """A person or system that calls gridmap. Keys are stored as SHA-256 hashes only."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "user_role"))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), nullable=True)  # grid workers
    street_code: Mapped[str | None] = mapped_column(String(9), nullable=True)  # street officers
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


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
