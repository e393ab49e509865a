-- One row per client who answered PGIC ("since starting, how are you?") after their first visit:
-- pain at the first visit (before treatment), and pain and PGIC from the client's latest report that
-- has both.  One report per client keeps the clients independent (the bootstrap resamples clients).
-- Clients who answered PGIC but cannot be used are kept with the reason, so every one is accounted for.
with

first_visits as (
    select
        client_id,
        arg_min(pain_pre, visit_number) as baseline
    from marts.visit_outcomes
    group by client_id
),

answered as (
    select
        client_id,
        reported_at,
        pain,
        pgic,
        last_visit_id
    from marts.self_reports
    where pgic is not null
),

latest as (
    select
        client_id,
        arg_max(pain, reported_at) filter (where pain is not null and last_visit_id is not null) as pain_now,
        arg_max(pgic, reported_at) filter (where pain is not null and last_visit_id is not null) as pgic,
        count(*) filter (where last_visit_id is not null) as n_after_first_visit,
        count(*) filter (where pain is not null and last_visit_id is not null) as n_usable
    from answered
    group by client_id
),

final as (
    select
        latest.client_id,
        first_visits.baseline,
        latest.pain_now,
        latest.pgic,
        case
            when latest.n_after_first_visit = 0 then 'PGIC answered only before the first visit'
            when latest.n_usable = 0 then 'no pain score in the report with the PGIC answer'
            when first_visits.baseline is null then 'no pain score before treatment at the first visit'
        end as left_out
    from latest
    left join first_visits on first_visits.client_id = latest.client_id
)

select * from final
order by client_id
