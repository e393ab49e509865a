-- One client's own reports between visits.
select reported_at, pain, region, did_homecare, pgic, note, source
from core.self_reports
where client_id = ?
order by reported_at
