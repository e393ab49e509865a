-- Grain: one row per client per visit.
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
-- baseline_pain = pain_pre at the client's first visit that has one; change is measured on
-- pain_pre (how the client arrives), which is the between-visit outcome (docs/clinical.md §1.4:
-- within-session drops are a separate, weaker metric).
WITH

visit_outcomes AS (
    SELECT * FROM marts.visit_outcomes
),

clients AS (
    SELECT * FROM core.clients
),

with_baseline AS (
    SELECT
        visit_outcomes.client_id,
        visit_outcomes.visit_id,
        visit_outcomes.visit_date,
        visit_outcomes.visit_number,
        visit_outcomes.pain_pre,
        visit_outcomes.pain_post,
        first(visit_outcomes.pain_pre IGNORE NULLS) OVER (
            PARTITION BY visit_outcomes.client_id
            ORDER BY visit_outcomes.visit_number
            rows BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        ) AS baseline_pain,
        first(visit_outcomes.visit_date) OVER (
            PARTITION BY visit_outcomes.client_id
            ORDER BY visit_outcomes.visit_number
            rows BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        ) AS first_visit_date
    FROM visit_outcomes
),

final AS (
    SELECT
        with_baseline.client_id,
        clients.display_name,
        clients.complaint_region,
        clients.status,
        with_baseline.visit_id,
        with_baseline.visit_date,
        with_baseline.visit_number,
        date_diff('day', with_baseline.first_visit_date, with_baseline.visit_date) AS days_since_first_visit,
        with_baseline.baseline_pain,
        with_baseline.pain_pre,
        with_baseline.pain_post,
        with_baseline.pain_pre - with_baseline.baseline_pain AS change_from_baseline,
        CASE WHEN with_baseline.baseline_pain > 0
            THEN (with_baseline.pain_pre - with_baseline.baseline_pain) / with_baseline.baseline_pain * 100
        END AS pct_change_from_baseline
    FROM with_baseline
    LEFT JOIN clients ON clients.client_id = with_baseline.client_id
)

SELECT * FROM final
ORDER BY client_id, visit_number
