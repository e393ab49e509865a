-- The visits behind one estimate (a technique, or an exact mix) with the page's filters, newest
-- first, at most $limit rows; the page says how many there are in all (drill_count.sql).
select
    visit_outcomes.visit_id,
    visit_outcomes.client_id,
    visit_outcomes.visit_date,
    visit_outcomes.visit_number,
    coalesce(visit_outcomes.therapist, 'unspecified') as therapist,
    coalesce(clients.complaint_region, 'unspecified') as complaint_region,
    visit_outcomes.pressure,
    visit_outcomes.technique_set,
    visit_outcomes.pain_pre,
    visit_outcomes.pain_post,
    visit_outcomes.pain_change,
    visit_outcomes.carryover_change,
    visit_outcomes.rom_mean_change_deg
from marts.visit_outcomes as visit_outcomes
left join core.clients as clients on clients.client_id = visit_outcomes.client_id
where ($regions is null or list_contains($regions, coalesce(clients.complaint_region, 'unspecified')))
    and ($therapists is null or list_contains($therapists, coalesce(visit_outcomes.therapist, 'unspecified')))
    and ($date_from is null or visit_outcomes.visit_date >= $date_from)
    and ($date_to is null or visit_outcomes.visit_date <= $date_to)
    and ($technique is null or list_contains(visit_outcomes.techniques, $technique))
    and ($mix is null or visit_outcomes.technique_set = $mix)
order by visit_outcomes.visit_date desc, visit_outcomes.client_id
limit $limit
