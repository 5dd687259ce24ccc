-- Measures per unit (grid, community, street, district or everything), in one statement.
-- Filled in by gis/store/measures.py (str.format; placeholders in braces) with:
--   case_unit        the case column naming the unit: c.grid_code, c.community_code, … ('' for all)
--   grid_unit        the same key on a grid row: g.code, g.community_code, …
--   units            SELECT code, name … of the units to report (every unit gets a row)
--   state            'open' | 'closed' | NULL: the case's state at :at (current status, or rebuilt)
--   open_candidates  an index-friendly superset of the cases open at :at
--   case_columns, case_counts, unit_columns  extra columns of cases, case_stats and the result ('' or
--                    ", …"): the "all" level adds unrouted_open (open cases with no grid code)
--   org_stats        SELECT * FROM org_counted (counted here), or one row of org totals given as parameters
--   current_g, current_t, current_o  the current-version rule of gis/store/vocabulary.py for grid g, team t,
--                    party organisation o on :on
--   overdue_open     open at :at (state) past the deadline: the overdue rule of gis/store/vocabulary.py
--   case_scope, grid_scope, team_scope, building_scope  '' for every unit, or "AND …" keeping only the units
--                    being refreshed (gis/store/incremental.py): a new count scanning a table per grid adds
--                    the scope of its rows too, or it stays correct but reads the whole table on every refresh
-- Parameters: :start, :end (the period, [start, end)), :at (the moment), :on (its local date),
--   :cycle_start (:at minus the visit cycle), :target (households per worker),
--   :open_statuses, :closed_statuses, :satisfied (text arrays from gis/workflow.py).
-- Outcomes and links (issue 12): a merged duplicate (status 'merged') is in no measure, its case counts;
-- "solves" is the rule of gis/store/vocabulary.py SOLVED_OUTCOME_SQL (outcome solved; NULL, from before
-- outcomes were kept, is solved), "local" its LOCAL_RESOLUTION_SQL; tests/api/test_repeats.py holds this
-- text to them.
-- The counts come from one scan of the cases touched by the period or open at :at, the percentiles from
-- the cases reported in it; both group by the unit's own code, so roll-ups recompute over its cases.
WITH cases AS MATERIALIZED (
    SELECT {case_unit} AS unit,
           c.deadline, c.closed_at, c.rework_count, c.satisfaction,
           c.reported_at >= :start AND c.reported_at < :end AS in_reported,
           c.first_action_at - c.reported_at AS response, c.handled_at - c.reported_at AS resolution,
           c.deadline >= :start AND c.deadline < :end AS in_due,
           c.handled_at >= :start AND c.handled_at < :end AS in_handled,
           c.closed_at >= :start AND c.closed_at < :end AS in_closed,
           {state} AS state,
           coalesce(c.outcome, 'solved') = 'solved' AS solves,
           (c.department IS NULL AND c.escalated_at IS NULL) AS local,
           c.repeat_of IS NOT NULL AS repeats{case_columns}
    FROM service_case AS c
    WHERE {case_unit} IS NOT NULL{case_scope} AND c.status <> 'merged'
      AND ((c.reported_at >= :start AND c.reported_at < :end)
        OR (c.deadline >= :start AND c.deadline < :end)
        OR (c.handled_at >= :start AND c.handled_at < :end)
        OR (c.closed_at >= :start AND c.closed_at < :end)
        OR {open_candidates})
),
case_stats AS (
    SELECT unit,
           count(*) FILTER (WHERE state = 'open') AS open_cases,
           count(*) FILTER (WHERE {overdue_open}) AS overdue_open,
           count(*) FILTER (WHERE in_closed AND closed_at > deadline) AS overdue_closed,
           count(*) FILTER (WHERE ({overdue_open})
                               OR (in_closed AND closed_at > deadline)) AS overdue,
           count(*) FILTER (WHERE in_due AND (deadline <= :at OR state = 'closed')) AS due,
           count(*) FILTER (WHERE in_due AND state = 'closed') AS closed,
           count(*) FILTER (WHERE in_due AND state = 'closed' AND closed_at <= deadline AND closed_at <= :at)
               AS closed_on_time,
           count(*) FILTER (WHERE in_handled) AS handled,
           count(*) FILTER (WHERE in_handled AND rework_count > 0) AS reworked,
           count(*) FILTER (WHERE in_closed AND satisfaction IS NOT NULL) AS rated,
           count(*) FILTER (WHERE in_closed AND satisfaction = ANY(:satisfied)) AS satisfied,
           count(*) FILTER (WHERE in_due AND state = 'closed' AND solves) AS solved,
           count(*) FILTER (WHERE in_due AND state = 'closed' AND solves AND closed_at <= deadline
                                  AND closed_at <= :at) AS solved_on_time,
           count(*) FILTER (WHERE in_due AND state = 'closed' AND NOT solves) AS explained,
           count(*) FILTER (WHERE in_closed AND state = 'closed') AS closed_in_period,
           count(*) FILTER (WHERE in_closed AND state = 'closed' AND local) AS closed_locally,
           count(*) FILTER (WHERE in_reported AND repeats) AS repeats{case_counts}
    FROM cases
    GROUP BY unit
),
-- Percentiles over the same scan (the cases reported in the period are among those read): one pass over
-- the heap, whose pages the period's cases are spread over.
case_times AS (
    SELECT unit,
           count(*) AS reported,
           count(response) AS responded,
           count(resolution) AS resolved,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP
               (ORDER BY extract(epoch FROM response) / 3600.0) AS response_h,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP
               (ORDER BY extract(epoch FROM resolution) / 3600.0) AS resolution_h
    FROM cases
    WHERE in_reported
    GROUP BY unit
),
grids_on AS (
    SELECT DISTINCT ON (g.code) g.code, g.name, m.code AS community_code, g.street_code, g.district_code
    FROM grid AS g
    JOIN community AS m ON m.id = g.community_id
    WHERE {current_g}{grid_scope}
    ORDER BY g.code, g.valid_from DESC
),
workers AS (
    SELECT t.grid_code, count(DISTINCT p.person_id) AS workers
    FROM service_team AS t
    JOIN team_membership AS p ON p.team_id = t.id
    WHERE {current_t}{team_scope}
      AND p.role = 'grid_worker' AND p.from_date <= :on AND (p.to_date IS NULL OR p.to_date >= :on)
    GROUP BY t.grid_code
),
-- Buildings of each grid, and those visited in the cycle (a semi-join: no DISTINCT over visits, and it
-- spills to disk rather than failing when the visits outgrow work_mem). Counted by grid row id first and
-- MATERIALIZED, so each is computed once (in parallel inside) and not again in every worker of a join.
building_counts AS MATERIALIZED (
    SELECT grid_id, count(*) AS buildings, sum(households) AS households
    FROM building WHERE grid_id IS NOT NULL{building_scope} GROUP BY grid_id
),
visited_counts AS MATERIALIZED (
    SELECT b.grid_id, count(*) AS visited
    FROM building AS b
    WHERE b.grid_id IS NOT NULL{building_scope}
      AND EXISTS (SELECT 1 FROM visit AS v
                  WHERE v.building_id = b.id AND v.visited_at > :cycle_start AND v.visited_at <= :at)
    GROUP BY b.grid_id
),
homes AS (
    SELECT g.code, sum(h.buildings) AS buildings, sum(h.households) AS households,
           sum(h.buildings - coalesce(s.visited, 0)) AS unvisited
    FROM building_counts AS h
    LEFT JOIN visited_counts AS s ON s.grid_id = h.grid_id
    JOIN grid AS g ON g.id = h.grid_id
    GROUP BY g.code
),
grid_org AS (
    SELECT g.code, g.community_code, g.street_code, g.district_code,
           NOT EXISTS (SELECT 1 FROM party_org AS o
                       WHERE o.level = 'grid_branch' AND o.place_code = g.code
                         AND {current_o}) AS no_branch,
           NOT EXISTS (SELECT 1 FROM service_team AS t
                       WHERE t.grid_code = g.code
                         AND {current_t}) AS no_team,
           coalesce(w.workers, 0) AS workers,
           coalesce(h.households, 0) AS households,
           coalesce(h.buildings, 0) AS buildings,
           coalesce(h.unvisited, 0) AS unvisited
    FROM grids_on AS g
    LEFT JOIN workers AS w ON w.grid_code = g.code
    LEFT JOIN homes AS h ON h.code = g.code
),
org_counted AS (
    SELECT {grid_unit} AS unit,
           count(*) AS grids,
           count(*) FILTER (WHERE g.no_branch) AS no_branch,
           count(*) FILTER (WHERE g.no_team) AS no_team,
           count(*) FILTER (WHERE g.workers = 0) AS no_worker,
           count(*) FILTER (WHERE g.workers > 0 AND g.households > :target * g.workers) AS over_target,
           sum(g.workers) AS workers,
           sum(g.households) AS households,
           sum(g.buildings) AS buildings,
           sum(g.unvisited) AS unvisited
    FROM grid_org AS g
    GROUP BY 1
),
org_stats AS (
    {org_stats}
),
-- Focus households (关爱对象, gis/focus.py) on the register on :on, per unit: focus_gap counts those unpaired
-- or overdue for a visit at :at, once each. The placeholder focus_gaps is gis/store/focus.py grid_gaps_sql (grid code and
-- gap only: no name, door or phone leaves it); joined to grids_on, so it follows grid_scope.
focus_counted AS (
    SELECT {grid_unit} AS unit, count(*) AS focus_households, count(*) FILTER (WHERE f.gap) AS focus_gap
    FROM grids_on AS g
    JOIN ({focus_gaps}) AS f ON f.grid_code = g.code
    GROUP BY 1
),
-- Party strength (gis/party.py) on :on, per unit: party_members sums the members of the grids' current branches,
-- weak_branches counts the grids whose branch has fewer than three members or is graded weak (后进). The
-- placeholder party_strength is gis/store/party.py grid_party_sql (counts only, no name); joined to grids_on.
party_counted AS (
    SELECT {grid_unit} AS unit, sum(p.party_members) AS party_members,
           count(*) FILTER (WHERE p.weak_branch) AS weak_branches
    FROM grids_on AS g
    JOIN ({party_strength}) AS p ON p.grid_code = g.code
    GROUP BY 1
),
units AS (
    {units}
)
SELECT u.*,
       coalesce(s.open_cases, 0) AS open_cases, coalesce(s.overdue_open, 0) AS overdue_open,
       coalesce(s.overdue_closed, 0) AS overdue_closed, coalesce(s.overdue, 0) AS overdue,
       coalesce(t.reported, 0) AS reported, coalesce(t.responded, 0) AS responded,
       coalesce(t.resolved, 0) AS resolved,
       t.response_h[1] AS response_p50_h, t.response_h[2] AS response_p90_h,
       t.resolution_h[1] AS resolution_p50_h, t.resolution_h[2] AS resolution_p90_h,
       coalesce(s.due, 0) AS due, coalesce(s.closed, 0) AS closed, coalesce(s.closed_on_time, 0) AS closed_on_time,
       coalesce(s.handled, 0) AS handled, coalesce(s.reworked, 0) AS reworked, coalesce(s.rated, 0) AS rated,
       coalesce(s.satisfied, 0) AS satisfied,
       coalesce(s.solved, 0) AS solved, coalesce(s.solved_on_time, 0) AS solved_on_time,
       coalesce(s.explained, 0) AS explained, coalesce(s.closed_in_period, 0) AS closed_in_period,
       coalesce(s.closed_locally, 0) AS closed_locally, coalesce(s.repeats, 0) AS repeats,
       coalesce(fc.focus_households, 0) AS focus_households, coalesce(fc.focus_gap, 0) AS focus_gap,
       coalesce(pc.party_members, 0)::bigint AS party_members, coalesce(pc.weak_branches, 0) AS weak_branches,
       coalesce(o.grids, 0) AS grids, coalesce(o.no_branch, 0) AS no_branch, coalesce(o.no_team, 0) AS no_team,
       coalesce(o.no_worker, 0) AS no_worker, coalesce(o.over_target, 0) AS over_target,
       coalesce(o.no_branch + o.no_team + o.no_worker + o.over_target, 0) AS org_gaps,
       coalesce(o.workers, 0)::bigint AS workers, coalesce(o.households, 0)::bigint AS households,
       coalesce(o.buildings, 0)::bigint AS buildings, coalesce(o.unvisited, 0)::bigint AS unvisited{unit_columns}
FROM units AS u
LEFT JOIN case_stats AS s ON s.unit = u.code
LEFT JOIN case_times AS t ON t.unit = u.code
LEFT JOIN org_stats AS o ON o.unit = u.code
LEFT JOIN focus_counted AS fc ON fc.unit = u.code
LEFT JOIN party_counted AS pc ON pc.unit = u.code
