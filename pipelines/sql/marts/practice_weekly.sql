-- Grain: one row per calendar week (Monday start) from the practice's first to its last visit,
-- weeks without visits included (as zeros), so a chart shows gaps honestly.
with

visit_outcomes as (
    select * from marts.visit_outcomes
),

bounds as (
    select
        date_trunc('week', min(visit_date)) as first_week,
        date_trunc('week', max(visit_date)) as last_week
    from visit_outcomes
),

weeks as (
    select cast(unnest(generate_series(bounds.first_week, bounds.last_week, interval 7 day)) as date) as week_start
    from bounds
    where bounds.first_week is not null
),

per_week as (
    select
        cast(date_trunc('week', visit_date) as date) as week_start,
        count(*) as n_visits,
        count(distinct client_id) as n_clients_seen,
        count(*) filter (where visit_number = 1) as n_first_visits,
        avg(pain_change) as mean_pain_change
    from visit_outcomes
    group by 1
),

final as (
    select
        weeks.week_start,
        coalesce(per_week.n_visits, 0) as n_visits,
        coalesce(per_week.n_clients_seen, 0) as n_clients_seen,
        coalesce(per_week.n_first_visits, 0) as n_first_visits,
        per_week.mean_pain_change
    from weeks
    left join per_week on per_week.week_start = weeks.week_start
)

select * from final
