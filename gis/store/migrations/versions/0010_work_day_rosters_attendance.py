"""work-day rosters, cadres' attendance and cases raised at a session (issue 12.1)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:30:00

- `work_day` gains `kind`: a work day (社区/楼栋工作日) or a reception (接待日), whose cases have source
  `reception_day`.
- `work_day_assignee` gains `title` (职务, e.g. 区人大代表) and `rotation_group`: NULL = at every session;
  0 … n-1 = one group of a rotation, the session's index among the schedule's dates picking the group
  (gis/rosters.py). Its roles add `party_rep` (党代表) and `congress_rep` (人大代表).
- `work_day_attendance`: who came to one session (work day + date), per assignee, recorded by a manager.
- `service_case` and `visit` gain `work_day_id` and `session_date`: the session (occurrence) a problem was
  raised at, both or neither. No foreign key: a case is routed to the district of its position, which may
  differ from the work day's; gis/store/rosters.py checks the tag when the case is made. A visit made
  before this migration with a work day takes its local day as its session.

The new table is distributed by district_code on a Citus cluster (gis/store/distribution.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('cadre', 'worker')"
NEW_ROLES = "role IN ('cadre', 'worker', 'party_rep', 'congress_rep')"


def upgrade() -> None:
    op.add_column("work_day", sa.Column("kind", sa.String(length=10), server_default=sa.text("'work_day'"),
                                        nullable=False))
    op.create_check_constraint("ck_work_day_kind", "work_day", "kind IN ('work_day', 'reception')")

    op.add_column("work_day_assignee", sa.Column("title", sa.String(length=100), nullable=True))
    op.add_column("work_day_assignee", sa.Column("rotation_group", sa.SmallInteger(), nullable=True))
    op.drop_constraint("ck_assignee_role", "work_day_assignee", type_="check")
    op.alter_column("work_day_assignee", "role", type_=sa.String(length=20))
    op.create_check_constraint("ck_assignee_role", "work_day_assignee", NEW_ROLES)
    op.create_check_constraint("ck_assignee_rotation", "work_day_assignee",
                               "rotation_group IS NULL OR rotation_group BETWEEN 0 AND 51")

    op.create_table(
        "work_day_attendance",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("work_day_id", sa.BigInteger(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("assignee_id", sa.BigInteger(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("id", "district_code", name="work_day_attendance_pkey"),
        sa.ForeignKeyConstraint(["work_day_id", "district_code"], ["work_day.id", "work_day.district_code"],
                                name="fk_attendance_work_day", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assignee_id", "district_code"],
                                ["work_day_assignee.id", "work_day_assignee.district_code"],
                                name="fk_attendance_assignee", ondelete="CASCADE"),
    )
    op.create_index("uq_work_day_attendance", "work_day_attendance",
                    ["work_day_id", "session_date", "assignee_id", "district_code"], unique=True)
    op.create_index("ix_work_day_attendance_session_date", "work_day_attendance", ["session_date"])

    op.add_column("service_case", sa.Column("work_day_id", sa.BigInteger(), nullable=True))  # visit has it (0008)
    for table in ("service_case", "visit"):
        op.add_column(table, sa.Column("session_date", sa.Date(), nullable=True))
        if table == "visit":  # visits made before: their session is taken to be their local day
            op.execute("UPDATE visit SET session_date = (visited_at AT TIME ZONE 'Asia/Shanghai')::date "
                       "WHERE work_day_id IS NOT NULL")
        op.create_check_constraint(f"ck_{table}_session", table, "(work_day_id IS NULL) = (session_date IS NULL)")
    op.create_index("ix_case_work_day_session", "service_case", ["work_day_id", "session_date"])


def downgrade() -> None:
    op.drop_index("ix_case_work_day_session", table_name="service_case")
    for table in ("service_case", "visit"):
        op.drop_constraint(f"ck_{table}_session", table, type_="check")
        op.drop_column(table, "session_date")
    op.drop_column("service_case", "work_day_id")
    op.drop_table("work_day_attendance")
    op.drop_constraint("ck_assignee_rotation", "work_day_assignee", type_="check")
    op.drop_constraint("ck_assignee_role", "work_day_assignee", type_="check")
    op.execute("DELETE FROM work_day_assignee WHERE role NOT IN ('cadre', 'worker')")
    op.alter_column("work_day_assignee", "role", type_=sa.String(length=10))
    op.create_check_constraint("ck_assignee_role", "work_day_assignee", OLD_ROLES)
    op.drop_column("work_day_assignee", "rotation_group")
    op.drop_column("work_day_assignee", "title")
    op.drop_constraint("ck_work_day_kind", "work_day", type_="check")
    op.drop_column("work_day", "kind")
