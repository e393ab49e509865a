-- Grain: one row per visit and technique used in it.
WITH

visit_outcomes AS (
    SELECT * FROM marts.visit_outcomes
),

unnested AS (
    SELECT
        visit_outcomes.visit_id,
        unnest(visit_outcomes.techniques) AS technique
    FROM visit_outcomes
),

final AS (
    SELECT
        unnested.visit_id,
        unnested.technique,
        visit_outcomes.client_id,
        visit_outcomes.visit_date,
        visit_outcomes.visit_number,
        visit_outcomes.pressure,
        visit_outcomes.n_techniques,
        visit_outcomes.technique_set,
        visit_outcomes.pain_pre,
        visit_outcomes.pain_post,
        visit_outcomes.pain_change,
        visit_outcomes.carryover_change
    FROM unnested
    INNER JOIN visit_outcomes ON visit_outcomes.visit_id = unnested.visit_id
)

SELECT * FROM final
