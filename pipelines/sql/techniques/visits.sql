-- Every visit that passes the page's filters, with the outcome chosen by $outcome, in a temp
-- table for the large-data (within-client) technique analysis (pipelines/techniques/large.py).
-- One row per visit; cc is a dense client code (0..clients-1) so numpy can index by client.
-- The 7-day self-report windows come from tq_windows (windows.sql for the self-report outcome,
-- windows_empty.sql otherwise: joining 12 million self-reports for nothing costs seconds).
CREATE OR REPLACE TEMP TABLE tq_visits AS

with

filtered AS (
    SELECT
        filtered_visits.visit_id,
        filtered_visits.client_id,
        filtered_visits.visit_date,
        filtered_visits.techniques,
        filtered_visits.technique_set,
        coalesce(CAST(filtered_visits.pressure AS varchar), 'unknown') AS pressure_label,
        filtered_visits.pain_pre,
        CAST(filtered_visits.visit_number AS double) AS visit_number,
        filtered_visits.pain_change,
        filtered_visits.carryover_change,
        ln(greatest(date_diff('day', filtered_visits.visit_date, filtered_visits.next_visit_date), 1)) AS log_days_to_next,
        filtered_visits.rom_mean_change_deg
    FROM (/*filtered_visits*/) AS filtered_visits
),

outcome AS (
    SELECT
        filtered.client_id,
        filtered.techniques,
        filtered.technique_set,
        filtered.pressure_label,
        filtered.pain_pre,
        filtered.visit_number,
        CASE $outcome
            WHEN 'pain_change' THEN filtered.pain_change
            WHEN 'carryover_change' THEN filtered.carryover_change
            WHEN 'self_report_change' THEN windows.self_pain_after_7d - windows.self_pain_before_7d
            WHEN 'rom_change' THEN filtered.rom_mean_change_deg
        END AS y,
        -- the outcome's own extra covariate (0 when it has none; see techniques.OUTCOMES)
        CASE $outcome
            WHEN 'carryover_change' THEN filtered.log_days_to_next
            WHEN 'self_report_change' THEN windows.self_pain_before_7d
            ELSE 0.0
        END AS extra
    FROM filtered
    LEFT JOIN tq_windows AS windows ON windows.visit_id = filtered.visit_id
),

flagged AS (
    SELECT
        outcome.*,
        -- the same exclusions, in the same order, as techniques.prepare
        CASE
            WHEN outcome.techniques IS NULL OR len(outcome.techniques) = 0 THEN 'no technique recorded'
            WHEN outcome.pain_pre IS NULL THEN 'no pain before the visit'
            WHEN outcome.y IS NULL THEN 'outcome missing'
            WHEN outcome.extra IS NULL OR NOT isfinite(outcome.extra) THEN 'extra covariate missing'
        END AS excluded_because
    FROM outcome
),

-- dense codes over the clients with at least one analysable visit (numpy indexes by them)
codes AS (
    SELECT client_id, CAST(row_number() OVER (ORDER BY client_id) - 1 AS integer) AS cc
    FROM (SELECT DISTINCT client_id FROM flagged WHERE excluded_because IS NULL)
),

final AS (
    SELECT
        codes.cc,
        flagged.techniques,
        flagged.technique_set,
        flagged.pressure_label,
        flagged.pain_pre,
        flagged.visit_number,
        flagged.y,
        flagged.extra,
        flagged.excluded_because
    FROM flagged
    LEFT JOIN codes ON codes.client_id = flagged.client_id
)

SELECT * FROM final
