-- The visits the technique page's filters select ($regions, $therapists, $date_from, $date_to;
-- null = no filter), each with its client's complaint region.  The one copy of the filters:
-- the other queries of the technique analysis include it where they write /*filtered_visits*/
-- (pipelines.techniques.sql_file).
select
    visit_outcomes.*,
    coalesce(clients.complaint_region, 'unspecified') as complaint_region
from marts.visit_outcomes as visit_outcomes
left join core.clients as clients on clients.client_id = visit_outcomes.client_id
where ($regions is null or list_contains($regions, coalesce(clients.complaint_region, 'unspecified')))
    and ($therapists is null or list_contains($therapists, coalesce(visit_outcomes.therapist, 'unspecified')))
    and ($date_from is null or visit_outcomes.visit_date >= $date_from)
    and ($date_to is null or visit_outcomes.visit_date <= $date_to)
