-- One row per client who answered PGIC ("since starting, how are you?") after their first visit:
-- pain at the first visit (before treatment), and pain and PGIC from the client's latest report that
-- has both.  One report per client keeps the clients independent (the bootstrap resamples clients).
-- Clients who answered PGIC but cannot be used are kept with the reason, so every one is accounted for.
WITH

first_visits AS (
    SELECT
        client_id,
        arg_min(pain_pre, visit_number) AS baseline
    FROM marts.visit_outcomes
    GROUP BY client_id
),

answered AS (
    SELECT
        client_id,
        reported_at,
        pain,
        pgic,
        last_visit_id
    FROM marts.self_reports
    WHERE pgic IS NOT NULL
),

latest AS (
    SELECT
        client_id,
        arg_max(pain, reported_at) FILTER (WHERE pain IS NOT NULL AND last_visit_id IS NOT NULL) AS pain_now,
        arg_max(pgic, reported_at) FILTER (WHERE pain IS NOT NULL AND last_visit_id IS NOT NULL) AS pgic,
        count(*) FILTER (WHERE last_visit_id IS NOT NULL) AS n_after_first_visit,
        count(*) FILTER (WHERE pain IS NOT NULL AND last_visit_id IS NOT NULL) AS n_usable
    FROM answered
    GROUP BY client_id
),

final AS (
    SELECT
        latest.client_id,
        first_visits.baseline,
        latest.pain_now,
        latest.pgic,
        CASE
            WHEN latest.n_after_first_visit = 0 THEN 'PGIC answered only before the first visit'
            WHEN latest.n_usable = 0 THEN 'no pain score in the report with the PGIC answer'
            WHEN first_visits.baseline IS NULL THEN 'no pain score before treatment at the first visit'
        END AS left_out
    FROM latest
    LEFT JOIN first_visits ON first_visits.client_id = latest.client_id
)

SELECT * FROM final
ORDER BY client_id
