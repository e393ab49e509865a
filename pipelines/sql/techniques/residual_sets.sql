-- Second pass, per client and technique set: the sum of the residual r = y - x'b (same
-- coefficients as residuals.sql).  Techniques, pairs and mixes take their per-client score
-- sums from this one table.
with

residuals as (
    select
        tq_visits.cc,
        tq_visits.technique_set,
        tq_visits.y - tq_fitted.fitted - $b_p * tq_visits.pain_pre - $b_v * tq_visits.visit_number
            - $b_e * tq_visits.extra as r
    from tq_visits
    inner join tq_fitted
        on tq_fitted.technique_set = tq_visits.technique_set
        and tq_fitted.pressure_label = tq_visits.pressure_label
    where tq_visits.excluded_because is null
)

select residuals.cc, tq_sets.set_code, sum(residuals.r) as s_r
from residuals
inner join tq_sets on tq_sets.technique_set = residuals.technique_set
group by residuals.cc, tq_sets.set_code
