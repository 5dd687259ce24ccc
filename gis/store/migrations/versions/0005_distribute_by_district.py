"""distributable by district: district_code NOT NULL and in every key of the tables keyed by place

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:00:00

For a distributed PostgreSQL (Citus) that shards by `district_code` (gis/store/distribution.py lists the
tables; docs/scaling.md maps them):

1. Every row gets a district. Unrouted cases and buildings outside every community had none: they take
   the district of the community covering them, else of the district whose boundary is nearest, else
   '000000' (no district loaded at all). A routed case takes its grid's district (it has it already);
   events and photos take their case's, visits their building's (events and photos written before a
   reassignment to another district had kept the old one).
2. `district_code` becomes NOT NULL on service_case, case_event, case_photo, building and visit.
3. The primary key of grid, building, visit, party_org, service_team, team_membership, service_case,
   case_event and case_photo becomes (id, district_code); the unique keys take district_code as their
   last column; the foreign keys between those tables take it on both sides. building → grid loses
   ON DELETE SET NULL (grids are never deleted; Citus refuses SET NULL on a key with the distribution
   column).
4. CHECK constraints tie codes to districts (a grid code, a team's grid code, the place code of a street,
   community or grid party organisation start with the district code), so a unique key on
   (code, district_code) is exactly as strict as the unique key on the code was.

The statements are frozen here (not imported from gis.store.distribution) so that later edits there do not
change what this revision did.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SENTINEL = "000000"

# The tables distributed by district_code, and those whose district_code was nullable.
DISTRIBUTED = ("grid", "building", "visit", "party_org", "service_team", "team_membership", "service_case",
               "case_event", "case_photo")
NULLABLE_BEFORE = ("service_case", "case_event", "case_photo", "building", "visit")

# name: (table, columns, referred table, referred columns, ON DELETE) — after and before.
FOREIGN_KEYS = {
    "fk_building_grid": ("building", "grid_id", "grid", "id", None),
    "fk_visit_building": ("visit", "building_id", "building", "id", "CASCADE"),
    "fk_membership_team": ("team_membership", "team_id", "service_team", "id", "CASCADE"),
    "fk_case_grid": ("service_case", "grid_id", "grid", "id", None),
    "fk_case_team": ("service_case", "team_id", "service_team", "id", None),
    "fk_case_branch": ("service_case", "branch_id", "party_org", "id", None),
    "fk_event_case": ("case_event", "case_id", "service_case", "id", "CASCADE"),
    "fk_photo_case": ("case_photo", "case_id", "service_case", "id", "CASCADE"),
}
ON_DELETE_BEFORE = {"fk_building_grid": "SET NULL"}

# name: (table, columns before, WHERE) — unique indexes that take district_code as their last column.
UNIQUE_INDEXES = {
    "uq_grid_current_code": ("grid", "code", "valid_to IS NULL"),
    "uq_party_org_current": ("party_org", "level, place_code", "valid_to IS NULL"),
    "uq_team_current_grid": ("service_team", "grid_code", "valid_to IS NULL"),
    "uq_membership": ("team_membership", "team_id, person_id, role, from_date", None),
    "uq_case_idempotency": ("service_case", "idempotency_key", None),
}

CHECKS = {
    "ck_grid_code_district": ("grid", "left(code, 6) = district_code"),
    "ck_team_grid_district": ("service_team", "left(grid_code, 6) = district_code"),
    "ck_party_org_place_district": ("party_org", "level = 'building_group' OR left(place_code, 6) = district_code"),
}


def _district_of(point: str) -> str:
    return (
        f"COALESCE((SELECT m.district_code FROM community AS m WHERE ST_Covers(m.geom, {point}) "
        f"ORDER BY m.code LIMIT 1), (SELECT d.code FROM district AS d ORDER BY "
        f"ST_Distance(d.geom::geography, ({point})::geography) NULLS LAST, d.code LIMIT 1), '{SENTINEL}')"
    )


def _drop_constraints(table: str, kind: str, referring_to: str | None = None) -> None:
    """Drop the constraints of one kind ('p' primary key, 'f' foreign key, 'u' unique) of a table, by
    whatever name they carry (restored or hand-made databases may differ from PostgreSQL's defaults)."""
    where = f" AND confrelid = '{referring_to}'::regclass" if referring_to else ""
    op.execute(f"""
        DO $$ DECLARE c record; BEGIN
            FOR c IN SELECT conname FROM pg_constraint
                     WHERE conrelid = '{table}'::regclass AND contype = '{kind}'{where} LOOP
                EXECUTE format('ALTER TABLE {table} DROP CONSTRAINT %I', c.conname);
            END LOOP;
        END $$""")


def upgrade() -> None:
    # 1. a district for every row
    op.execute(
        "UPDATE service_case AS c SET district_code = g.district_code FROM grid AS g "
        "WHERE g.id = c.grid_id AND c.district_code IS DISTINCT FROM g.district_code")
    op.execute(f"UPDATE service_case AS c SET district_code = {_district_of('c.position')} "
               "WHERE c.district_code IS NULL")
    op.execute(f"UPDATE building AS b SET district_code = {_district_of('b.geom')} WHERE b.district_code IS NULL")
    for child, link, parent in (("case_event", "case_id", "service_case"), ("case_photo", "case_id", "service_case"),
                                ("visit", "building_id", "building")):
        op.execute(f"UPDATE {child} AS x SET district_code = p.district_code FROM {parent} AS p "
                   f"WHERE p.id = x.{link} AND x.district_code IS DISTINCT FROM p.district_code")
    # 2. NOT NULL
    for table in NULLABLE_BEFORE:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN district_code SET NOT NULL")
    # 3. keys: foreign keys between the tables first (they depend on the primary keys), then the keys
    for table, _, parent, _, _ in FOREIGN_KEYS.values():
        _drop_constraints(table, "f", parent)
    for table in DISTRIBUTED:
        _drop_constraints(table, "p")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, district_code)")
    _drop_constraints("building", "u")
    op.execute("CREATE UNIQUE INDEX uq_building_code ON building (code, district_code)")
    for name, (table, columns, where) in UNIQUE_INDEXES.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE UNIQUE INDEX {name} ON {table} ({columns}, district_code)"
                   + (f" WHERE {where}" if where else ""))
    for name, (table, column, parent, key, on_delete) in FOREIGN_KEYS.items():
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}, district_code) "
                   f"REFERENCES {parent} ({key}, district_code)" + (f" ON DELETE {on_delete}" if on_delete else ""))
    # 4. codes and districts agree
    for name, (table, condition) in CHECKS.items():
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})")


def downgrade() -> None:
    for name, (table, _) in CHECKS.items():
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    for name, (table, *_) in FOREIGN_KEYS.items():
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    for name, (table, columns, where) in UNIQUE_INDEXES.items():
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE UNIQUE INDEX {name} ON {table} ({columns})" + (f" WHERE {where}" if where else ""))
    op.execute("DROP INDEX IF EXISTS uq_building_code")
    op.execute("ALTER TABLE building ADD CONSTRAINT building_code_key UNIQUE (code)")
    for table in DISTRIBUTED:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
    for name, (table, column, parent, key, on_delete) in FOREIGN_KEYS.items():
        on_delete = ON_DELETE_BEFORE.get(name, on_delete)
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey FOREIGN KEY ({column}) "
                   f"REFERENCES {parent} ({key})" + (f" ON DELETE {on_delete}" if on_delete else ""))
    # The districts given to unrouted cases and outside buildings stay: a NULL would lose nothing more.
    for table in NULLABLE_BEFORE:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN district_code DROP NOT NULL")
