-- Grain: one row per between-visit self-report.
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
-- days_since_last_visit = days from the client's most recent visit on or before the report
-- (NULL when the report came before the first visit); last_visit_number is that visit's number.
WITH

self_reports AS (
    SELECT * FROM core.self_reports
),

visit_outcomes AS (
    SELECT * FROM marts.visit_outcomes
),

matched AS (
    SELECT
        self_reports.client_id,
        self_reports.reported_at,
        self_reports.pain,
        self_reports.region,
        self_reports.did_homecare,
        self_reports.pgic,
        self_reports.note,
        self_reports.source,
        visit_outcomes.visit_id AS last_visit_id,
        visit_outcomes.visit_date AS last_visit_date,
        visit_outcomes.visit_number AS last_visit_number
    FROM self_reports
    ASOF LEFT JOIN visit_outcomes
        ON visit_outcomes.client_id = self_reports.client_id
        AND CAST(self_reports.reported_at AS date) >= visit_outcomes.visit_date
),

final AS (
    SELECT
        matched.client_id,
        matched.reported_at,
        CAST(matched.reported_at AS date) AS report_date,
        matched.pain,
        matched.region,
        matched.did_homecare,
        matched.pgic,
        matched.note,
        matched.source,
        matched.last_visit_id,
        matched.last_visit_date,
        matched.last_visit_number,
        date_diff('day', matched.last_visit_date, CAST(matched.reported_at AS date)) AS days_since_last_visit
    FROM matched
)

SELECT * FROM final
ORDER BY client_id, reported_at
