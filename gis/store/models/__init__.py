"""SQLAlchemy models of every gridmap table: places, organisations, buildings and visits
(`places`), users, categories, the calendar and cases (`cases`), on one declarative base (`base`).

Distribution: the tables keyed by place are distributed by `district_code` on a Citus cluster and the small
lookup tables are reference tables; the lists and the rules (district_code NOT NULL and in every primary
and unique key and in every foreign key between distributed tables) are in gis/store/distribution.py,
the mapping in docs/scaling.md. Geometries are stored in WGS84 (EPSG:4326) with a GiST index each.
"""

from __future__ import annotations

from gis.store.models.accounts import AppUser, AuditLog, UserRole, UserSession
from gis.store.models.base import SRID, Base
from gis.store.models.cases import CalendarDay, CaseCategory, CaseEvent, CasePhoto, ServiceCase
from gis.store.models.focus import FocusHousehold
from gis.store.models.liaisons import Liaison, LiaisonArea
from gis.store.models.party import BranchGradeEntry, BranchPairing, Commitment, Evaluation, PartyMembership
from gis.store.models.places import (
    Building,
    Community,
    District,
    Grid,
    OrgLevel,
    PartyOrg,
    Person,
    ServiceTeam,
    Street,
    TeamMembership,
    TeamRole,
    Visit,
)
from gis.store.models.plans import PlanGridRow, RedrawPlan
from gis.store.models.repeats import LongProblem, LongProblemCase
from gis.store.models.workdays import WorkDay, WorkDayAssignee, WorkDayAttendance

__all__ = [
    "AppUser", "AuditLog", "Base", "Building", "CalendarDay", "CaseCategory", "CaseEvent", "CasePhoto", "Community",
    "District", "Grid", "OrgLevel", "PartyOrg", "Person", "PlanGridRow", "RedrawPlan", "SRID", "ServiceCase",
    "ServiceTeam", "Street",
    "FocusHousehold",
    "Liaison", "LiaisonArea",
    "LongProblem", "LongProblemCase",
    "BranchGradeEntry", "BranchPairing", "Commitment", "Evaluation", "PartyMembership",
    "TeamMembership", "TeamRole", "UserRole", "UserSession", "Visit", "WorkDay", "WorkDayAssignee",
    "WorkDayAttendance",
]
