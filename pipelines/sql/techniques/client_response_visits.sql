-- Every visit of every client, for this client's own technique response
-- (pipelines/techniques/client_response.py).  One row per visit; the analysis keeps the visits
-- with pain before and after and at least one technique, and says why it dropped the others.
-- The client's complaint region lets a suggestion use the practice's clients with the same complaint.
SELECT
    visit_outcomes.client_id,
    visit_outcomes.visit_id,
    CAST(visit_outcomes.visit_number AS double) AS visit_number,
    CAST(visit_outcomes.pain_pre AS double) AS pain_pre,
    CAST(visit_outcomes.pain_change AS double) AS pain_change,
    visit_outcomes.techniques,
    coalesce(clients.complaint_region, 'unspecified') AS complaint_region
FROM marts.visit_outcomes AS visit_outcomes
LEFT JOIN core.clients AS clients ON clients.client_id = visit_outcomes.client_id
ORDER BY visit_outcomes.client_id, visit_outcomes.visit_number
