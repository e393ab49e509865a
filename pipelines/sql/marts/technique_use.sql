-- Grain: one row per visit and technique used in it.
with

visit_outcomes as (
    select * from marts.visit_outcomes
),

unnested as (
    select
        visit_outcomes.visit_id,
        unnest(visit_outcomes.techniques) as technique
    from visit_outcomes
),

final as (
    select
        unnested.visit_id,
        unnested.technique,
        visit_outcomes.client_id,
        visit_outcomes.visit_date,
        visit_outcomes.visit_number,
        visit_outcomes.pressure,
        visit_outcomes.n_techniques,
        visit_outcomes.technique_set,
        visit_outcomes.pain_pre,
        visit_outcomes.pain_post,
        visit_outcomes.pain_change,
        visit_outcomes.carryover_change
    from unnested
    inner join visit_outcomes on visit_outcomes.visit_id = unnested.visit_id
)

select * from final
