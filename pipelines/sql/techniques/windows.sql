-- Mean self-reported pain in the $window days before and after each filtered visit (the
-- self-report outcome only; visits.sql joins it).
create or replace temp table tq_windows as

with

visits as (
    select filtered.visit_id, filtered.client_id, filtered.visit_date
    from (/*filtered_visits*/) as filtered
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
