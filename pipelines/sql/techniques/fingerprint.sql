-- A content fingerprint of everything the default technique analysis reads (the visits mart
-- and the clients' complaint regions): a stored result is used only while this is unchanged,
-- so a writer that does not refresh it (a form, a restore) can never leave a stale result.
select
    (select count(*) from marts.visit_outcomes) as n_visits,
    (select bit_xor(hash(visit_id, client_id, visit_date, visit_number, therapist, pressure, techniques, technique_set, pain_pre,
                         pain_post, pain_change, next_visit_date, carryover_change, rom_mean_change_deg))
     from marts.visit_outcomes) as visits_hash,
    (select count(*) from core.clients) as n_clients,
    (select bit_xor(hash(client_id, complaint_region)) from core.clients) as clients_hash
