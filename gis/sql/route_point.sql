-- The grid that answers for one point: see gis/assignment.py for the rule (covers; smallest code wins),
-- among the grids current on :on ({current_g}: the rule of gis/store/vocabulary.py, filled in by
-- gis/store/cases.py).
SELECT g.id, g.code
FROM grid AS g
WHERE {current_g}
  AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY g.code
LIMIT 1
