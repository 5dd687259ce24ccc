"""Keep every building's grid current: assignment in bulk, by the rule in gis/assignment.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.assignment import UNASSIGNED, assign_points
from gis.store.bulk import copy_frame
from gis.store.distribution import move_to_district
from gis.store.vocabulary import current_day, current_sql


@dataclass(frozen=True)
class CurrentGrids:
    """The current grid polygons, loaded once for a batch of assignments."""

    ids: np.ndarray
    codes: list[str]
    district_codes: list[str]
    street_codes: list[str]
    polygons: np.ndarray

    @classmethod
    def load(cls, session: Session) -> CurrentGrids:
        rows = session.execute(
            text(
                "SELECT id, code, district_code, street_code, ST_AsBinary(geom) AS wkb FROM grid AS g "
                f"WHERE {current_sql('g')} ORDER BY code"
            ), {"on": current_day()}
        ).mappings().all()
        return cls(
            ids=np.array([r["id"] for r in rows], dtype=np.int64),
            codes=[r["code"] for r in rows],
            district_codes=[r["district_code"] for r in rows],
            street_codes=[r["street_code"] for r in rows],
            polygons=shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows else np.array([], dtype=object),
        )

    def index_of(self, points: np.ndarray) -> np.ndarray:
        """Per point, the position of its grid in these lists, or UNASSIGNED (the rule: gis/assignment.py)."""
        return assign_points(points, self.polygons, self.codes)

    def assign(self, points: np.ndarray) -> pd.DataFrame:
        """grid_id, district_code, street_code per point (None where no grid covers it)."""
        index = self.index_of(points)
        hit = index != UNASSIGNED
        grid_id = pd.array([None] * len(points), dtype="Int64")
        district = np.full(len(points), None, dtype=object)
        street = np.full(len(points), None, dtype=object)
        if hit.any():
            grid_id[hit] = self.ids[index[hit]]
            district[hit] = np.asarray(self.district_codes, dtype=object)[index[hit]]
            street[hit] = np.asarray(self.street_codes, dtype=object)[index[hit]]
        return pd.DataFrame({"grid_id": grid_id, "district_code": district, "street_code": street})


def reassign_buildings(session: Session) -> dict[str, int]:
    """Re-run assignment for every building; write only the rows whose grid changed."""
    rows = session.execute(text("SELECT id, ST_AsBinary(geom) AS wkb FROM building ORDER BY id")).mappings().all()
    if not rows:
        return {"buildings": 0, "changed": 0, "outside": 0}
    points = shapely.from_wkb([bytes(r["wkb"]) for r in rows])
    assigned = CurrentGrids.load(session).assign(points)
    assigned.insert(0, "id", np.array([r["id"] for r in rows], dtype=np.int64))
    copy_frame(session, "assign_stage", "id bigint, grid_id integer, district_code text, street_code text", assigned)
    # A building now in a grid of another district moves there first (its grid reference cleared, set below);
    # one that left every grid keeps its district and street.
    move_buildings(session, "SELECT id, district_code FROM assign_stage")
    changed = session.execute(
        text(
            "UPDATE building AS b SET grid_id = s.grid_id, street_code = COALESCE(s.street_code, b.street_code) "
            "FROM assign_stage AS s WHERE b.id = s.id AND b.grid_id IS DISTINCT FROM s.grid_id"
        )
    ).rowcount
    fill_keys_outside_grids(session)
    outside = int(assigned["grid_id"].isna().sum())
    return {"buildings": len(rows), "changed": changed, "outside": outside}


_AROUND = "(SELECT c.{column} FROM community AS c WHERE ST_Covers(c.geom, b.geom) ORDER BY c.code LIMIT 1)"


def fill_keys_outside_grids(session: Session) -> None:
    """Buildings outside every grid still carry their district/street key, from the community around them
    (smallest code); those outside every community keep the nearest district and no street."""
    unkeyed = "FROM building AS b WHERE b.grid_id IS NULL AND b.street_code IS NULL"
    move_buildings(session, f"SELECT b.id, {_AROUND.format(column='district_code')} {unkeyed}")
    session.execute(text(
        f"UPDATE building AS b SET street_code = {_AROUND.format(column='street_code')} "
        "WHERE b.grid_id IS NULL AND b.street_code IS NULL "
        "AND EXISTS (SELECT 1 FROM community AS c WHERE ST_Covers(c.geom, b.geom))"
    ))


def move_buildings(session: Session, moves_sql: str) -> int:
    """Move the buildings that `moves_sql` (id, new district) puts in another district, with their visits;
    their building party groups follow them. The district column is never updated in place (Citus refuses
    it): see gis/store/distribution.py."""
    moved = move_to_district(session, "building", moves_sql, children=("visit", "focus_household"))
    if moved:
        move_to_district(session, "party_org",
                         "SELECT p.id, b.district_code FROM party_org AS p JOIN building AS b ON b.code = p.place_code "
                         "WHERE p.level = 'building_group'")
    return moved
