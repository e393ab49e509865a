-- The visits behind one estimate (a technique, or an exact mix) with the page's filters, newest
-- first, at most $limit rows; the page says how many there are in all (drill_count.sql).
SELECT
    filtered.visit_id,
    filtered.client_id,
    filtered.visit_date,
    filtered.visit_number,
    coalesce(filtered.therapist, 'unspecified') AS therapist,
    filtered.complaint_region,
    filtered.pressure,
    filtered.technique_set,
    filtered.pain_pre,
    filtered.pain_post,
    filtered.pain_change,
    filtered.carryover_change,
    filtered.rom_mean_change_deg
FROM (/*filtered_visits*/) AS filtered
WHERE ($technique IS NULL OR list_contains(filtered.techniques, $technique))
    AND ($mix IS NULL OR filtered.technique_set = $mix)
ORDER BY filtered.visit_date DESC, filtered.client_id
LIMIT $limit
