-- Grain: one row per visit × joint × movement × side with a pre and/or post reading.
-- Stored sorted by client (client_id from the visit), so the client page's `client_id = ?`
-- reads only that client's row groups (DuckDB zone maps) instead of every reading.
with

rom as (
    select * from core.rom
),

visits as (
    select visit_id, client_id from core.visits
),

paired as (
    select
        visit_id,
        joint,
        movement,
        side,
        max(degrees) filter (where timing = 'pre') as degrees_pre,
        max(degrees) filter (where timing = 'post') as degrees_post,
        max(instrument) as instrument,
        max(measured_by) as measured_by
    from rom
    group by visit_id, joint, movement, side
),

final as (
    select
        paired.*,
        paired.degrees_post - paired.degrees_pre as degrees_change,
        visits.client_id
    from paired
    left join visits on visits.visit_id = paired.visit_id
)

select * from final
order by client_id, visit_id, joint, movement, side
