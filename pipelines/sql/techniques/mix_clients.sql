-- Distinct clients per exact technique set (the mixes table's n clients).
-- (distinct pairs first, then a count: about twice as fast as count(distinct) here)
select technique_set, count(*) as n_clients
from (select distinct technique_set, cc from tq_visits where excluded_because is null)
group by technique_set
