-- Grain: one row per visit.
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
-- pain_change = pain_post - pain_pre (negative = relief); pain_pct_change is NULL when pain_pre = 0.
-- carryover_change = next visit's pain_pre - this visit's pain_pre (negative = lasting improvement).
WITH

visits AS (
    SELECT * FROM core.visits
),

rom_changes AS (
    SELECT * FROM marts.rom_changes
),

rom_per_visit AS (
    SELECT
        visit_id,
        count(*) FILTER (WHERE degrees_change IS NOT NULL) AS rom_n_paired,
        avg(degrees_change) AS rom_mean_change_deg,
        list(
            struct_pack(joint, movement, side, degrees_pre, degrees_post, degrees_change)
            ORDER BY joint, movement, side
        ) AS rom_changes
    FROM rom_changes
    GROUP BY visit_id
),

sequenced AS (
    SELECT
        visits.*,
        row_number() OVER per_client AS visit_number,
        lag(visits.visit_date) OVER per_client AS previous_visit_date,
        lead(visits.pain_pre) OVER per_client AS next_pain_pre,
        lead(visits.visit_date) OVER per_client AS next_visit_date
    FROM visits
    WINDOW per_client AS (PARTITION BY visits.client_id ORDER BY visits.visit_date, visits.visit_id)
),

final AS (
    SELECT
        sequenced.visit_id,
        sequenced.client_id,
        sequenced.visit_date,
        sequenced.visit_number,
        date_diff('day', sequenced.previous_visit_date, sequenced.visit_date) AS days_since_previous,
        sequenced.therapist,
        sequenced.duration_min,
        sequenced.pressure,
        sequenced.pain_region,
        coalesce(sequenced.techniques, []::varchar[]) AS techniques,
        array_to_string(list_sort(coalesce(sequenced.techniques, []::varchar[])), '+') AS technique_set,
        len(coalesce(sequenced.techniques, []::varchar[])) AS n_techniques,
        sequenced.focus_muscles,
        sequenced.pain_pre,
        sequenced.pain_post,
        sequenced.pain_post - sequenced.pain_pre AS pain_change,
        CASE WHEN sequenced.pain_pre > 0
            THEN (sequenced.pain_post - sequenced.pain_pre) / sequenced.pain_pre * 100
        END AS pain_pct_change,
        sequenced.next_visit_date,
        sequenced.next_pain_pre,
        sequenced.next_pain_pre - sequenced.pain_pre AS carryover_change,
        coalesce(rom_per_visit.rom_n_paired, 0) AS rom_n_paired,
        rom_per_visit.rom_mean_change_deg,
        rom_per_visit.rom_changes,
        sequenced.client_feedback,
        sequenced.homecare,
        sequenced.notes,
        sequenced.plan
    FROM sequenced
    LEFT JOIN rom_per_visit ON rom_per_visit.visit_id = sequenced.visit_id
)

SELECT * FROM final
ORDER BY client_id, visit_date, visit_id
