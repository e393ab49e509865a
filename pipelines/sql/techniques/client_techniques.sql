-- Visits per client and technique ($names: the techniques, in the analysis's order; tc is the
-- 1-based position in that list).
select cc, list_position($names, technique) as tc, count(*) as n
from (
    select cc, unnest(techniques) as technique
    from tq_visits
    where excluded_because is null
)
group by cc, tc
