-- Pain before each visit with what describes the client at the start (first pain score, complaint
-- region, age band at the first visit), for the expected course (pipelines/techniques/course.py).
-- One row per visit that has a pain score before the visit.
with

scored as (
    select
        visit_outcomes.client_id,
        visit_outcomes.visit_date,
        cast(visit_outcomes.visit_number as double) as visit_number,
        cast(visit_outcomes.pain_pre as double) as pain_pre
    from marts.visit_outcomes as visit_outcomes
    where visit_outcomes.pain_pre is not null
),

starts as (
    select
        client_id,
        arg_min(pain_pre, visit_number) as baseline,
        min(visit_number) as baseline_visit,
        min(visit_date) as first_date
    from scored
    group by client_id
),

final as (
    select
        scored.client_id,
        scored.visit_date,
        scored.visit_number,
        scored.pain_pre,
        starts.baseline,
        starts.baseline_visit,
        coalesce(clients.complaint_region, 'unspecified') as complaint_region,
        case
            when clients.birth_year is null then 'unknown'
            when year(starts.first_date) - clients.birth_year < 30 then 'under 30'
            when year(starts.first_date) - clients.birth_year < 45 then '30-44'
            when year(starts.first_date) - clients.birth_year < 60 then '45-59'
            else '60+'
        end as age_band
    from scored
    inner join starts on starts.client_id = scored.client_id
    left join core.clients as clients on clients.client_id = scored.client_id
)

select * from final
order by client_id, visit_number
