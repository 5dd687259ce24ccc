"""Models of accounts: users (people with a password, machines with an API key), their server-side
sessions, and the audit log. Secrets are stored only as hashes (argon2 for passwords, SHA-256 for keys
and session ids)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis.store.models.base import Base, _enum


class UserRole(enum.StrEnum):
    """Who may read and change what (see gis/permissions.py)."""

    admin = "admin"  # district grid office: everything
    command_centre = "command_centre"  # 指挥中心: sorts, dispatches, verifies, supervises; reads all
    planner = "planner"  # 规划/网格办: reads places and plans, redraws boundaries; no case actions
    street_officer = "street_officer"  # street manager: reads and acts on cases of one street
    community_manager = "community_manager"  # community manager: the same, for one community
    grid_worker = "grid_worker"  # 网格员: the grids whose team they serve in
    open311_client = "open311_client"  # intake client: a hotline or app posting residents' requests


class AppUser(Base):
    """A person (username and password) or a system (API key) that calls gridmap."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "user_role"))
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), nullable=True)  # a worker's grid given by hand
    community_code: Mapped[str | None] = mapped_column(String(12), nullable=True)  # community managers
    street_code: Mapped[str | None] = mapped_column(String(9), nullable=True)  # street managers
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UserSession(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored here."""

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", name="fk_session_user", ondelete="CASCADE"),
                                         index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(10))  # "password" or "key" (a kiosk's one-time key sign-in)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)


class AuditLog(Base):
    """Every write and every read of personal data: who, what, when, from where. Readable by admins only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_username", "username", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    username: Mapped[str | None] = mapped_column(String(80), nullable=True)
    role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # "write", "personal_read", "sign_in", "sign_in_failed", ...
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
