-- How many visits and clients are behind one estimate (filters as drill.sql).
select count(*) as n_visits, count(distinct visit_outcomes.client_id) as n_clients
from marts.visit_outcomes as visit_outcomes
left join core.clients as clients on clients.client_id = visit_outcomes.client_id
where ($regions is null or list_contains($regions, coalesce(clients.complaint_region, 'unspecified')))
    and ($therapists is null or list_contains($therapists, coalesce(visit_outcomes.therapist, 'unspecified')))
    and ($date_from is null or visit_outcomes.visit_date >= $date_from)
    and ($date_to is null or visit_outcomes.visit_date <= $date_to)
    and ($technique is null or list_contains(visit_outcomes.techniques, $technique))
    and ($mix is null or visit_outcomes.technique_set = $mix)
