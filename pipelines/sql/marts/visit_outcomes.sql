-- Grain: one row per visit.
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
-- pain_change = pain_post - pain_pre (negative = relief); pain_pct_change is NULL when pain_pre = 0.
-- carryover_change = next visit's pain_pre - this visit's pain_pre (negative = lasting improvement).
with

visits as (
    select * from core.visits
),

rom_changes as (
    select * from marts.rom_changes
),

rom_per_visit as (
    select
        visit_id,
        count(*) filter (where degrees_change is not null) as rom_n_paired,
        avg(degrees_change) as rom_mean_change_deg,
        list(
            struct_pack(joint, movement, side, degrees_pre, degrees_post, degrees_change)
            order by joint, movement, side
        ) as rom_changes
    from rom_changes
    group by visit_id
),

sequenced as (
    select
        visits.*,
        row_number() over per_client as visit_number,
        lag(visits.visit_date) over per_client as previous_visit_date,
        lead(visits.pain_pre) over per_client as next_pain_pre,
        lead(visits.visit_date) over per_client as next_visit_date
    from visits
    window per_client as (partition by visits.client_id order by visits.visit_date, visits.visit_id)
),

final as (
    select
        sequenced.visit_id,
        sequenced.client_id,
        sequenced.visit_date,
        sequenced.visit_number,
        date_diff('day', sequenced.previous_visit_date, sequenced.visit_date) as days_since_previous,
        sequenced.therapist,
        sequenced.duration_min,
        sequenced.pressure,
        sequenced.pain_region,
        coalesce(sequenced.techniques, []::varchar[]) as techniques,
        array_to_string(list_sort(coalesce(sequenced.techniques, []::varchar[])), '+') as technique_set,
        len(coalesce(sequenced.techniques, []::varchar[])) as n_techniques,
        sequenced.focus_muscles,
        sequenced.pain_pre,
        sequenced.pain_post,
        sequenced.pain_post - sequenced.pain_pre as pain_change,
        case when sequenced.pain_pre > 0
            then (sequenced.pain_post - sequenced.pain_pre) / sequenced.pain_pre * 100
        end as pain_pct_change,
        sequenced.next_visit_date,
        sequenced.next_pain_pre,
        sequenced.next_pain_pre - sequenced.pain_pre as carryover_change,
        coalesce(rom_per_visit.rom_n_paired, 0) as rom_n_paired,
        rom_per_visit.rom_mean_change_deg,
        rom_per_visit.rom_changes,
        sequenced.client_feedback,
        sequenced.homecare,
        sequenced.notes,
        sequenced.plan
    from sequenced
    left join rom_per_visit on rom_per_visit.visit_id = sequenced.visit_id
)

select * from final
order by client_id, visit_date, visit_id
