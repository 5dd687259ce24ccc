"""Request bodies, named as a family (CaseCreate, CaseAction, CaseRoute …). Responses are plain dicts
built by the store, documented by example in the OpenAPI page."""

from __future__ import annotations

import base64
import binascii
from datetime import date as datetime_date
from datetime import datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from gis.cases import Photo
from gis.text import storable_problem


def _storable(value: str) -> str:
    problem = storable_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


Text = Annotated[str, AfterValidator(_storable)]
"""A string PostgreSQL can store (no NUL, valid UTF-8): every text field of a request body uses it."""


class PhotoUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: Text = Field(examples=["image/jpeg"])
    data_base64: Text = Field(description="the image bytes, base64-encoded")

    def to_photo(self, number: int) -> Photo:
        try:
            data = base64.b64decode(self.data_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            from gis.errors import InvalidInput

            raise InvalidInput(f"photo {number}: data_base64 is not valid base64") from exc
        return Photo(self.content_type, data)


class CaseCreate(BaseModel):
    """A new case. Position in `crs`: wgs84 (GPS), cgcs2000, gcj02 (Gaode/Tencent) or bd09 (Baidu)."""

    model_config = ConfigDict(extra="forbid")

    source: Text = Field(examples=["hotline"])
    category: Text = Field(examples=["exposed_rubbish"])
    description: Text = Field("", max_length=4000)
    lon: float | None = Field(None, examples=[106.5775])
    lat: float | None = Field(None, examples=[29.5586])
    crs: Text = "wgs84"
    address: Text = Field("", max_length=400)
    reporter_name: Text | None = Field(None, max_length=100)
    reporter_contact: Text | None = Field(None, max_length=100)
    idempotency_key: Text | None = Field(None, max_length=100)
    photos: list[PhotoUpload] = Field(default_factory=list)
    work_day_id: int | None = Field(None, ge=1, le=2**63 - 1, description="raised at this work day's session …")
    session_date: datetime_date | None = Field(None, description="… on this date (both or neither)")

    @field_validator("source", "category")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


class CaseAction(BaseModel):
    """One workflow step. `reason` for decline/reject/reassign; `satisfaction` for evaluations."""

    model_config = ConfigDict(extra="forbid")

    action: Text = Field(examples=["file"])
    reason: Text | None = Field(None, max_length=2000)
    satisfaction: Text | None = Field(None, examples=["satisfied"])
    note: Text = Field("", max_length=2000)
    lon: float | None = None
    lat: float | None = None
    crs: Text = "wgs84"
    grid_code: Text | None = Field(None, description="reassign or dispatch to this grid")
    department: Text | None = Field(None, max_length=100, description="dispatch to an owning department")
    expected_by: datetime_date | None = Field(None, description="explain: the date the resident was told to expect")


class CaseRoute(BaseModel):
    """Route an unrouted case by hand."""

    model_config = ConfigDict(extra="forbid")

    grid_code: Text
    note: Text = ""


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Text = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200, description="the new password (≥ 10 characters)")


class AssigneeCreate(BaseModel):
    """A cadre or worker on a work day: a person (person_id), an account (user_id), or both."""

    model_config = ConfigDict(extra="forbid")

    person_id: int | None = Field(None, ge=1, le=2**31 - 1)
    user_id: int | None = Field(None, ge=1, le=2**31 - 1)
    role: Text = Field("cadre", examples=["cadre"], description="cadre, worker, party_rep or congress_rep")
    title: Text | None = Field(None, max_length=100, examples=["区人大代表"], description="职务, on the roster")
    rotation_group: int | None = Field(None, ge=0, le=51, description="absent: at every session; 0 … n-1: "
                                       "the turn of a rotation this person belongs to (session k: group k mod n)")


class WorkDayCreate(BaseModel):
    """A work day at a community or a building: one `date`, or a recurring `rule` such as
    {"weekday": 2, "weeks": [2, 4]} (the second and fourth Tuesday; ISO weekdays, -1 = the last)."""

    model_config = ConfigDict(extra="forbid")

    scope: Text = Field(examples=["community"], description="community or building")
    kind: Text = Field("work_day", examples=["work_day"], description="work_day or reception (接待日)")
    community_code: Text | None = Field(None, max_length=12, examples=["500103001001"])
    building_code: Text | None = Field(None, max_length=40)
    title: Text = Field(min_length=1, max_length=200, examples=["社区工作日"])
    place: Text = Field("", max_length=400, examples=["社区党群服务中心"])
    start_time: time | None = Field(None, examples=["09:00"])
    end_time: time | None = Field(None, examples=["12:00"])
    date: datetime_date | None = None
    rule: dict[str, Any] | None = Field(None, examples=[{"weekday": 2, "weeks": [2, 4]}])
    valid_from: datetime_date | None = None
    valid_until: datetime_date | None = None
    assignees: list[AssigneeCreate] = Field(default_factory=list, max_length=500)

    @field_validator("start_time", "end_time")
    @classmethod
    def _local_time(cls, value: time | None) -> time | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError("give the local (Asia/Shanghai) time without an offset, e.g. 09:00")
        return value


class ProblemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Text = Field(min_length=1, max_length=4000)
    category: Text | None = Field(None, examples=["neighbour_dispute"])


class VisitCreate(BaseModel):
    """A household visit to a building (its code or id). Each problem becomes a case (source
    work_day_visit) at the building; a plain string is a problem's description."""

    model_config = ConfigDict(extra="forbid")

    building_code: Text | None = Field(None, max_length=40, examples=["B-WEST"])
    building_id: int | None = Field(None, ge=1, le=2**63 - 1)
    households_reached: int = Field(ge=0, le=100000, examples=[6])
    note: Text = Field("", max_length=4000)
    work_day_id: int | None = Field(None, ge=1, le=2**63 - 1)
    problems: list[ProblemCreate | Annotated[Text, Field(min_length=1, max_length=4000)]] = Field(
        default_factory=list, max_length=50)
    visited_at: datetime | None = Field(None, description="when it happened (a visit queued offline); default now")
    idempotency_key: Text | None = Field(None, max_length=100)


class AttendanceMark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: int = Field(ge=1, le=2**63 - 1)
    attended: bool


class AttendanceRecord(BaseModel):
    """Who came to one session: a mark per assignee on duty (a later mark replaces an earlier one)."""

    model_config = ConfigDict(extra="forbid")

    attendance: list[AttendanceMark] = Field(min_length=1, max_length=500)


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: Text = Field(description="the community (12 digits) or street (9 digits) to redraw",
                       examples=["500103001001"])
    name: Text = Field(min_length=1, max_length=200, examples=["解放碑社区网格调整"])


class PlanGridsBody(BaseModel):
    """The plan's grids as a GeoJSON FeatureCollection (properties code, name, team_id, branch_id, sources)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(pattern="^FeatureCollection$")
    features: list[dict[str, Any]]


class WarningAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Text = Field(min_length=1, max_length=200)
    reason: Text = Field(min_length=1, max_length=1000)


class PlanApply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_date: datetime_date
