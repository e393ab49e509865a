-- A content fingerprint of everything the default technique analysis reads (the visits mart
-- and the clients' complaint regions): a stored result is used only while this is unchanged,
-- so a writer that does not refresh it (a form, a restore) can never leave a stale result.
SELECT
    (SELECT count(*) FROM marts.visit_outcomes) AS n_visits,
    (SELECT bit_xor(hash(visit_id, client_id, visit_date, visit_number, therapist, pressure, techniques, technique_set, pain_pre,
                         pain_post, pain_change, next_visit_date, carryover_change, rom_mean_change_deg))
     FROM marts.visit_outcomes) AS visits_hash,
    (SELECT count(*) FROM core.clients) AS n_clients,
    (SELECT bit_xor(hash(client_id, complaint_region)) FROM core.clients) AS clients_hash
