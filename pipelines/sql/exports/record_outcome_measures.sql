-- One client's questionnaires, items as recorded (scored in Python, one formula for every reader).
SELECT * exclude (source_import, source_line, updated_at)
FROM core.outcome_measures
WHERE client_id = ?
ORDER BY taken_on, instrument
