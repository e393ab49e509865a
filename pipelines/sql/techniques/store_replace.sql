-- One stored result per (outcome, minimum clients per arm): the newest replaces the old.
DELETE FROM technique_cache.reports WHERE outcome = $outcome AND min_clients = $min_clients;
INSERT INTO technique_cache.reports VALUES ($outcome, $min_clients, $fingerprint, now(), $payload);
