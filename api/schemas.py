"""Request bodies, named as a family (CaseCreate, CaseAction, CaseRoute …). Responses are plain dicts
built by the store, documented by example in the OpenAPI page."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

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
