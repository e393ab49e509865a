-- One client's questionnaires, items as recorded (scored in Python, one formula for every reader).
select * exclude (source_import, source_line, updated_at)
from core.outcome_measures
where client_id = ?
order by taken_on, instrument
