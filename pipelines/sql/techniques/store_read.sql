-- The stored result for one outcome and minimum n, if the importer made one.
select fingerprint, payload
from technique_cache.reports
where outcome = $outcome and min_clients = $min_clients
