-- Pairs of current grids whose interiors overlap (DE-9IM '2********': a two-dimensional intersection),
-- with the shared land and its area. Slivers are dropped as noise: less than :tolerance m², or thinner
-- on average (2 × area / perimeter) than :min_width m. The overlap is put in the community that holds a
-- point of it (else the first grid's community).
-- Filled in by gis/store/coverage.py (str.format): {current_x}, {current_y} are the current-grid rule of
-- gis/store/vocabulary.py (on :on); {start_filter} picks the grids x to start
-- from — every grid once per pair (least(x.code, y.code) = x.code), or the grids of one community.
-- The self-join reads the grid table on both sides so the GiST index on geom finds the candidates; the
-- pair order is written with least() so that the planner does not scan the code index for every grid.
WITH pairs AS (
    SELECT DISTINCT ON (least(x.code, y.code), greatest(x.code, y.code))
           least(x.code, y.code) AS code_a, greatest(x.code, y.code) AS code_b,
           CASE WHEN x.code < y.code THEN x.community_id ELSE y.community_id END AS community_a,
           CASE WHEN x.code < y.code THEN y.community_id ELSE x.community_id END AS community_b,
           ST_CollectionExtract(ST_Intersection(x.geom, y.geom), 3) AS geom
    FROM grid AS x
    JOIN grid AS y ON y.geom && x.geom
    WHERE {current_x} AND {current_y} AND x.id <> y.id AND {start_filter}
      AND ST_Relate(x.geom, y.geom, '2********')
),
measured AS (
    SELECT p.code_a, p.code_b, ma.code AS community_a, mb.code AS community_b,
           p.geom, ST_Area(p.geom::geography) AS area_m2, ST_Perimeter(p.geom::geography) AS perimeter_m
    FROM pairs AS p
    JOIN community AS ma ON ma.id = p.community_a
    JOIN community AS mb ON mb.id = p.community_b
)
SELECT coalesce((SELECT m.code FROM community AS m
                 WHERE ST_Covers(m.geom, ST_PointOnSurface(p.geom)) ORDER BY m.code LIMIT 1),
                p.community_a) AS community_code,
       p.community_a, p.community_b, p.code_a, p.code_b, p.area_m2,
       ST_AsGeoJSON(p.geom, 7) AS geojson
FROM measured AS p
WHERE p.area_m2 >= :tolerance AND 2 * p.area_m2 >= :min_width * p.perimeter_m
ORDER BY p.code_a, p.code_b
