-- One client's ROM readings, each with its visit's date.
select rom.visit_id, visits.visit_date, rom.joint, rom.movement, rom.side, rom.timing, rom.degrees,
       rom.instrument, rom.measured_by
from core.rom as rom
inner join core.visits as visits on visits.visit_id = rom.visit_id
where visits.client_id = ?
order by visits.visit_date, rom.visit_id, rom.joint, rom.movement, rom.side, rom.timing
