-- The stored result for one outcome and minimum n, if the importer made one.
SELECT fingerprint, payload
FROM technique_cache.reports
WHERE outcome = $outcome AND min_clients = $min_clients
