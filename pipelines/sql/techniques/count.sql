-- How many visits the filters select (decides between the mixed model and the large-data path).
select count(*)
from marts.visit_outcomes as visit_outcomes
left join core.clients as clients on clients.client_id = visit_outcomes.client_id
where ($regions is null or list_contains($regions, coalesce(clients.complaint_region, 'unspecified')))
    and ($therapists is null or list_contains($therapists, coalesce(visit_outcomes.therapist, 'unspecified')))
    and ($date_from is null or visit_outcomes.visit_date >= $date_from)
    and ($date_to is null or visit_outcomes.visit_date <= $date_to)
