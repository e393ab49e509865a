-- One client's own row (the record exported as FHIR and summed up in the physician letter).
SELECT client_id, display_name, birth_year, sex, primary_complaint, complaint_region, intake_date, status
FROM core.clients
WHERE client_id = ?
