"""The declarative base every gridmap table shares, and the helpers of the model modules."""

from __future__ import annotations

import enum

from sqlalchemy import Enum
from sqlalchemy.orm import DeclarativeBase

SRID = 4326


class Base(DeclarativeBase):
    """Declarative base for every gridmap table."""


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])
