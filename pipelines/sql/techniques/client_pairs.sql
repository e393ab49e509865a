-- Visits per client and pair of techniques used together in the visit (the synergy screen's
-- per-client sums).  $names: the techniques in the analysis's order; ta < tb are 1-based positions.
select cc, list_position($names, first.technique) as ta, list_position($names, second.technique) as tb, count(*) as n
from tq_visits, unnest(tq_visits.techniques) as first(technique), unnest(tq_visits.techniques) as second(technique)
where tq_visits.excluded_because is null
    and first.technique < second.technique
group by all
