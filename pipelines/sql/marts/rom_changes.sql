-- Grain: one row per visit × joint × movement × side with a pre and/or post reading.
-- Stored sorted by client (client_id from the visit), so the client page's `client_id = ?`
-- reads only that client's row groups (DuckDB zone maps) instead of every reading.
WITH

rom AS (
    SELECT * FROM core.rom
),

visits AS (
    SELECT visit_id, client_id FROM core.visits
),

paired AS (
    SELECT
        visit_id,
        joint,
        movement,
        side,
        max(degrees) FILTER (WHERE timing = 'pre') AS degrees_pre,
        max(degrees) FILTER (WHERE timing = 'post') AS degrees_post,
        max(instrument) AS instrument,
        max(measured_by) AS measured_by
    FROM rom
    GROUP BY visit_id, joint, movement, side
),

final AS (
    SELECT
        paired.*,
        paired.degrees_post - paired.degrees_pre AS degrees_change,
        visits.client_id
    FROM paired
    LEFT JOIN visits ON visits.visit_id = paired.visit_id
)

SELECT * FROM final
ORDER BY client_id, visit_id, joint, movement, side
