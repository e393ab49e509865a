-- The visits the technique page's filters select ($regions, $therapists, $date_from, $date_to;
-- null = no filter), each with its client's complaint region.  The one copy of the filters:
-- the other queries of the technique analysis include it where they write /*filtered_visits*/
-- (pipelines.techniques.sql_file).
SELECT
    visit_outcomes.*,
    coalesce(clients.complaint_region, 'unspecified') AS complaint_region
FROM marts.visit_outcomes AS visit_outcomes
LEFT JOIN core.clients AS clients ON clients.client_id = visit_outcomes.client_id
WHERE ($regions IS NULL OR list_contains($regions, coalesce(clients.complaint_region, 'unspecified')))
    AND ($therapists IS NULL OR list_contains($therapists, coalesce(visit_outcomes.therapist, 'unspecified')))
    AND ($date_from IS NULL OR visit_outcomes.visit_date >= $date_from)
    AND ($date_to IS NULL OR visit_outcomes.visit_date <= $date_to)
