-- Land of each community that no current grid covers: one row per piece. Slivers along boundaries that
-- should coincide are dropped: pieces under :tolerance m², or thinner on average (2 × area / perimeter)
-- than :min_width m. A grid counts wherever it lies, even if it belongs to a neighbouring community.
-- Filled in by gis/store/coverage.py (str.format): {current_g} is the current-grid rule of
-- gis/store/vocabulary.py (on :on), the other placeholder in braces restricts the communities
-- (TRUE, or a code match).
-- Fast path first: most communities are covered by their own grids (one small union and a covers test);
-- only the others get the costly difference against every grid that reaches into them.
WITH communities AS (
    SELECT m.id, m.code, m.geom FROM community AS m WHERE {community_filter}
),
own AS (
    SELECT m.id, ST_Union(g.geom) AS geom
    FROM communities AS m
    JOIN grid AS g ON g.community_id = m.id AND {current_g}
    GROUP BY m.id
),
open_land AS (
    SELECT m.code, m.geom
    FROM communities AS m
    LEFT JOIN own AS o ON o.id = m.id
    WHERE o.geom IS NULL OR NOT ST_Covers(o.geom, m.geom)
),
cover AS (
    SELECT l.code, ST_Union(g.geom) AS geom
    FROM open_land AS l
    JOIN grid AS g ON {current_g} AND ST_Intersects(g.geom, l.geom)
    GROUP BY l.code
),
pieces AS (
    SELECT l.code,
           (ST_Dump(ST_CollectionExtract(
               CASE WHEN c.geom IS NULL THEN l.geom ELSE ST_Difference(l.geom, c.geom) END, 3))).geom AS geom
    FROM open_land AS l
    LEFT JOIN cover AS c ON c.code = l.code
),
measured AS (
    SELECT code, geom, ST_Area(geom::geography) AS area_m2, ST_Perimeter(geom::geography) AS perimeter_m
    FROM pieces
)
SELECT p.code AS community_code,
       ARRAY(SELECT g.code FROM grid AS g
             WHERE {current_g} AND ST_DWithin(g.geom, p.geom, :touch) ORDER BY g.code) AS grid_codes,
       p.area_m2,
       ST_AsGeoJSON(p.geom, 7) AS geojson
FROM measured AS p
WHERE p.area_m2 >= :tolerance AND 2 * p.area_m2 >= :min_width * p.perimeter_m
ORDER BY p.code, p.area_m2 DESC
