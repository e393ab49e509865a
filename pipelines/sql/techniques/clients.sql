-- Per-client sums over the analysable visits (the within-client means come from these), and
-- the client's visits at each pressure level (fixed levels 1-5 and 'unknown').
select
    cc,
    count(*) as n,
    sum(pain_pre) as s_p, sum(visit_number) as s_v, sum(extra) as s_e, sum(y) as s_y, sum(y * y) as s_yy,
    count(*) filter (where pressure_label = '1') as n_p1,
    count(*) filter (where pressure_label = '2') as n_p2,
    count(*) filter (where pressure_label = '3') as n_p3,
    count(*) filter (where pressure_label = '4') as n_p4,
    count(*) filter (where pressure_label = '5') as n_p5,
    count(*) filter (where pressure_label = 'unknown') as n_punknown
from tq_visits
where excluded_because is null
group by cc
order by cc
