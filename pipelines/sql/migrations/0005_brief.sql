-- Knotwork schema, version 5: the between-clients brief (issue 15).
--
-- core.visits.plan   what the therapist plans for next time ("check SCM; add pec minor
--                    release"): data of its own, not buried in the visit notes.
-- meta.checkins_seen per client, the newest check-in the therapist has seen on the client's
--                    page.  A check-in reported after it is in the practice overview's inbox.
--                    Written only when a therapist opens that client's page.

ALTER TABLE core.visits ADD COLUMN plan VARCHAR;

CREATE TABLE meta.checkins_seen (
    client_id     VARCHAR PRIMARY KEY,
    seen_through  TIMESTAMP NOT NULL,  -- reported_at of the newest check-in seen
    seen_at       TIMESTAMP NOT NULL   -- when the client's page was opened
);
