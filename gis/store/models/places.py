"""Models of places, organisations, buildings and visits."""

from __future__ import annotations

import enum
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gis.store.models.base import SRID, Base, _enum


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
    # Where a version made by a redraw plan came from (NULL for imported versions): gis/plans/model.py Lineage.
    plan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lineage: Mapped[str | None] = mapped_column(String(12), nullable=True)
    sources: Mapped[list[str] | None] = mapped_column(ARRAY(String(15)), nullable=True)

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
    """A household visit to a building (service coverage), by a grid worker or a cadre on a work day.

    Since 0008 (gis/workdays.py): how many households it reached (NULL: not counted, as in visits recorded
    before and the generated history), how many problems it raised (each became a case), the work day it
    belonged to if any (kept by id, not a foreign key: a visit moves with its building to another district
    and its work day stays), who visited (a person, an account or both) and the client's idempotency key
    (the account's username, a colon and the key), unique in its district, so a queued visit applies once."""

    __tablename__ = "visit"
    __table_args__ = (
        PrimaryKeyConstraint("id", "district_code", name="visit_pkey"),
        Index("ix_visit_visited_at", "visited_at", postgresql_include=["building_id"]),
        ForeignKeyConstraint(["building_id", "district_code"], ["building.id", "building.district_code"],
                             name="fk_visit_building", ondelete="CASCADE"),
        Index("uq_visit_idempotency_key", "idempotency_key", "district_code", unique=True),
        CheckConstraint("households_reached IS NULL OR households_reached >= 0", name="ck_visit_households"),
        CheckConstraint("problems_raised >= 0", name="ck_visit_problems"),
        CheckConstraint("person_id IS NOT NULL OR user_id IS NOT NULL", name="ck_visit_who"),
        CheckConstraint("(work_day_id IS NULL) = (session_date IS NULL)", name="ck_visit_session"),
    )

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True)
    building_id: Mapped[int] = mapped_column(BigInteger, index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True, nullable=True)
    households_reached: Mapped[int | None] = mapped_column(Integer, nullable=True)
    problems_raised: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    work_day_id: Mapped[int | None] = mapped_column(BigInteger, index=True, nullable=True)
    session_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # the work day's session (0010)
    # a visit to a focus household (gis/focus.py, migration 0011): kept by id, as work_day_id
    focus_household_id: Mapped[int | None] = mapped_column(BigInteger, index=True, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    district_code: Mapped[str] = mapped_column(String(6), index=True)  # the building's
    street_code: Mapped[str | None] = mapped_column(String(9), index=True, nullable=True)
