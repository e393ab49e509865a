-- Knotwork schema, version 4: one audit log for everything that changes or leaves the record
-- (issue 8), with who did it.
--
-- New columns (nullable in the table so the ALTER works on any existing database; the
-- writer, pipelines/warehouse/audit.py, always fills actor):
--   actor      who, in words a practice understands: "anna (command line)",
--              "therapist (dashboard)" (one practice password, no personal accounts, so the
--              dashboard cannot say which therapist), "client via share link".
--   client_id  the client the row is about, when there is one (filtering by client).
--   detail     one human sentence ("visits.csv: 120 rows read: 100 loaded, 2 rejected").
-- Actions now: insert / update / delete (forms), import, export (reports), share / revoke
-- (links; the key is the link id, a token never appears), backup / restore, password.

ALTER TABLE meta.audit ADD COLUMN actor VARCHAR;
ALTER TABLE meta.audit ADD COLUMN client_id VARCHAR;
ALTER TABLE meta.audit ADD COLUMN detail VARCHAR;

-- Rows written before this version came only from the dashboard's forms (0003), but nobody
-- recorded who; say exactly that rather than guess.
UPDATE meta.audit SET
    actor = 'therapist (dashboard; recorded before Knotwork kept who)',
    client_id = CASE kind
        WHEN 'clients' THEN key
        WHEN 'outcome_measures' THEN split_part(key, '|', 1)
        ELSE coalesce(json_extract_string(after, '$.client_id'), json_extract_string(before, '$.client_id'))
    END;

-- Earlier imports are already in raw.imports with their counts: copy one row for each, so the
-- log is complete from the first import on.
INSERT INTO meta.audit (audit_id, "at", action, kind, key, before, after, actor, client_id, detail)
SELECT nextval('meta.audit_id_seq'), started_at, 'import', kind, CAST(import_id AS VARCHAR), NULL,
       json_object('path', path, 'rows_read', rows_read, 'inserted', inserted, 'updated', updated,
                   'unchanged', unchanged, 'rejected', rejected),
       'not recorded (imported before Knotwork kept who)', NULL,
       path || ': ' || rows_read || ' rows read: ' || inserted || ' loaded, ' || updated || ' updated, '
            || unchanged || ' unchanged, ' || rejected || ' rejected'
FROM raw.imports
ORDER BY import_id;
