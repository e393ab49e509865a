-- One client's ROM readings, each with its visit's date.
SELECT rom.visit_id, visits.visit_date, rom.joint, rom.movement, rom.side, rom.timing, rom.degrees,
       rom.instrument, rom.measured_by
FROM core.rom AS rom
INNER JOIN core.visits AS visits ON visits.visit_id = rom.visit_id
WHERE visits.client_id = ?
ORDER BY visits.visit_date, rom.visit_id, rom.joint, rom.movement, rom.side, rom.timing
