"""Write checked import frames into the database: upsert by code, one transaction per file.

Each loader takes a frame already checked by `gis.importing.check_file` (EPSG:4326, clean values)
and returns counts of what it did. Problems that only the database can see (an unknown community or
grid) are raised as ImportRejected before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.geometry import Problem
from gis.importing import CheckedFile, ImportRejected
from gis.periods import district_today
from gis.store.assign import CurrentGrids, fill_keys_outside_grids, move_buildings, reassign_buildings
from gis.store.bulk import copy_columns, copy_frame, copy_into, ewkb_hex, points_ewkb_hex, without_indexes
from gis.store.distribution import nearest_district_sql

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# From this many rows on, a building import writes with the table's indexes and foreign key down and makes
# them after (gis/store/bulk.py `without_indexes`; the table is locked for the import's transaction either
# way), and into an empty table copies the rows straight in.
BULK_REINDEX_ROWS = 100_000
# Into an empty building table, from this many rows on, the rows are copied straight in and the (empty)
# table's indexes and foreign key are made after them.
FIRST_COPY_ROWS = 1_000


def load(session: Session, checked: CheckedFile, *, progress: Progress = log.info) -> dict[str, int]:
    """Dispatch a checked file to the loader of its kind."""
    loaders = {
        "communities": load_communities,
        "grids": load_grids,
        "buildings": load_buildings,
        "teams": load_teams,
    }
    return loaders[checked.kind](session, checked.frame, progress=progress)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    value = str(value).strip()
    return value or None


def _texts(series: pd.Series) -> pd.Series:
    """Stripped text per row, None where missing or blank (vectorised `_text`)."""
    stripped = series.astype(object).where(series.notna(), None).astype("string").str.strip()
    return stripped.where(stripped != "", None).astype(object).where(lambda s: s.notna(), None)


# -- communities (and the streets, district and party organisations above them) -----------------


def load_communities(session: Session, frame: pd.DataFrame, *, progress: Progress = log.info) -> dict[str, int]:
    stage = pd.DataFrame(
        {
            "district_code": frame["district_code"].astype(str),
            "district_name": frame["district_name"].astype(str),
            "street_code": frame["street_code"].astype(str),
            "street_name": frame["street_name"].astype(str),
            "code": frame["code"].astype(str),
            "name": frame["name"].astype(str),
            "party_secretary": frame["party_secretary"].map(_text),
            "party_members": pd.to_numeric(frame["party_members"], errors="coerce").fillna(0).astype(int),
            "geom": ewkb_hex(frame.geometry.values),
        }
    )
    copy_frame(
        session, "community_stage",
        "district_code text, district_name text, street_code text, street_name text, code text, name text, "
        "party_secretary text, party_members integer, geom geometry",
        stage,
    )
    progress(f"communities: {len(stage)} staged")
    session.execute(text(
        "INSERT INTO district (code, name) SELECT DISTINCT ON (district_code) district_code, district_name "
        "FROM community_stage AS s WHERE NOT EXISTS (SELECT 1 FROM district AS d WHERE d.code = s.district_code "
        "AND d.name = s.district_name) ORDER BY district_code ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name"
    ))
    session.execute(text(
        "INSERT INTO street (code, name, district_code) "
        "SELECT DISTINCT ON (street_code) street_code, street_name, district_code FROM community_stage AS s "
        "WHERE NOT EXISTS (SELECT 1 FROM street AS t WHERE t.code = s.street_code AND t.name = s.street_name) "
        "ORDER BY street_code ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name"
    ))
    inserted = session.execute(text(
        "INSERT INTO community (code, name, district_code, street_code, geom) "
        "SELECT code, name, district_code, street_code, ST_Multi(geom) FROM community_stage AS s "
        "WHERE NOT EXISTS (SELECT 1 FROM community AS c WHERE c.code = s.code AND c.name = s.name "
        "AND c.street_code = s.street_code AND ST_OrderingEquals(c.geom, ST_Multi(s.geom))) "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, street_code = EXCLUDED.street_code, "
        "district_code = EXCLUDED.district_code, geom = EXCLUDED.geom"
    )).rowcount
    # Streets and the district are the union of their communities.
    session.execute(text(
        "UPDATE street AS s SET geom = u.geom FROM ("
        "  SELECT street_code, ST_Multi(ST_Union(geom)) AS geom FROM community GROUP BY street_code"
        ") AS u WHERE s.code = u.street_code AND s.code IN (SELECT street_code FROM community_stage) "
        "AND (s.geom IS NULL OR NOT ST_OrderingEquals(s.geom, u.geom))"
    ))
    session.execute(text(
        "UPDATE district AS d SET geom = u.geom FROM ("
        "  SELECT district_code, ST_Multi(ST_Union(geom)) AS geom FROM street GROUP BY district_code"
        ") AS u WHERE d.code = u.district_code AND d.code IN (SELECT district_code FROM community_stage) "
        "AND (d.geom IS NULL OR NOT ST_OrderingEquals(d.geom, u.geom))"
    ))
    # The party organisations mirroring streets and communities.
    _upsert_party_orgs(session, "street_committee",
        "SELECT DISTINCT ON (street_code) street_code, street_name || '党工委', NULL, 0, district_code, "
        "street_code FROM community_stage ORDER BY street_code")
    _upsert_party_orgs(session, "community_org",
        "SELECT code, name || '党委', party_secretary, party_members, district_code, street_code "
        "FROM community_stage")
    progress(f"communities: {inserted} inserted or changed, {len(stage) - inserted} unchanged")
    return {"rows": len(stage), "changed": inserted}


def _upsert_party_orgs(session: Session, level: str, select_sql: str) -> None:
    """Upsert current party organisations of one level from a SELECT of
    (place_code, name, secretary, member_count, district_code, street_code)."""
    session.execute(text(
        "INSERT INTO party_org (level, place_code, name, secretary, member_count, district_code, street_code) "
        "SELECT CAST(:level AS org_level), q.* "
        f"FROM ({select_sql}) AS q (place_code, name, secretary, member_count, district_code, street_code) "
        "WHERE NOT EXISTS (SELECT 1 FROM party_org AS p WHERE p.level = CAST(:level AS org_level) "
        "AND p.place_code = q.place_code AND p.district_code = q.district_code AND p.valid_to IS NULL "
        "AND p.name = q.name AND p.member_count = q.member_count "
        "AND p.secretary IS NOT DISTINCT FROM COALESCE(q.secretary, p.secretary)) "
        "ON CONFLICT (level, place_code, district_code) WHERE valid_to IS NULL DO UPDATE SET name = EXCLUDED.name, "
        "secretary = COALESCE(EXCLUDED.secretary, party_org.secretary), member_count = EXCLUDED.member_count"
    ), {"level": level})


# -- grids --------------------------------------------------------------------------------------


def load_grids(session: Session, frame: pd.DataFrame, *, progress: Progress = log.info) -> dict[str, int]:
    codes = frame["code"].astype(str)
    community = frame["community_code"].map(_text).fillna(codes.str[:12])
    valid_from = frame["valid_from"].map(_text).fillna(district_today().isoformat())
    stage = pd.DataFrame(
        {"code": codes, "name": frame["name"].astype(str), "community_code": community,
         "valid_from": valid_from, "geom": ewkb_hex(frame.geometry.values)}
    )
    copy_frame(
        session, "grid_stage",
        "code text, name text, community_code text, valid_from date, geom geometry", stage,
    )
    progress(f"grids: {len(stage)} staged")
    unknown = session.execute(text(
        "SELECT s.community_code FROM grid_stage AS s LEFT JOIN community AS c ON c.code = s.community_code "
        "WHERE c.id IS NULL"
    )).scalars().all()
    if unknown:
        missing = set(unknown)
        problems = [
            Problem(i, f"unknown community {c!r}: import communities first")
            for i, c in enumerate(community) if c in missing
        ]
        raise ImportRejected("grids", "grids", problems)
    # A changed boundary closes the old version (kept as history) and opens a new one today;
    # a same-day correction of a version opened today is made in place.
    today = district_today()
    corrected = session.execute(text(
        "UPDATE grid AS g SET geom = ST_Multi(s.geom), name = s.name FROM grid_stage AS s "
        "WHERE g.code = s.code AND g.valid_to IS NULL AND g.valid_from >= :today "
        "AND NOT ST_OrderingEquals(g.geom, ST_Multi(s.geom))"
    ), {"today": today}).rowcount
    closed = session.execute(text(
        "UPDATE grid AS g SET valid_to = :today FROM grid_stage AS s "
        "WHERE g.code = s.code AND g.valid_to IS NULL AND g.valid_from < :today "
        "AND NOT ST_OrderingEquals(g.geom, ST_Multi(s.geom))"
    ), {"today": today}).rowcount
    renamed = session.execute(text(
        "UPDATE grid AS g SET name = s.name FROM grid_stage AS s "
        "WHERE g.code = s.code AND g.valid_to IS NULL AND g.name <> s.name"
    )).rowcount
    inserted = session.execute(text(
        "INSERT INTO grid (code, name, community_id, district_code, street_code, valid_from, geom) "
        "SELECT s.code, s.name, c.id, c.district_code, c.street_code, "
        "CASE WHEN EXISTS (SELECT 1 FROM grid AS old WHERE old.code = s.code) THEN :today ELSE s.valid_from END, "
        "ST_Multi(s.geom) FROM grid_stage AS s JOIN community AS c ON c.code = s.community_code "
        "WHERE NOT EXISTS (SELECT 1 FROM grid AS g WHERE g.code = s.code AND g.valid_to IS NULL)"
    ), {"today": today}).rowcount
    progress(f"grids: {inserted} new versions, {closed} closed into history, "
             f"{corrected} corrected, {renamed} renamed")
    assigned = reassign_buildings(session)
    progress(f"buildings reassigned: {assigned['changed']} changed, {assigned['outside']} outside every grid")
    return {"rows": len(stage), "inserted": inserted, "closed": closed, "corrected": corrected,
            "renamed": renamed, "buildings_changed": assigned["changed"]}


# -- buildings ----------------------------------------------------------------------------------


def load_buildings(session: Session, frame: pd.DataFrame, *, progress: Progress = log.info) -> dict[str, int]:
    points = frame.geometry.values
    progress(f"buildings: assigning {len(frame)} points to grids")
    assigned = CurrentGrids.load(session).assign(np.asarray(points, dtype=object))
    columns = {
        "code": frame["code"].astype(str).to_numpy(),
        "address": _texts(frame["address"]).fillna("").to_numpy(),
        "households": pd.to_numeric(frame["households"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "residents": pd.to_numeric(frame["residents"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "floors": pd.to_numeric(frame["floors"], errors="coerce").astype("Int64").array,
        "party_group": _texts(frame["party_group"]).to_numpy(),
        "party_group_leader": _texts(frame["party_group_leader"]).to_numpy(),
        "grid_id": assigned["grid_id"].array,
        "district_code": assigned["district_code"].to_numpy(),
        "street_code": assigned["street_code"].to_numpy(),
        "geom": points_ewkb_hex(points),
    }
    rows = len(frame)
    first = rows >= FIRST_COPY_ROWS and session.execute(
        text("SELECT NOT EXISTS (SELECT 1 FROM building)")).scalar_one()
    if first:  # nothing stored yet: every row is new, nothing moves; straight into the table
        progress(f"buildings: writing {rows} rows into an empty table, then building its indexes")
        changed = _load_first_buildings(session, columns)
        fill_keys_outside_grids(session)
        _upsert_building_groups(session)
        outside = int(assigned["grid_id"].isna().sum())
        progress(f"buildings: {changed} inserted, {outside} outside every grid")
        return {"rows": rows, "changed": changed, "outside": outside, "index_rebuilt": 1}
    progress(f"buildings: copying {rows} rows")
    copy_columns(session, "building_stage", _STAGE_COLUMNS, columns)
    _key_outside_grids(session)
    # A building whose new position puts it in another district moves there first, so the upsert below
    # finds it: one row per code.
    move_buildings(session,
                   "SELECT b.id, s.district_code FROM building_stage AS s JOIN building AS b ON b.code = s.code")
    # Only new and changed rows are written: an unchanged file locks, rewrites and reindexes nothing.
    pending = session.execute(text(
        "CREATE TEMP TABLE building_pending ON COMMIT DROP AS SELECT s.* FROM building_stage AS s "
        "LEFT JOIN building AS b ON b.code = s.code AND b.district_code = s.district_code WHERE b.id IS NULL "
        "OR (b.address, b.households, b.residents, b.floors, b.grid_id) IS DISTINCT FROM "
        "(COALESCE(s.address, ''), s.households, s.residents, s.floors, s.grid_id) "
        "OR NOT ST_OrderingEquals(b.geom, s.geom)"
    )).rowcount
    bulk = pending >= BULK_REINDEX_ROWS
    changed = 0
    if bulk:  # sorted index builds and one foreign-key check after the load beat a million row-by-row ones
        progress(f"buildings: writing {pending} rows, then rebuilding the indexes")
        with without_indexes(session, "building"):
            changed = _write_buildings_in_bulk(session)
    elif pending:
        changed = session.execute(text(
            "INSERT INTO building (code, address, households, residents, floors, grid_id, district_code, "
            "street_code, geom) SELECT code, COALESCE(address, ''), households, residents, floors, grid_id, "
            "district_code, street_code, geom FROM building_pending "
            "ON CONFLICT (code, district_code) DO UPDATE SET address = EXCLUDED.address, "
            "households = EXCLUDED.households, residents = EXCLUDED.residents, floors = EXCLUDED.floors, "
            "grid_id = EXCLUDED.grid_id, street_code = COALESCE(EXCLUDED.street_code, building.street_code), "
            "geom = EXCLUDED.geom"
        )).rowcount
    fill_keys_outside_grids(session)
    _upsert_building_groups(session)
    outside = int(assigned["grid_id"].isna().sum())
    progress(f"buildings: {changed} inserted or changed, {rows - changed} unchanged, "
             f"{outside} outside every grid")
    return {"rows": rows, "changed": changed, "outside": outside, "index_rebuilt": int(bulk)}


_STAGE_COLUMNS = ("code text, address text, households integer, residents integer, floors integer, "
                  "party_group text, party_group_leader text, grid_id integer, district_code text, "
                  "street_code text, geom geometry")
_STORED = ("code", "address", "households", "residents", "floors", "grid_id", "district_code", "street_code",
           "geom")


def _upsert_building_groups(session: Session) -> None:
    _upsert_party_orgs(session, "building_group",
        "SELECT s.code, s.party_group, s.party_group_leader, 0, b.district_code, b.street_code "
        "FROM building_stage AS s JOIN building AS b ON b.code = s.code "
        "WHERE s.party_group IS NOT NULL")


def _load_first_buildings(session: Session, columns: dict[str, Any]) -> int:
    """Into an empty table: only the rows that need SQL (outside every grid: their keys; with a party group:
    its organisation) are staged; every row is then copied straight into `building`, its indexes and
    foreign key made after (`without_indexes`)."""
    grid_id = pd.array(columns["grid_id"], dtype="Int64")
    outside = np.asarray(grid_id.isna())
    staged = outside | pd.notna(columns["party_group"])
    copy_columns(session, "building_stage", _STAGE_COLUMNS, {k: _taken(v, staged) for k, v in columns.items()})
    _key_outside_grids(session)
    if outside.any():
        keys = pd.DataFrame(session.execute(text(
            "SELECT code, district_code, street_code FROM building_stage WHERE grid_id IS NULL"
        )).all(), columns=["code", "district_code", "street_code"]).set_index("code")
        codes = columns["code"][outside]
        district, street = columns["district_code"].copy(), columns["street_code"].copy()
        district[outside] = keys["district_code"].reindex(codes).to_numpy()
        street[outside] = keys["street_code"].reindex(codes).to_numpy()
        columns = {**columns, "district_code": district, "street_code": street}
    with without_indexes(session, "building"):
        return copy_into(session, "building", {name: columns[name] for name in _STORED})


def _taken(values: Any, mask: np.ndarray) -> Any:
    """The rows of one column where `mask` holds (numpy, pandas or Arrow)."""
    return values.filter(pa.array(mask)) if isinstance(values, pa.Array) else values[mask]


def _write_buildings_in_bulk(session: Session) -> int:
    """The pending rows written while the table is locked and its indexes are down (`without_indexes`):
    changed rows updated in place, new ones inserted plainly (no unique index to arbitrate; the unique index
    made again afterwards checks the codes once, in bulk)."""
    updated = session.execute(text(
        "UPDATE building AS b SET address = COALESCE(s.address, ''), households = s.households, "
        "residents = s.residents, floors = s.floors, grid_id = s.grid_id, "
        "street_code = COALESCE(s.street_code, b.street_code), geom = s.geom FROM building_pending AS s "
        "WHERE b.code = s.code AND b.district_code = s.district_code"
    )).rowcount
    inserted = session.execute(text(
        "INSERT INTO building (code, address, households, residents, floors, grid_id, district_code, "
        "street_code, geom) SELECT code, COALESCE(address, ''), households, residents, floors, grid_id, "
        "district_code, street_code, geom FROM building_pending AS s WHERE NOT EXISTS "
        "(SELECT 1 FROM building AS b WHERE b.code = s.code AND b.district_code = s.district_code)"
    )).rowcount
    return updated + inserted


def _key_outside_grids(session: Session) -> None:
    """Every staged building gets a district (the distribution key, gis/store/distribution.py). Outside every
    grid, a building already stored at the same position keeps its district and street; any other takes the
    community around it (smallest code), else the nearest district with no street."""
    session.execute(text(
        "UPDATE building_stage AS s SET district_code = b.district_code, street_code = b.street_code "
        "FROM building AS b WHERE s.district_code IS NULL AND b.code = s.code AND ST_OrderingEquals(b.geom, s.geom)"
    ))
    session.execute(text(
        "UPDATE building_stage AS s SET (district_code, street_code) = (SELECT c.district_code, c.street_code "
        "FROM community AS c WHERE ST_Covers(c.geom, s.geom) ORDER BY c.code LIMIT 1) "
        "WHERE s.district_code IS NULL"
    ))
    # With one district it is the nearest, without measuring a distance to its (city-sized) boundary.
    session.execute(text(
        "UPDATE building_stage AS s SET district_code = CASE WHEN (SELECT count(*) FROM district) = 1 "
        f"THEN (SELECT code FROM district) ELSE {nearest_district_sql('s.geom')} END "
        "WHERE s.district_code IS NULL"
    ))


# -- teams and grid party branches --------------------------------------------------------------


def load_teams(session: Session, frame: pd.DataFrame, *, progress: Progress = log.info) -> dict[str, int]:
    stage = pd.DataFrame({
        column: frame[column].map(_text)
        for column in ("grid_code", "branch_name", "branch_secretary", "team_name", "person_name", "role",
                       "phone", "from_date", "to_date")
    })
    stage.insert(3, "branch_members",
                 pd.to_numeric(frame["branch_members"], errors="coerce").fillna(0).astype(int))
    stage["row"] = np.arange(len(stage))
    copy_frame(
        session, "team_stage",
        "grid_code text, branch_name text, branch_secretary text, branch_members integer, team_name text, "
        "person_name text, role text, phone text, from_date date, to_date date, row integer",
        stage,
    )
    unknown = session.execute(text(
        "SELECT s.row, s.grid_code FROM team_stage AS s WHERE NOT EXISTS "
        "(SELECT 1 FROM grid AS g WHERE g.code = s.grid_code AND g.valid_to IS NULL) ORDER BY s.row"
    )).all()
    if unknown:
        raise ImportRejected(
            "teams", "teams", [Problem(row, f"unknown grid {code!r}: import grids first") for row, code in unknown]
        )
    grid_keys = "JOIN grid AS g ON g.code = s.grid_code AND g.valid_to IS NULL"
    _upsert_party_orgs(session, "grid_branch",
        "SELECT DISTINCT ON (s.grid_code) s.grid_code, s.branch_name, s.branch_secretary, s.branch_members, "
        f"g.district_code, g.street_code FROM team_stage AS s {grid_keys} "
        "WHERE s.branch_name IS NOT NULL ORDER BY s.grid_code, s.row")
    teams = session.execute(text(
        "INSERT INTO service_team (grid_code, name, district_code, street_code) "
        "SELECT DISTINCT ON (s.grid_code) s.grid_code, s.team_name, g.district_code, g.street_code "
        f"FROM team_stage AS s {grid_keys} WHERE s.team_name IS NOT NULL ORDER BY s.grid_code, s.row "
        "ON CONFLICT (grid_code, district_code) WHERE valid_to IS NULL DO UPDATE SET name = EXCLUDED.name "
        "WHERE service_team.name <> EXCLUDED.name"
    )).rowcount
    session.execute(text(
        "INSERT INTO person (name, phone, district_code) "
        f"SELECT DISTINCT s.person_name, s.phone, g.district_code FROM team_stage AS s {grid_keys} "
        "WHERE s.person_name IS NOT NULL ON CONFLICT (district_code, name, phone) DO NOTHING"
    ))
    # Fresh statistics, or the planner may take a first import's new teams for a handful of rows and
    # cross every team with every person (seen: 9 s for 2,000 grids).
    session.execute(text("ANALYZE service_team, person"))
    members = session.execute(text(
        "INSERT INTO team_membership (team_id, person_id, role, from_date, to_date, district_code, street_code) "
        "SELECT t.id, p.id, CAST(s.role AS team_role), COALESCE(s.from_date, CURRENT_DATE), s.to_date, "
        "t.district_code, t.street_code FROM team_stage AS s "
        "JOIN service_team AS t ON t.grid_code = s.grid_code AND t.valid_to IS NULL "
        "JOIN person AS p ON p.name = s.person_name AND p.phone IS NOT DISTINCT FROM s.phone "
        "AND p.district_code = t.district_code "
        "WHERE s.role IS NOT NULL "
        "ON CONFLICT (team_id, person_id, role, from_date, district_code) DO UPDATE SET to_date = EXCLUDED.to_date "
        "WHERE team_membership.to_date IS DISTINCT FROM EXCLUDED.to_date"
    )).rowcount
    progress(f"teams: {teams} teams inserted or renamed, {members} memberships inserted or changed")
    return {"rows": len(stage), "teams_changed": teams, "memberships_changed": members}
