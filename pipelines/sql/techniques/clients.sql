-- Per-client sums over the analysable visits (the within-client means come from these), and
-- the client's visits at each pressure level (fixed levels 1-5 and 'unknown').
SELECT
    cc,
    count(*) AS n,
    sum(pain_pre) AS s_p, sum(visit_number) AS s_v, sum(extra) AS s_e, sum(y) AS s_y, sum(y * y) AS s_yy,
    count(*) FILTER (WHERE pressure_label = '1') AS n_p1,
    count(*) FILTER (WHERE pressure_label = '2') AS n_p2,
    count(*) FILTER (WHERE pressure_label = '3') AS n_p3,
    count(*) FILTER (WHERE pressure_label = '4') AS n_p4,
    count(*) FILTER (WHERE pressure_label = '5') AS n_p5,
    count(*) FILTER (WHERE pressure_label = 'unknown') AS n_punknown
FROM tq_visits
WHERE excluded_because IS NULL
GROUP BY cc
ORDER BY cc
