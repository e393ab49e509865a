-- Knotwork schema, version 1: the four layers.
--   raw      what came in, byte for byte, with file and line
--   staging  the last import of each kind, renamed and cast (no joins, no logic)
--   core     clean keyed tables, one row per natural key
--   marts    tables named by grain, rebuilt from core after every write; all the dashboard reads
-- Keys are enforced by the import pipeline and checked by tests, not by indexes:
-- DuckDB's ART indexes turn upserts into delete+insert and can fire spurious
-- duplicate-key errors (docs/engineering.md §2 "Idempotent upserts").

CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE meta.migrations (name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL);

CREATE SEQUENCE raw.import_id_seq START 1;

-- One row per distinct file content (sha256); re-importing the same bytes stores nothing new.
CREATE TABLE raw.files (
    file_hash   VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    first_path  VARCHAR NOT NULL,
    headers     VARCHAR[] NOT NULL,
    n_rows      BIGINT NOT NULL,
    stored_at   TIMESTAMP NOT NULL
);

-- Every data row of every distinct file, as text, keyed by file and line.
CREATE TABLE raw.rows (
    file_hash   VARCHAR NOT NULL,
    line        BIGINT NOT NULL,
    payload     VARCHAR NOT NULL  -- JSON object: original header -> cell text
);

-- One row per import run (a file imported twice gives two runs).
CREATE TABLE raw.imports (
    import_id   BIGINT NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    path        VARCHAR NOT NULL,
    file_hash   VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    mapping     VARCHAR,
    rows_read   BIGINT NOT NULL,
    inserted    BIGINT NOT NULL,
    updated     BIGINT NOT NULL,
    unchanged   BIGINT NOT NULL,
    rejected    BIGINT NOT NULL,
    notes       VARCHAR[]
);

CREATE TABLE raw.rejects (
    import_id   BIGINT NOT NULL,
    path        VARCHAR NOT NULL,
    line        BIGINT NOT NULL,
    column_name VARCHAR,
    value       VARCHAR,
    reason      VARCHAR NOT NULL
);

-- Kept rows with something worth a second look (a new technique, a ROM value beyond the norm).
CREATE TABLE raw.warnings (
    import_id   BIGINT NOT NULL,
    path        VARCHAR NOT NULL,
    line        BIGINT NOT NULL,
    column_name VARCHAR,
    value       VARCHAR,
    message     VARCHAR NOT NULL
);

CREATE TABLE core.clients (
    client_id         VARCHAR NOT NULL,
    display_name      VARCHAR NOT NULL,
    birth_year        INTEGER,
    sex               VARCHAR,
    primary_complaint VARCHAR,
    complaint_region  VARCHAR,
    intake_date       DATE,
    status            VARCHAR,
    notes             VARCHAR,
    source_import     BIGINT,
    source_line       BIGINT,
    updated_at        TIMESTAMP
);

CREATE TABLE core.visits (
    visit_id         VARCHAR NOT NULL,
    client_id        VARCHAR NOT NULL,
    visit_date       DATE NOT NULL,
    therapist        VARCHAR,
    duration_min     INTEGER,
    pressure         INTEGER,
    pain_pre         DOUBLE,
    pain_post        DOUBLE,
    pain_region      VARCHAR,
    techniques       VARCHAR[],
    focus_muscles    VARCHAR[],
    client_feedback  VARCHAR,
    homecare         VARCHAR,
    notes            VARCHAR,
    visit_id_derived BOOLEAN NOT NULL DEFAULT false,
    source_import    BIGINT,
    source_line      BIGINT,
    updated_at       TIMESTAMP
);

CREATE TABLE core.rom (
    visit_id      VARCHAR NOT NULL,
    joint         VARCHAR NOT NULL,
    movement      VARCHAR NOT NULL,
    side          VARCHAR NOT NULL,   -- left / right / none
    timing        VARCHAR NOT NULL,   -- pre / post
    degrees       DOUBLE NOT NULL,
    instrument    VARCHAR,
    measured_by   VARCHAR,
    source_import BIGINT,
    source_line   BIGINT,
    updated_at    TIMESTAMP
);

CREATE TABLE core.self_reports (
    client_id     VARCHAR NOT NULL,
    reported_at   TIMESTAMP NOT NULL,
    pain          DOUBLE NOT NULL,
    region        VARCHAR,
    did_homecare  BOOLEAN,
    pgic          INTEGER,
    note          VARCHAR,
    source        VARCHAR NOT NULL DEFAULT 'import',  -- import / link / form
    source_import BIGINT,
    source_line   BIGINT,
    updated_at    TIMESTAMP
);

CREATE TABLE core.trigger_points (
    visit_id        VARCHAR NOT NULL,
    muscle          VARCHAR NOT NULL,
    side            VARCHAR NOT NULL,
    referral_region VARCHAR,
    tenderness      DOUBLE,
    released        VARCHAR,
    source_import   BIGINT,
    source_line     BIGINT,
    updated_at      TIMESTAMP
);

CREATE TABLE core.outcome_measures (
    client_id     VARCHAR NOT NULL,
    taken_on      DATE NOT NULL,
    instrument    VARCHAR NOT NULL,
    item_1 DOUBLE, item_2 DOUBLE, item_3 DOUBLE, item_4 DOUBLE, item_5 DOUBLE,
    item_6 DOUBLE, item_7 DOUBLE, item_8 DOUBLE, item_9 DOUBLE, item_10 DOUBLE,
    item_11 DOUBLE, item_12 DOUBLE, item_13 DOUBLE, item_14 DOUBLE, item_15 DOUBLE,
    item_16 DOUBLE, item_17 DOUBLE, item_18 DOUBLE, item_19 DOUBLE, item_20 DOUBLE,
    total_score   DOUBLE,
    source_import BIGINT,
    source_line   BIGINT,
    updated_at    TIMESTAMP
);

-- Values accepted as practice-defined vocabulary entries, with the closest known entry.
CREATE TABLE core.vocabulary_extensions (
    vocabulary   VARCHAR NOT NULL,
    value        VARCHAR NOT NULL,
    closest      VARCHAR,
    first_import BIGINT
);
