-- Every visit of every client, for this client's own technique response
-- (pipelines/techniques/client_response.py).  One row per visit; the analysis keeps the visits
-- with pain before and after and at least one technique, and says why it dropped the others.
select
    visit_outcomes.client_id,
    visit_outcomes.visit_id,
    cast(visit_outcomes.visit_number as double) as visit_number,
    cast(visit_outcomes.pain_pre as double) as pain_pre,
    cast(visit_outcomes.pain_change as double) as pain_change,
    visit_outcomes.techniques
from marts.visit_outcomes as visit_outcomes
order by visit_outcomes.client_id, visit_outcomes.visit_number
