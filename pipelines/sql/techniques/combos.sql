-- Sufficient statistics per (technique set, pressure) over the analysable visits: counts, sums
-- and cross-products of pain before (p), visit number (v), the extra covariate (e) and the
-- outcome (y).  Every regressor that is not continuous is constant within one such cell.
select
    technique_set,
    any_value(techniques) as techniques,
    pressure_label,
    count(*) as n,
    sum(pain_pre) as s_p, sum(visit_number) as s_v, sum(extra) as s_e, sum(y) as s_y,
    sum(pain_pre * pain_pre) as s_pp, sum(pain_pre * visit_number) as s_pv, sum(pain_pre * extra) as s_pe,
    sum(visit_number * visit_number) as s_vv, sum(visit_number * extra) as s_ve, sum(extra * extra) as s_ee,
    sum(y * pain_pre) as s_yp, sum(y * visit_number) as s_yv, sum(y * extra) as s_ye, sum(y * y) as s_yy
from tq_visits
where excluded_because is null
group by technique_set, pressure_label
order by technique_set, pressure_label
