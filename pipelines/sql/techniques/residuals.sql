-- Second pass, given the fitted coefficients: per client, the sums of the residual
-- r = y - x'b (before removing the client's mean) and of r times each continuous covariate
-- and each pressure level.  The 0/1 part comes from tq_fitted (fitted.sql); $b_p, $b_v, $b_e are bound.
WITH

residuals AS (
    SELECT
        cc,
        techniques,
        pressure_label,
        pain_pre,
        visit_number,
        extra,
        y - tq_fitted.fitted - $b_p * pain_pre - $b_v * visit_number - $b_e * extra AS r
    FROM tq_visits
    INNER JOIN tq_fitted USING (technique_set, pressure_label)
    WHERE excluded_because IS NULL
)

SELECT
    cc,
    sum(r) AS s_r,
    sum(r * pain_pre) AS s_rp, sum(r * visit_number) AS s_rv, sum(r * extra) AS s_re,
    coalesce(sum(r) FILTER (WHERE pressure_label = '1'), 0) AS s_r1,
    coalesce(sum(r) FILTER (WHERE pressure_label = '2'), 0) AS s_r2,
    coalesce(sum(r) FILTER (WHERE pressure_label = '3'), 0) AS s_r3,
    coalesce(sum(r) FILTER (WHERE pressure_label = '4'), 0) AS s_r4,
    coalesce(sum(r) FILTER (WHERE pressure_label = '5'), 0) AS s_r5,
    coalesce(sum(r) FILTER (WHERE pressure_label = 'unknown'), 0) AS s_runknown
FROM residuals
GROUP BY cc
ORDER BY cc
