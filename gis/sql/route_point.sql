-- The grid that answers for one point: see gis/assignment.py for the rule (covers; smallest code wins).
SELECT g.id, g.code
FROM grid AS g
WHERE g.valid_to IS NULL
  AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY g.code
LIMIT 1
