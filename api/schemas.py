"""Request bodies, named as a family (CaseCreate, CaseAction, CaseRoute …). Responses are plain dicts
built by the store, documented by example in the OpenAPI page."""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gis.cases import Photo


class PhotoUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: str = Field(examples=["image/jpeg"])
    data_base64: str = Field(description="the image bytes, base64-encoded")

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

    source: str = Field(examples=["hotline"])
    category: str = Field(examples=["exposed_rubbish"])
    description: str = Field("", max_length=4000)
    lon: float | None = Field(None, examples=[106.5775])
    lat: float | None = Field(None, examples=[29.5586])
    crs: str = "wgs84"
    address: str = Field("", max_length=400)
    reporter_name: str | None = Field(None, max_length=100)
    reporter_contact: str | None = Field(None, max_length=100)
    idempotency_key: str | None = Field(None, max_length=100)
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

    action: str = Field(examples=["file"])
    reason: str | None = Field(None, max_length=2000)
    satisfaction: str | None = Field(None, examples=["satisfied"])
    note: str = Field("", max_length=2000)
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    grid_code: str | None = Field(None, description="reassign or dispatch to this grid")
    department: str | None = Field(None, max_length=100, description="dispatch to an owning department")


class CaseRoute(BaseModel):
    """Route an unrouted case by hand."""

    model_config = ConfigDict(extra="forbid")

    grid_code: str
    note: str = ""
