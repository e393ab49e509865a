-- Grain: one row per between-visit self-report.
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
-- days_since_last_visit = days from the client's most recent visit on or before the report
-- (NULL when the report came before the first visit); last_visit_number is that visit's number.
with

self_reports as (
    select * from core.self_reports
),

visit_outcomes as (
    select * from marts.visit_outcomes
),

matched as (
    select
        self_reports.client_id,
        self_reports.reported_at,
        self_reports.pain,
        self_reports.region,
        self_reports.did_homecare,
        self_reports.pgic,
        self_reports.note,
        self_reports.source,
        visit_outcomes.visit_id as last_visit_id,
        visit_outcomes.visit_date as last_visit_date,
        visit_outcomes.visit_number as last_visit_number
    from self_reports
    asof left join visit_outcomes
        on visit_outcomes.client_id = self_reports.client_id
        and cast(self_reports.reported_at as date) >= visit_outcomes.visit_date
),

final as (
    select
        matched.client_id,
        matched.reported_at,
        cast(matched.reported_at as date) as report_date,
        matched.pain,
        matched.region,
        matched.did_homecare,
        matched.pgic,
        matched.note,
        matched.source,
        matched.last_visit_id,
        matched.last_visit_date,
        matched.last_visit_number,
        date_diff('day', matched.last_visit_date, cast(matched.reported_at as date)) as days_since_last_visit
    from matched
)

select * from final
order by client_id, reported_at
