-- Sufficient statistics per (technique set, pressure) over the analysable visits: counts, sums
-- and cross-products of pain before (p), visit number (v), the extra covariate (e) and the
-- outcome (y).  Every regressor that is not continuous is constant within one such cell.
SELECT
    technique_set,
    any_value(techniques) AS techniques,
    pressure_label,
    count(*) AS n,
    sum(pain_pre) AS s_p, sum(visit_number) AS s_v, sum(extra) AS s_e, sum(y) AS s_y,
    sum(pain_pre * pain_pre) AS s_pp, sum(pain_pre * visit_number) AS s_pv, sum(pain_pre * extra) AS s_pe,
    sum(visit_number * visit_number) AS s_vv, sum(visit_number * extra) AS s_ve, sum(extra * extra) AS s_ee,
    sum(y * pain_pre) AS s_yp, sum(y * visit_number) AS s_yv, sum(y * extra) AS s_ye, sum(y * y) AS s_yy
FROM tq_visits
WHERE excluded_because IS NULL
GROUP BY technique_set, pressure_label
ORDER BY technique_set, pressure_label
