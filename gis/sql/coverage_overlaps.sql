-- Pairs of current grids whose interiors overlap (DE-9IM '2********': a two-dimensional intersection),
-- with the shared land and its area. Slivers are dropped as noise: less than :tolerance m², or thinner
-- on average (2 × area / perimeter) than :min_width m.
-- The overlap is put in the community that holds a point of it (else the first grid's community).
-- Filled in by gis/store/coverage.py (str.format): the placeholder in braces restricts the pairs.
WITH grids AS (
    SELECT g.code, m.code AS community_code, g.geom
    FROM grid AS g
    JOIN community AS m ON m.id = g.community_id
    WHERE g.valid_to IS NULL
),
pairs AS (
    SELECT a.code AS code_a, b.code AS code_b, a.community_code AS community_a, b.community_code AS community_b,
           ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS geom
    FROM grids AS a
    JOIN grids AS b ON a.code < b.code AND ST_Intersects(a.geom, b.geom)
    WHERE ST_Relate(a.geom, b.geom, '2********') AND {pair_filter}
),
measured AS (
    SELECT p.*, ST_Area(p.geom::geography) AS area_m2, ST_Perimeter(p.geom::geography) AS perimeter_m
    FROM pairs AS p
)
SELECT coalesce((SELECT m.code FROM community AS m
                 WHERE ST_Covers(m.geom, ST_PointOnSurface(p.geom)) ORDER BY m.code LIMIT 1),
                p.community_a) AS community_code,
       p.community_a, p.community_b, p.code_a, p.code_b, p.area_m2,
       ST_AsGeoJSON(p.geom, 7) AS geojson
FROM measured AS p
WHERE p.area_m2 >= :tolerance AND 2 * p.area_m2 >= :min_width * p.perimeter_m
ORDER BY p.code_a, p.code_b
