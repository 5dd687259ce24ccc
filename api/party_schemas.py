"""Request bodies of party strength, commitments and evaluations (issue 12, parts 5 and 6), named as a
family like api/schemas.py (which they import `Text` from)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Text

MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1


class MemberCreate(BaseModel):
    """A party member in a branch from `from_date`: a known person (person_id) or a name and phone."""

    model_config = ConfigDict(extra="forbid")

    branch_id: int = Field(ge=1, le=MAX_INT)
    person_id: int | None = Field(None, ge=1, le=MAX_INT)
    person_name: Text | None = Field(None, min_length=1, max_length=100)
    phone: Text | None = Field(None, max_length=40)
    building_code: Text | None = Field(None, max_length=40)
    from_date: date
    to_date: date | None = None


class GradeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: Text = Field(examples=["weak"], description="advanced (先进), average (一般) or weak (后进)")
    graded_on: date
    note: Text = Field("", max_length=2000)


class PairingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weak_branch_id: int = Field(ge=1, le=MAX_INT)
    strong_branch_id: int = Field(ge=1, le=MAX_INT)
    from_date: date | None = None


class CommitmentCreate(BaseModel):
    """A commitment of a branch (branch_id), a team (team_id) or a member (membership_id)."""

    model_config = ConfigDict(extra="forbid")

    holder_kind: Text = Field(examples=["branch"], description="branch, team or member")
    branch_id: int | None = Field(None, ge=1, le=MAX_INT)
    team_id: int | None = Field(None, ge=1, le=MAX_INT)
    membership_id: int | None = Field(None, ge=1, le=MAX_BIGINT)
    title: Text = Field(min_length=1, max_length=300, examples=["每月组织一次楼栋清洁"])
    made_on: date | None = None
    due_on: date
    evidence: Text = Field("", max_length=4000)
    public: bool = True


class CommitmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Text | None = Field(None, description="promised, in_progress, kept or not_kept")
    evidence: Text | None = Field(None, max_length=4000)
    title: Text | None = Field(None, min_length=1, max_length=300)
    due_on: date | None = None
    public: bool | None = None


class EvaluationCreate(BaseModel):
    """One yearly score; `code` is the grid code, for a branch the grid or community it answers for."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=1990, le=2999)
    subject: Text = Field(examples=["grid"], description="grid or branch")
    code: Text = Field(max_length=15, examples=["500103001001001"])
    score: float = Field(ge=0, le=100)
    respondents: int | None = Field(None, ge=0, le=MAX_INT)
    note: Text = Field("", max_length=2000)
