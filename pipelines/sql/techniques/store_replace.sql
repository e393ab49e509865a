-- One stored result per (outcome, minimum clients per arm): the newest replaces the old.
delete from technique_cache.reports where outcome = $outcome and min_clients = $min_clients;
insert into technique_cache.reports values ($outcome, $min_clients, $fingerprint, now(), $payload);
