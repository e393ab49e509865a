-- Grain: one row per questionnaire taken (client × date × instrument), items as recorded.
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
-- Scoring happens in Python (pipelines.questionnaires.score_frame), one formula for every reader.
WITH

outcome_measures AS (
    SELECT * FROM core.outcome_measures
),

final AS (
    SELECT
        outcome_measures.* exclude (source_import, source_line, updated_at)
    FROM outcome_measures
)

SELECT * FROM final
ORDER BY client_id, taken_on, instrument
