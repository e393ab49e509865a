-- How many visits the filters select (decides between the mixed model and the large-data path).
SELECT count(*)
FROM (/*filtered_visits*/) AS filtered
