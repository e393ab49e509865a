-- Second pass, per client and technique set: the sum of the residual r = y - x'b (same
-- coefficients as residuals.sql).  Techniques, pairs and mixes take their per-client score
-- sums from this one table.
WITH

residuals AS (
    SELECT
        tq_visits.cc,
        tq_visits.technique_set,
        tq_visits.y - tq_fitted.fitted - $b_p * tq_visits.pain_pre - $b_v * tq_visits.visit_number
            - $b_e * tq_visits.extra AS r
    FROM tq_visits
    INNER JOIN tq_fitted
        ON tq_fitted.technique_set = tq_visits.technique_set
        AND tq_fitted.pressure_label = tq_visits.pressure_label
    WHERE tq_visits.excluded_because IS NULL
)

SELECT residuals.cc, tq_sets.set_code, sum(residuals.r) AS s_r
FROM residuals
INNER JOIN tq_sets ON tq_sets.technique_set = residuals.technique_set
GROUP BY residuals.cc, tq_sets.set_code
