-- Visits per client and technique set (sparse: a client uses a handful of the sets).
select tq_visits.cc, tq_sets.set_code, count(*) as n
from tq_visits
inner join tq_sets on tq_sets.technique_set = tq_visits.technique_set
where tq_visits.excluded_because is null
group by tq_visits.cc, tq_sets.set_code
