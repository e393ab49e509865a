-- One client's trigger point findings, each with its visit's date.
select visit_id, visit_date, visit_number, muscle, side, referral_region, tenderness, released
from marts.trigger_points
where client_id = ?
order by visit_date, visit_id, muscle, side
