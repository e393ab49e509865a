-- Second pass for one synergy column in the model: per client, the sum of the residual over the
-- visits that used both $a and $b (coefficients as residuals.sql).
with

residuals as (
    select
        cc,
        techniques,
        y - tq_fitted.fitted - $b_p * pain_pre - $b_v * visit_number - $b_e * extra as r
    from tq_visits
    inner join tq_fitted using (technique_set, pressure_label)
    where excluded_because is null
)

select cc, sum(r) as s_r
from residuals
where list_contains(techniques, $a) and list_contains(techniques, $b)
group by cc
