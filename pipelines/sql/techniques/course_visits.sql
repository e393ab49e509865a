-- Pain before each visit with what describes the client at the start (first pain score, complaint
-- region, age band at the first visit), for the expected course (pipelines/techniques/course.py).
-- One row per visit that has a pain score before the visit.
WITH

scored AS (
    SELECT
        visit_outcomes.client_id,
        visit_outcomes.visit_date,
        CAST(visit_outcomes.visit_number AS double) AS visit_number,
        CAST(visit_outcomes.pain_pre AS double) AS pain_pre
    FROM marts.visit_outcomes AS visit_outcomes
    WHERE visit_outcomes.pain_pre IS NOT NULL
),

starts AS (
    SELECT
        client_id,
        arg_min(pain_pre, visit_number) AS baseline,
        min(visit_number) AS baseline_visit,
        min(visit_date) AS first_date
    FROM scored
    GROUP BY client_id
),

final AS (
    SELECT
        scored.client_id,
        scored.visit_date,
        scored.visit_number,
        scored.pain_pre,
        starts.baseline,
        starts.baseline_visit,
        coalesce(clients.complaint_region, 'unspecified') AS complaint_region,
        CASE
            WHEN clients.birth_year IS NULL THEN 'unknown'
            WHEN year(starts.first_date) - clients.birth_year < 30 THEN 'under 30'
            WHEN year(starts.first_date) - clients.birth_year < 45 THEN '30-44'
            WHEN year(starts.first_date) - clients.birth_year < 60 THEN '45-59'
            ELSE '60+'
        END AS age_band
    FROM scored
    INNER JOIN starts ON starts.client_id = scored.client_id
    LEFT JOIN core.clients AS clients ON clients.client_id = scored.client_id
)

SELECT * FROM final
ORDER BY client_id, visit_number
