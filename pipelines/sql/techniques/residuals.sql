-- Second pass, given the fitted coefficients: per client, the sums of the residual
-- r = y - x'b (before removing the client's mean) and of r times each continuous covariate
-- and each pressure level.  The 0/1 part comes from tq_fitted (fitted.sql); $b_p, $b_v, $b_e are bound.
with

residuals as (
    select
        cc,
        techniques,
        pressure_label,
        pain_pre,
        visit_number,
        extra,
        y - tq_fitted.fitted - $b_p * pain_pre - $b_v * visit_number - $b_e * extra as r
    from tq_visits
    inner join tq_fitted using (technique_set, pressure_label)
    where excluded_because is null
)

select
    cc,
    sum(r) as s_r,
    sum(r * pain_pre) as s_rp, sum(r * visit_number) as s_rv, sum(r * extra) as s_re,
    coalesce(sum(r) filter (where pressure_label = '1'), 0) as s_r1,
    coalesce(sum(r) filter (where pressure_label = '2'), 0) as s_r2,
    coalesce(sum(r) filter (where pressure_label = '3'), 0) as s_r3,
    coalesce(sum(r) filter (where pressure_label = '4'), 0) as s_r4,
    coalesce(sum(r) filter (where pressure_label = '5'), 0) as s_r5,
    coalesce(sum(r) filter (where pressure_label = 'unknown'), 0) as s_runknown
from residuals
group by cc
order by cc
