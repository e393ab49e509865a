-- Grain: one row per trigger point found in a visit (visit × muscle × side).
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
with

trigger_points as (
    select * from core.trigger_points
),

visit_outcomes as (
    select * from marts.visit_outcomes
),

final as (
    select
        visit_outcomes.client_id,
        trigger_points.visit_id,
        visit_outcomes.visit_date,
        visit_outcomes.visit_number,
        trigger_points.muscle,
        trigger_points.side,
        trigger_points.referral_region,
        trigger_points.tenderness,
        trigger_points.released
    from trigger_points
    inner join visit_outcomes on visit_outcomes.visit_id = trigger_points.visit_id
)

select * from final
order by client_id, visit_date, visit_id, muscle, side
