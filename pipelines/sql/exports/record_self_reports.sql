-- One client's own reports between visits.
SELECT reported_at, pain, region, did_homecare, pgic, note, source
FROM core.self_reports
WHERE client_id = ?
ORDER BY reported_at
