-- Grain: one row per calendar week (Monday start) from the practice's first to its last visit,
-- weeks without visits included (as zeros), so a chart shows gaps honestly.
WITH

visit_outcomes AS (
    SELECT * FROM marts.visit_outcomes
),

bounds AS (
    SELECT
        date_trunc('week', min(visit_date)) AS first_week,
        date_trunc('week', max(visit_date)) AS last_week
    FROM visit_outcomes
),

weeks AS (
    SELECT CAST(unnest(generate_series(bounds.first_week, bounds.last_week, interval 7 day)) AS date) AS week_start
    FROM bounds
    WHERE bounds.first_week IS NOT NULL
),

per_week AS (
    SELECT
        CAST(date_trunc('week', visit_date) AS date) AS week_start,
        count(*) AS n_visits,
        count(DISTINCT client_id) AS n_clients_seen,
        count(*) FILTER (WHERE visit_number = 1) AS n_first_visits,
        avg(pain_change) AS mean_pain_change
    FROM visit_outcomes
    GROUP BY 1
),

final AS (
    SELECT
        weeks.week_start,
        coalesce(per_week.n_visits, 0) AS n_visits,
        coalesce(per_week.n_clients_seen, 0) AS n_clients_seen,
        coalesce(per_week.n_first_visits, 0) AS n_first_visits,
        per_week.mean_pain_change
    FROM weeks
    LEFT JOIN per_week ON per_week.week_start = weeks.week_start
)

SELECT * FROM final
