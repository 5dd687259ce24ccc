"""people's accounts: passwords, sessions, lockout, community managers, the audit log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 20:40:00

- `app_user` gains a password (argon2 hash), the community a community manager answers for, and the
  failed-sign-in counter and lock that throttle guessing; an account may now have a password, an API key
  or both, so `api_key_hash` becomes nullable.
- `user_role` gains `community_manager`.
- `user_session`: server-side sessions (the cookie holds a random id; the table its SHA-256), so signing
  out, disabling a user or changing a password ends them. Each carries its CSRF token.
- `audit_log`: every write and every read of personal data: who, what, when, from where.

Both new tables are coordinator-local on a Citus cluster (gis/store/distribution.py `LOCAL_TABLES`).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TYPE user_role ADD VALUE IF NOT EXISTS 'community_manager'")
    op.alter_column("app_user", "api_key_hash", nullable=True)
    op.add_column("app_user", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column("app_user", sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("app_user", sa.Column("community_code", sa.String(length=12), nullable=True))
    op.add_column("app_user", sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("app_user", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "user_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name="fk_session_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash", name="user_session_pkey"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("detail", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.PrimaryKeyConstraint("id", name="audit_log_pkey"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_username", "audit_log", ["username", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("user_session")
    for column in ("locked_until", "failed_sign_ins", "community_code", "password_changed_at", "password_hash"):
        op.drop_column("app_user", column)
    op.execute("DELETE FROM app_user WHERE api_key_hash IS NULL")
    op.alter_column("app_user", "api_key_hash", nullable=False)
    # PostgreSQL cannot drop an enum value; 'community_manager' stays in user_role.
