-- Grain: one row per questionnaire taken (client × date × instrument), items as recorded.
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
-- Scoring happens in Python (pipelines.questionnaires.score_frame), one formula for every reader.
with

outcome_measures as (
    select * from core.outcome_measures
),

final as (
    select
        outcome_measures.* exclude (source_import, source_line, updated_at)
    from outcome_measures
)

select * from final
order by client_id, taken_on, instrument
