-- Visits left out of the analysis and why (tq_visits from visits.sql).
select excluded_because, count(*) as n
from tq_visits
where excluded_because is not null
group by excluded_because
