-- One client's visits from a trial's start, in order, for filling its slots
-- (pipelines/techniques/trial.py).  Bound: $client_id, $started_on.
SELECT
    visit_outcomes.visit_id,
    visit_outcomes.visit_date,
    visit_outcomes.techniques,
    CAST(visit_outcomes.pain_pre AS double) AS pain_pre,
    CAST(visit_outcomes.pain_post AS double) AS pain_post,
    CAST(visit_outcomes.pain_change AS double) AS pain_change
FROM marts.visit_outcomes AS visit_outcomes
WHERE visit_outcomes.client_id = $client_id
    AND visit_outcomes.visit_date >= $started_on
ORDER BY visit_outcomes.visit_date, visit_outcomes.visit_id
