"""How the schema maps onto a distributed PostgreSQL (Citus): the one list of distributed and reference
tables, the rules each must keep, the district of a point, and how a row changes district.

**Distributed by `district_code`**, all in one co-location group (`DISTRIBUTED_TABLES`, in the order they
can be distributed: a referenced table before the tables that refer to it). Citus can only enforce a
constraint inside one shard, so for each of these tables:

* `district_code` is NOT NULL (Citus refuses a row without a distribution value);
* the primary key and every unique constraint or unique index include `district_code`;
* a foreign key to another distributed table includes `district_code` on both sides, at the same
  position, with no ON DELETE SET NULL/SET DEFAULT and no ON UPDATE action (Citus refuses them when the
  key includes the distribution column);
* a foreign key to a reference table is free.

**Reference tables** (`REFERENCE_TABLES`), a full copy on every node: the places above the grid (district,
street, community: small, and read by every routing and roll-up), people (referenced by app users and by
team memberships and visits in every district), app users (looked up by API key, city-wide), case
categories and the work calendar. A reference table may only refer to reference tables.

**Coordinator-local** (`LOCAL_TABLES`): `layer_change`, the change log of the layer version (migration
0003, not in the models), written by statement triggers; `user_session` and `audit_log` (migration 0007),
read and written by the coordinator only and never joined with a distributed table; see docs/scaling.md.
`measure_change` (migration 0015, not in the models), the units each change of cases or visits touched,
written by statement triggers like `layer_change` and read by gis/store/incremental.py.

**Which district a row is in** (the rule the writers follow): a grid, its team, branch and memberships,
the district of the grid's community (the grid code's first six digits; CHECK constraints hold codes and
district together); a building or a case, the district of the grid that answers for it; outside every
grid, the district of the community covering it; outside every community too, the district whose
boundary is nearest (`DISTRICT_OF_POINT_SQL`), and only with no district loaded at all the sentinel
`UNPLACED_DISTRICT`. Such a case is still unrouted (`grid_code` NULL) and waits in the unrouted queue,
now the queue of that district. Events, photos and visits take the district of their case or building.

**A row that changes district** (a case routed by hand or reassigned to a grid of another district, a
building that a redraw or re-import puts in another district) is moved, not updated: Citus refuses to
update a distribution column. `move_to_district` copies the row and the rows that hang on it under the
new district, keeping their ids, then deletes the old ones, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ForeignKeyConstraint, MetaData, Table, UniqueConstraint, text
from sqlalchemy.orm import Session

DISTRIBUTION_COLUMN = "district_code"
COLOCATE_WITH = "grid"

DISTRIBUTED_TABLES: tuple[str, ...] = (
    "grid", "building", "visit", "party_org", "service_team", "team_membership",
    "service_case", "case_event", "case_photo", "work_day", "work_day_assignee", "redraw_plan", "plan_grid",
    "work_day_attendance",
    "focus_household",
    "liaison", "liaison_area",
    "long_problem", "long_problem_case",
    "party_membership", "branch_grade", "branch_pairing", "commitment", "evaluation",
)
REFERENCE_TABLES: tuple[str, ...] = (
    "district", "street", "community", "person", "app_user", "case_category", "calendar_day",
)
LOCAL_TABLES: tuple[str, ...] = ("layer_change", "user_session", "audit_log", "measure_change")

# The district of a point outside every community when no district is loaded at all (not a real
# division code: GB/T 2260 has no province 00).
UNPLACED_DISTRICT = "000000"

# The district of a WGS84 point (`:lon`, `:lat`) that no grid covers: the community covering it (smallest
# code), else the district with the nearest boundary (geodesic distance; ties: smallest code), else
# UNPLACED_DISTRICT.
DISTRICT_OF_POINT_SQL = f"""
SELECT COALESCE(
    (SELECT m.district_code FROM community AS m
     WHERE ST_Covers(m.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY m.code LIMIT 1),
    (SELECT d.code FROM district AS d
     ORDER BY ST_Distance(d.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
              NULLS LAST, d.code LIMIT 1),
    '{UNPLACED_DISTRICT}')
"""


def nearest_district_sql(point: str) -> str:
    """SQL for the district whose boundary is nearest to the point expression `point` (or
    UNPLACED_DISTRICT), for set-based writers that have already tried grids and communities."""
    return (
        f"COALESCE((SELECT d.code FROM district AS d ORDER BY ST_Distance(d.geom::geography, "
        f"({point})::geography) NULLS LAST, d.code LIMIT 1), '{UNPLACED_DISTRICT}')"
    )


def district_of_point(session: Session, lon: float, lat: float) -> str:
    """The district a point outside every grid belongs to (see the module docstring)."""
    return session.execute(text(DISTRICT_OF_POINT_SQL), {"lon": lon, "lat": lat}).scalar_one()


# -- the rules, checked on a MetaData (the models', or one reflected from a database) -------------


def _names(columns: Sequence[Any]) -> list[str]:
    return [c.name if hasattr(c, "name") else str(c) for c in columns]


def _unique_keys(table: Table) -> list[tuple[str, list[str]]]:
    """(what, column names) of the primary key, every unique constraint and every unique index."""
    keys = [(f"primary key of {table.name}", _names(table.primary_key.columns))]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            keys.append((f"unique constraint {constraint.name or '?'} on {table.name}", _names(constraint.columns)))
    for index in table.indexes:
        if index.unique:
            columns = _names(index.columns) + [str(e) for e in index.expressions if not hasattr(e, "name")]
            keys.append((f"unique index {index.name} on {table.name}", columns))
    return keys


def distribution_problems(
    metadata: MetaData,
    *,
    distributed: Sequence[str] = DISTRIBUTED_TABLES,
    reference: Sequence[str] = REFERENCE_TABLES,
    local: Sequence[str] = LOCAL_TABLES,
    column: str = DISTRIBUTION_COLUMN,
    every_table_classified: bool = True,
) -> list[str]:
    """Every way `metadata` breaks the rules of the module docstring (empty: it can be distributed)."""
    problems: list[str] = []
    tables = metadata.tables
    both = set(distributed) & set(reference)
    problems += [f"{name} is declared both distributed and reference" for name in sorted(both)]
    problems += [f"{name} is declared but not in the metadata" for name in (*distributed, *reference)
                 if name not in tables]
    if every_table_classified:
        problems += [f"{name} is neither distributed, reference nor local" for name in sorted(tables)
                     if name not in distributed and name not in reference and name not in local]
    for name in distributed:
        table = tables.get(name)
        if table is None:
            continue
        if column not in table.c:
            problems.append(f"{name} has no {column} column")
            continue
        if table.c[column].nullable:
            problems.append(f"{name}.{column} is nullable")
        for what, columns in _unique_keys(table):
            if column not in columns:
                problems.append(f"{what} ({', '.join(columns)}) does not include {column}")
        for fk in table.foreign_key_constraints:
            problems += _fk_problems(fk, distributed, reference, column)
    for name in reference:
        table = tables.get(name)
        if table is None:
            continue
        for fk in table.foreign_key_constraints:
            target = fk.referred_table.name
            if target not in reference:
                problems.append(f"reference table {name} refers to {target}, which is not a reference table")
    return problems


def _fk_problems(fk: ForeignKeyConstraint, distributed: Sequence[str], reference: Sequence[str],
                 column: str) -> list[str]:
    source, target = fk.parent.name, fk.referred_table.name
    label = f"foreign key {fk.name or '?'} {source}({', '.join(fk.column_keys)}) → {target}"
    if target in reference:
        return []
    if target not in distributed:
        return [f"{label}: {target} is neither distributed nor reference"]
    pairs = [(element.parent.name, element.column.name) for element in fk.elements]
    problems = []
    if (column, column) not in pairs:
        problems.append(f"{label} does not pair {source}.{column} with {target}.{column}")
    if (fk.ondelete or "").upper() in ("SET NULL", "SET DEFAULT"):
        problems.append(f"{label}: ON DELETE {fk.ondelete.upper()} with the distribution column in the key")
    if (fk.onupdate or "NO ACTION").upper() not in ("NO ACTION", "RESTRICT"):
        problems.append(f"{label}: ON UPDATE {fk.onupdate.upper()} with the distribution column in the key")
    return problems


def citus_statements() -> list[str]:
    """The SQL that distributes a migrated gridmap database on a Citus coordinator, in order (reference
    tables first: a distributed table's foreign keys to them must point at reference tables already)."""
    statements = [f"SELECT create_reference_table('{name}');" for name in REFERENCE_TABLES]
    for name in DISTRIBUTED_TABLES:
        colocate = "" if name == COLOCATE_WITH else f", colocate_with => '{COLOCATE_WITH}'"
        statements.append(f"SELECT create_distributed_table('{name}', '{DISTRIBUTION_COLUMN}'{colocate});")
    return statements


# -- moving rows to another district --------------------------------------------------------------


def _table(name: str) -> Table:
    from gis.store.models import Base

    return Base.metadata.tables[name]


def _reference_to(child: Table, parent: str) -> str:
    """The column of `child` that, with district_code, refers to `parent`'s id."""
    for fk in child.foreign_key_constraints:
        if fk.referred_table.name == parent:
            (local,) = [k for k in fk.column_keys if k != DISTRIBUTION_COLUMN]
            return local
    raise ValueError(f"{child.name} has no foreign key to {parent}")


def move_to_district(
    session: Session, table: str, moves_sql: str, params: Mapping[str, Any] | None = None, *,
    children: Sequence[str] = (),
) -> int:
    """Move rows of `table` to another district: `moves_sql` selects (id, new_district); rows already in
    their new district (or with a NULL one) are left alone. Each moved row is copied under the new district
    with its id kept and its references to other distributed tables (a case's grid, team and branch, a
    building's grid) set NULL for the caller to set anew; then the rows of `children` that refer to it are
    copied likewise; then the old rows are deleted. Returns how many rows of `table` moved."""
    parent = _table(table)
    stage = f"move_{table}_stage"
    session.execute(text(f"DROP TABLE IF EXISTS {stage}"))
    moved = session.execute(text(
        f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT t.id, t.{DISTRIBUTION_COLUMN} AS old_district, "
        f"m.new_district FROM ({moves_sql}) AS m (id, new_district) JOIN {table} AS t ON t.id = m.id "
        f"WHERE m.new_district IS NOT NULL AND m.new_district <> t.{DISTRIBUTION_COLUMN}"
    ), dict(params or {})).rowcount
    if not moved:
        return 0
    cleared = {k for fk in parent.foreign_key_constraints if fk.referred_table.name in DISTRIBUTED_TABLES
               for k in fk.column_keys if k != DISTRIBUTION_COLUMN}
    _copy(session, parent, stage, "id", cleared)
    links = {name: _reference_to(_table(name), table) for name in children}
    for name, link in links.items():
        _copy(session, _table(name), stage, link, set())
    for name, link in links.items():
        session.execute(text(
            f"DELETE FROM {name} AS c USING {stage} AS m "
            f"WHERE c.{link} = m.id AND c.{DISTRIBUTION_COLUMN} = m.old_district"))
    session.execute(text(
        f"DELETE FROM {table} AS t USING {stage} AS m WHERE t.id = m.id AND t.{DISTRIBUTION_COLUMN} = m.old_district"))
    return moved


def _copy(session: Session, table: Table, stage: str, link: str, cleared: set[str]) -> None:
    columns = [c.name for c in table.columns]
    values = ["m.new_district" if c == DISTRIBUTION_COLUMN else "NULL" if c in cleared else f"t.{c}"
              for c in columns]
    session.execute(text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {table.name} AS t "
        f"JOIN {stage} AS m ON t.{link} = m.id AND t.{DISTRIBUTION_COLUMN} = m.old_district"))
