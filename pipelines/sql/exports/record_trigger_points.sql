-- One client's trigger point findings, each with its visit's date.
SELECT visit_id, visit_date, visit_number, muscle, side, referral_region, tenderness, released
FROM marts.trigger_points
WHERE client_id = ?
ORDER BY visit_date, visit_id, muscle, side
