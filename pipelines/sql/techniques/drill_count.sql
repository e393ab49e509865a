-- How many visits and clients are behind one estimate (filters as drill.sql).
SELECT count(*) AS n_visits, count(DISTINCT filtered.client_id) AS n_clients
FROM (/*filtered_visits*/) AS filtered
WHERE ($technique IS NULL OR list_contains(filtered.techniques, $technique))
    AND ($mix IS NULL OR filtered.technique_set = $mix)
