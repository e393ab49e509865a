-- Knotwork schema, version 3: an audit trail for changes made through the app's forms (issue 6).
--
-- Every add, edit and delete of a client, visit or questionnaire made in the dashboard
-- (pipelines/entry/forms.py) writes one row here, in the same transaction as the change itself.
-- `key` is the natural key as text (client_id, visit_id, or client_id|taken_on|instrument);
-- `before` is NULL for an insert and `after` is NULL for a delete.  A visit's JSON includes its
-- ROM readings and trigger points, so a deleted visit can be rebuilt from its audit row.
-- Imports are audited by raw.imports / raw.rejects instead.

CREATE SEQUENCE meta.audit_id_seq START 1;

CREATE TABLE meta.audit (
    audit_id BIGINT NOT NULL,
    "at"     TIMESTAMP NOT NULL,  -- quoted: AT is a keyword in DuckDB
    action   VARCHAR NOT NULL,   -- insert / update / delete
    kind     VARCHAR NOT NULL,   -- clients / visits / outcome_measures
    key      VARCHAR NOT NULL,
    before   JSON,
    after    JSON
);
