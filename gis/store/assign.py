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
                "SELECT id, code, district_code, street_code, ST_AsBinary(geom) FROM grid "
                "WHERE valid_to IS NULL ORDER BY code"
            )
        ).all()
        return cls(
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            codes=[r[1] for r in rows],
            district_codes=[r[2] for r in rows],
            street_codes=[r[3] for r in rows],
            polygons=shapely.from_wkb([bytes(r[4]) for r in rows]) if rows else np.array([], dtype=object),
        )

    def assign(self, points: np.ndarray) -> pd.DataFrame:
        """grid_id, district_code, street_code per point (None where no grid covers it)."""
        index = assign_points(points, self.polygons, self.codes)
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
    rows = session.execute(text("SELECT id, ST_AsBinary(geom) FROM building ORDER BY id")).all()
    if not rows:
        return {"buildings": 0, "changed": 0, "outside": 0}
    points = shapely.from_wkb([bytes(r[1]) for r in rows])
    assigned = CurrentGrids.load(session).assign(points)
    assigned.insert(0, "id", np.array([r[0] for r in rows], dtype=np.int64))
    copy_frame(session, "assign_stage", "id bigint, grid_id integer, district_code text, street_code text", assigned)
    changed = session.execute(
        text(
            "UPDATE building AS b SET grid_id = s.grid_id, "
            "district_code = COALESCE(s.district_code, b.district_code), "
            "street_code = COALESCE(s.street_code, b.street_code) "
            "FROM assign_stage AS s WHERE b.id = s.id AND b.grid_id IS DISTINCT FROM s.grid_id"
        )
    ).rowcount
    fill_keys_outside_grids(session)
    outside = int(assigned["grid_id"].isna().sum())
    return {"buildings": len(rows), "changed": changed, "outside": outside}


def fill_keys_outside_grids(session: Session) -> None:
    """Buildings outside every grid still carry their district/street key, from the community around them."""
    session.execute(
        text(
            "UPDATE building AS b SET district_code = c.district_code, street_code = c.street_code "
            "FROM community AS c WHERE b.grid_id IS NULL AND b.street_code IS NULL "
            "AND ST_Covers(c.geom, b.geom)"
        )
    )
