-- The distinct technique sets (mixes) among the analysable visits, with a dense code: every
-- per-client statistic of a 0/1 column (a technique, a pair, a mix) is a sum over the client's
-- visits per set (client_sets.sql), so one (client, set) table serves them all.
create or replace temp table tq_sets as
select
    cast(row_number() over (order by technique_set) - 1 as integer) as set_code,
    technique_set,
    techniques
from (
    select technique_set, any_value(techniques) as techniques
    from tq_visits
    where excluded_because is null
    group by technique_set
)
