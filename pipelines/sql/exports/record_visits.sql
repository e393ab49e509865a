-- One client's visits in order, with their number (1 = first visit).
SELECT visit_id, visit_date, visit_number, therapist, duration_min, pressure, pain_pre, pain_post, pain_region,
       techniques, focus_muscles, homecare, plan
FROM marts.visit_outcomes
WHERE client_id = ?
ORDER BY visit_date, visit_number
