-- One client's visits in order, with their number (1 = first visit).
select visit_id, visit_date, visit_number, therapist, duration_min, pressure, pain_pre, pain_post, pain_region,
       techniques, focus_muscles, homecare, plan
from marts.visit_outcomes
where client_id = ?
order by visit_date, visit_number
