-- Grain: one row per trigger point found in a visit (visit × muscle × side).
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
WITH

trigger_points AS (
    SELECT * FROM core.trigger_points
),

visit_outcomes AS (
    SELECT * FROM marts.visit_outcomes
),

final AS (
    SELECT
        visit_outcomes.client_id,
        trigger_points.visit_id,
        visit_outcomes.visit_date,
        visit_outcomes.visit_number,
        trigger_points.muscle,
        trigger_points.side,
        trigger_points.referral_region,
        trigger_points.tenderness,
        trigger_points.released
    FROM trigger_points
    INNER JOIN visit_outcomes ON visit_outcomes.visit_id = trigger_points.visit_id
)

SELECT * FROM final
ORDER BY client_id, visit_date, visit_id, muscle, side
