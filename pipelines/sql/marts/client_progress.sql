-- Grain: one row per client per visit.
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
-- baseline_pain = pain_pre at the client's first visit that has one; change is measured on
-- pain_pre (how the client arrives), which is the between-visit outcome (docs/clinical.md §1.4:
-- within-session drops are a separate, weaker metric).
with

visit_outcomes as (
    select * from marts.visit_outcomes
),

clients as (
    select * from core.clients
),

with_baseline as (
    select
        visit_outcomes.client_id,
        visit_outcomes.visit_id,
        visit_outcomes.visit_date,
        visit_outcomes.visit_number,
        visit_outcomes.pain_pre,
        visit_outcomes.pain_post,
        first(visit_outcomes.pain_pre ignore nulls) over (
            partition by visit_outcomes.client_id
            order by visit_outcomes.visit_number
            rows between unbounded preceding and unbounded following
        ) as baseline_pain,
        first(visit_outcomes.visit_date) over (
            partition by visit_outcomes.client_id
            order by visit_outcomes.visit_number
            rows between unbounded preceding and unbounded following
        ) as first_visit_date
    from visit_outcomes
),

final as (
    select
        with_baseline.client_id,
        clients.display_name,
        clients.complaint_region,
        clients.status,
        with_baseline.visit_id,
        with_baseline.visit_date,
        with_baseline.visit_number,
        date_diff('day', with_baseline.first_visit_date, with_baseline.visit_date) as days_since_first_visit,
        with_baseline.baseline_pain,
        with_baseline.pain_pre,
        with_baseline.pain_post,
        with_baseline.pain_pre - with_baseline.baseline_pain as change_from_baseline,
        case when with_baseline.baseline_pain > 0
            then (with_baseline.pain_pre - with_baseline.baseline_pain) / with_baseline.baseline_pain * 100
        end as pct_change_from_baseline
    from with_baseline
    left join clients on clients.client_id = with_baseline.client_id
)

select * from final
order by client_id, visit_number
