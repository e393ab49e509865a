-- Mean self-reported pain in the $window days before and after each filtered visit (the
-- self-report outcome only; visits.sql joins it).
CREATE OR REPLACE TEMP TABLE tq_windows AS

with

visits AS (
    SELECT filtered.visit_id, filtered.client_id, filtered.visit_date
    FROM (/*filtered_visits*/) AS filtered
),

self_reports AS (
    SELECT client_id, CAST(reported_at AS date) AS reported_on, pain FROM core.self_reports
),

final AS (
    SELECT
        visits.visit_id,
        avg(self_reports.pain) FILTER (WHERE self_reports.reported_on < visits.visit_date) AS self_pain_before_7d,
        avg(self_reports.pain) FILTER (WHERE self_reports.reported_on > visits.visit_date) AS self_pain_after_7d
    FROM visits
    INNER JOIN self_reports
        ON self_reports.client_id = visits.client_id
        AND self_reports.reported_on BETWEEN visits.visit_date - $window AND visits.visit_date + $window
        AND self_reports.reported_on <> visits.visit_date
    GROUP BY visits.visit_id
)

SELECT * FROM final
