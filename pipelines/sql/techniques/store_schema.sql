-- Where the importer keeps the default (unfiltered) technique result of a large practice:
-- the dashboard only reads, so the writer computes it once per import (technique_sql.store_default_report).
CREATE SCHEMA IF NOT EXISTS technique_cache;
CREATE TABLE IF NOT EXISTS technique_cache.reports (
    outcome varchar,
    min_clients integer,
    fingerprint varchar,
    created_at timestamp,
    payload json
);
