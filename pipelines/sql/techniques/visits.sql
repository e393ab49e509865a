-- Every visit that passes the page's filters, with the outcome chosen by $outcome, in a temp
-- table for the large-data (within-client) technique analysis (pipelines/techniques/large.py).
-- One row per visit; cc is a dense client code (0..clients-1) so numpy can index by client.
-- The 7-day self-report windows come from tq_windows (windows.sql for the self-report outcome,
-- windows_empty.sql otherwise: joining 12 million self-reports for nothing costs seconds).
create or replace temp table tq_visits as

with

filtered as (
    select
        filtered_visits.visit_id,
        filtered_visits.client_id,
        filtered_visits.visit_date,
        filtered_visits.techniques,
        filtered_visits.technique_set,
        coalesce(cast(filtered_visits.pressure as varchar), 'unknown') as pressure_label,
        filtered_visits.pain_pre,
        cast(filtered_visits.visit_number as double) as visit_number,
        filtered_visits.pain_change,
        filtered_visits.carryover_change,
        ln(greatest(date_diff('day', filtered_visits.visit_date, filtered_visits.next_visit_date), 1)) as log_days_to_next,
        filtered_visits.rom_mean_change_deg
    from (/*filtered_visits*/) as filtered_visits
),

outcome as (
    select
        filtered.client_id,
        filtered.techniques,
        filtered.technique_set,
        filtered.pressure_label,
        filtered.pain_pre,
        filtered.visit_number,
        case $outcome
            when 'pain_change' then filtered.pain_change
            when 'carryover_change' then filtered.carryover_change
            when 'self_report_change' then windows.self_pain_after_7d - windows.self_pain_before_7d
            when 'rom_change' then filtered.rom_mean_change_deg
        end as y,
        -- the outcome's own extra covariate (0 when it has none; see techniques.OUTCOMES)
        case $outcome
            when 'carryover_change' then filtered.log_days_to_next
            when 'self_report_change' then windows.self_pain_before_7d
            else 0.0
        end as extra
    from filtered
    left join tq_windows as windows on windows.visit_id = filtered.visit_id
),

flagged as (
    select
        outcome.*,
        -- the same exclusions, in the same order, as techniques.prepare
        case
            when outcome.techniques is null or len(outcome.techniques) = 0 then 'no technique recorded'
            when outcome.pain_pre is null then 'no pain before the visit'
            when outcome.y is null then 'outcome missing'
            when outcome.extra is null or not isfinite(outcome.extra) then 'extra covariate missing'
        end as excluded_because
    from outcome
),

-- dense codes over the clients with at least one analysable visit (numpy indexes by them)
codes as (
    select client_id, cast(row_number() over (order by client_id) - 1 as integer) as cc
    from (select distinct client_id from flagged where excluded_because is null)
),

final as (
    select
        codes.cc,
        flagged.techniques,
        flagged.technique_set,
        flagged.pressure_label,
        flagged.pain_pre,
        flagged.visit_number,
        flagged.y,
        flagged.extra,
        flagged.excluded_because
    from flagged
    left join codes on codes.client_id = flagged.client_id
)

select * from final
