-- One client's own row (the record exported as FHIR and summed up in the physician letter).
select client_id, display_name, birth_year, sex, primary_complaint, complaint_region, intake_date, status
from core.clients
where client_id = ?
