-- One client's visits from a trial's start, in order, for filling its slots
-- (pipelines/techniques/trial.py).  Bound: $client_id, $started_on.
select
    visit_outcomes.visit_id,
    visit_outcomes.visit_date,
    visit_outcomes.techniques,
    cast(visit_outcomes.pain_pre as double) as pain_pre,
    cast(visit_outcomes.pain_post as double) as pain_post,
    cast(visit_outcomes.pain_change as double) as pain_change
from marts.visit_outcomes as visit_outcomes
where visit_outcomes.client_id = $client_id
    and visit_outcomes.visit_date >= $started_on
order by visit_outcomes.visit_date, visit_outcomes.visit_id
