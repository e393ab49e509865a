-- Second pass, per client and technique: the sum of the residual r = y - x'b over the client's
-- visits with that technique (same coefficients as residuals.sql; $names gives tc as in client_techniques.sql).
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

select cc, list_position($names, technique) as tc, sum(r) as s_r
from (select cc, unnest(techniques) as technique, r from residuals)
group by cc, tc
