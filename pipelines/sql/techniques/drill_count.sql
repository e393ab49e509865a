-- How many visits and clients are behind one estimate (filters as drill.sql).
select count(*) as n_visits, count(distinct filtered.client_id) as n_clients
from (/*filtered_visits*/) as filtered
where ($technique is null or list_contains(filtered.techniques, $technique))
    and ($mix is null or filtered.technique_set = $mix)
