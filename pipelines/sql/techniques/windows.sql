-- Mean self-reported pain in the $window days before and after each filtered visit (the
-- self-report outcome only; visits.sql joins it).  Filters as in visits.sql.
create or replace temp table tq_windows as

with

visits as (
    select visit_outcomes.visit_id, visit_outcomes.client_id, visit_outcomes.visit_date
    from marts.visit_outcomes as visit_outcomes
    left join core.clients as clients on clients.client_id = visit_outcomes.client_id
    where ($regions is null or list_contains($regions, coalesce(clients.complaint_region, 'unspecified')))
        and ($therapists is null or list_contains($therapists, coalesce(visit_outcomes.therapist, 'unspecified')))
        and ($date_from is null or visit_outcomes.visit_date >= $date_from)
        and ($date_to is null or visit_outcomes.visit_date <= $date_to)
),

self_reports as (
    select client_id, cast(reported_at as date) as reported_on, pain from core.self_reports
),

final as (
    select
        visits.visit_id,
        avg(self_reports.pain) filter (where self_reports.reported_on < visits.visit_date) as self_pain_before_7d,
        avg(self_reports.pain) filter (where self_reports.reported_on > visits.visit_date) as self_pain_after_7d
    from visits
    inner join self_reports
        on self_reports.client_id = visits.client_id
        and self_reports.reported_on between visits.visit_date - $window and visits.visit_date + $window
        and self_reports.reported_on <> visits.visit_date
    group by visits.visit_id
)

select * from final
