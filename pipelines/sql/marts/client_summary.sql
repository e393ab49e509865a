-- Grain: one row per client (every client, including those with no visits yet).
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
WITH

clients AS (
    SELECT * FROM core.clients
),

client_progress AS (
    SELECT * FROM marts.client_progress
),

per_client AS (
    SELECT
        client_id,
        count(*) AS n_visits,
        min(visit_date) AS first_visit_date,
        max(visit_date) AS last_visit_date,
        max(baseline_pain) AS baseline_pain,
        arg_max(pain_pre, visit_number) FILTER (WHERE pain_pre IS NOT NULL) AS latest_pain,
        max(visit_number) FILTER (WHERE pain_pre IS NOT NULL) AS latest_pain_visit_number
    FROM client_progress
    GROUP BY client_id
),

final AS (
    SELECT
        clients.client_id,
        clients.display_name,
        clients.primary_complaint,
        clients.complaint_region,
        clients.status,
        clients.intake_date,
        coalesce(per_client.n_visits, 0) AS n_visits,
        per_client.first_visit_date,
        per_client.last_visit_date,
        per_client.baseline_pain,
        per_client.latest_pain,
        per_client.latest_pain_visit_number,
        per_client.latest_pain - per_client.baseline_pain AS change_from_baseline,
        CASE WHEN per_client.baseline_pain > 0
            THEN (per_client.latest_pain - per_client.baseline_pain) / per_client.baseline_pain * 100
        END AS pct_change_from_baseline
    FROM clients
    LEFT JOIN per_client ON per_client.client_id = clients.client_id
)

SELECT * FROM final
ORDER BY client_id
