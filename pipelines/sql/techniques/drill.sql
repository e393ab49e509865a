-- The visits behind one estimate (a technique, or an exact mix) with the page's filters, newest
-- first, at most $limit rows; the page says how many there are in all (drill_count.sql).
select
    filtered.visit_id,
    filtered.client_id,
    filtered.visit_date,
    filtered.visit_number,
    coalesce(filtered.therapist, 'unspecified') as therapist,
    filtered.complaint_region,
    filtered.pressure,
    filtered.technique_set,
    filtered.pain_pre,
    filtered.pain_post,
    filtered.pain_change,
    filtered.carryover_change,
    filtered.rom_mean_change_deg
from (/*filtered_visits*/) as filtered
where ($technique is null or list_contains(filtered.techniques, $technique))
    and ($mix is null or filtered.technique_set = $mix)
order by filtered.visit_date desc, filtered.client_id
limit $limit
