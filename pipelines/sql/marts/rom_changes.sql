-- Grain: one row per visit × joint × movement × side with a pre and/or post reading.
with

rom as (
    select * from core.rom
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
        paired.degrees_post - paired.degrees_pre as degrees_change
    from paired
)

select * from final
