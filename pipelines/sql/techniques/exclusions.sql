-- Visits left out of the analysis and why (tq_visits from visits.sql).
SELECT excluded_because, count(*) AS n
FROM tq_visits
WHERE excluded_because IS NOT NULL
GROUP BY excluded_because
