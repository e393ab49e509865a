-- Every visit of every client, for this client's own technique response
-- (pipelines/techniques/client_response.py).  One row per visit; the analysis keeps the visits
-- with pain before and after and at least one technique, and says why it dropped the others.
-- The client's complaint region lets a suggestion use the practice's clients with the same complaint.
select
    visit_outcomes.client_id,
    visit_outcomes.visit_id,
    cast(visit_outcomes.visit_number as double) as visit_number,
    cast(visit_outcomes.pain_pre as double) as pain_pre,
    cast(visit_outcomes.pain_change as double) as pain_change,
    visit_outcomes.techniques,
    coalesce(clients.complaint_region, 'unspecified') as complaint_region
from marts.visit_outcomes as visit_outcomes
left join core.clients as clients on clients.client_id = visit_outcomes.client_id
order by visit_outcomes.client_id, visit_outcomes.visit_number
