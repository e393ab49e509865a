-- Grain: one row per client (every client, including those with no visits yet).
-- Stored sorted by client so a one-client read skips other clients' row groups (zone maps).
with

clients as (
    select * from core.clients
),

client_progress as (
    select * from marts.client_progress
),

per_client as (
    select
        client_id,
        count(*) as n_visits,
        min(visit_date) as first_visit_date,
        max(visit_date) as last_visit_date,
        max(baseline_pain) as baseline_pain,
        arg_max(pain_pre, visit_number) filter (where pain_pre is not null) as latest_pain,
        max(visit_number) filter (where pain_pre is not null) as latest_pain_visit_number
    from client_progress
    group by client_id
),

final as (
    select
        clients.client_id,
        clients.display_name,
        clients.primary_complaint,
        clients.complaint_region,
        clients.status,
        clients.intake_date,
        coalesce(per_client.n_visits, 0) as n_visits,
        per_client.first_visit_date,
        per_client.last_visit_date,
        per_client.baseline_pain,
        per_client.latest_pain,
        per_client.latest_pain_visit_number,
        per_client.latest_pain - per_client.baseline_pain as change_from_baseline,
        case when per_client.baseline_pain > 0
            then (per_client.latest_pain - per_client.baseline_pain) / per_client.baseline_pain * 100
        end as pct_change_from_baseline
    from clients
    left join per_client on per_client.client_id = clients.client_id
)

select * from final
order by client_id
