-- Visits per client and technique set (sparse: a client uses a handful of the sets).
SELECT tq_visits.cc, tq_sets.set_code, count(*) AS n
FROM tq_visits
INNER JOIN tq_sets ON tq_sets.technique_set = tq_visits.technique_set
WHERE tq_visits.excluded_because IS NULL
GROUP BY tq_visits.cc, tq_sets.set_code
