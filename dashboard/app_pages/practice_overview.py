"""Practice overview: who is improving, who needs a different approach or a referral."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import metrics, page_parts
from dashboard.charts import progress as charts
from dashboard.components import inbox
from dashboard.components.body_map import practice_body_map
from dashboard.queries import brief as brief_queries
from dashboard.queries import client_response as response_queries
from dashboard.queries import therapist as queries
from dashboard.text import md
from pipelines.clinical.status import current_status

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
today = dt.date.today()

st.title("Practice overview")
clients = page_parts.clients_or_stop(db, ver)

weekly = queries.practice_weekly(db, ver)
# How many attention links are drawn under the table; the table itself lists every client.
MAX_LINKS = 12


@st.cache_data(ttl=queries.TTL, max_entries=16, show_spinner=False)
def client_figures(db: str, version: str, settings: dict) -> tuple[pd.DataFrame, int, int]:
    """Attention list and "clinically important improvement: k of n", once per data version and
    settings (a network has 100,000 clients: ~0.4 s that need not run on every click)."""
    every = queries.clients(db, version)
    readings, baselines = brief_queries.practice_readings(db, version)
    statuses = current_status(readings, baselines, settings)
    seen_twice = every[(every["n_visits"] >= 2) & every["baseline_pain"].notna() & every["latest_pain"].notna()]
    n_improved = (
        int(
            (
                metrics.pain_category_per_visit(seen_twice.rename(columns={"latest_pain": "pain_pre"}), settings)
                == "improved"
            ).sum()
        )
        if len(seen_twice)
        else 0
    )
    standings = response_queries.course_standings(db, version)
    return metrics.attention_list(every, statuses, settings, standings), n_improved, len(seen_twice)


attention, n_improved, n_seen_twice = client_figures(db, ver, settings)

# --- Headline -----------------------------------------------------------------------------
active = clients["status"].isna() | (clients["status"] == "active")
recent = weekly.tail(4)["n_visits"].sum() if len(weekly) else 0
before = weekly.iloc[-8:-4]["n_visits"].sum() if len(weekly) >= 8 else None
with st.container(horizontal=True):
    st.metric("Active clients", f"{int(active.sum()):,}", border=True, help=f"{len(clients):,} clients in total")
    st.metric(
        "Visits, last 4 weeks",
        f"{int(recent):,}",
        delta=None if before is None else f"{int(recent - before):+,}",
        border=True,
        delta_color="off",
        delta_description="vs the 4 weeks before",
        help="The four calendar weeks up to the practice's latest visit.",
    )
    st.metric(
        "Clinically important improvement",
        f"{n_improved:,} of {n_seen_twice:,}" if n_seen_twice else "n/a",
        border=True,
        help="Clients seen at least twice whose latest pain is " + metrics.pain_rule_text(settings) + ".",
    )
    st.metric("Need attention", f"{len(attention):,}", border=True)

inbox.render(brief_queries.checkin_inbox(db, ver), today)

# --- Needs attention ----------------------------------------------------------------------
st.subheader("Needs attention")
after = metrics.attention_after_visits(settings)
if attention.empty:
    st.success(
        "No active client is worse than at baseline or behind the expected course.", icon=":material/check_circle:"
    )
else:
    st.dataframe(
        pd.DataFrame(
            {
                "Client": attention["display_name"] + " (" + attention["client_id"] + ")",
                "Reason": attention["reason"],
                "Visits": attention["n_visits"].astype(int),
                "Baseline pain": attention["baseline_pain"],
                "Pain now": attention["pain_now"],
                "Change": attention["change_now"],
                "Last visit": pd.to_datetime(attention["last_visit_date"]).dt.date,
                "Complaint": attention["primary_complaint"].fillna("—"),
            }
        ),
        hide_index=True,
        key="po_attention",
        column_config={
            "Baseline pain": st.column_config.NumberColumn(format="%.1f"),
            "Pain now": st.column_config.NumberColumn(
                format="%.1f", help="The middle of the last three pain readings (before visits and check-ins)"
            ),
            "Change": st.column_config.NumberColumn(format="%+.1f"),
            "Last visit": st.column_config.DateColumn(format="D MMM YYYY"),
        },
    )
    # A link per client up to MAX_LINKS: a clinic group can have thousands on this list, and
    # thousands of buttons help nobody (the table above sorts and searches them all).
    with st.container(horizontal=True):
        for row in attention.head(MAX_LINKS).itertuples():
            st.page_link(
                "app_pages/client_progress.py",
                label=md(row.display_name),
                query_params={"client": row.client_id},
                icon=":material/arrow_forward:",
            )
    if len(attention) > MAX_LINKS:
        st.caption(
            f"Links to the first {MAX_LINKS} of {len(attention):,}. Search the table (its toolbar) or pick "
            "a client on Client progress for the others."
        )
st.caption(
    f"Active clients whose pain now (the middle of their last three readings, visits and check-ins, so one "
    "bad day does not list a client) is worse than at their first visit by more than measurement error or "
    "for two readings in a row, or whose latest pain is above the band where 80 % of this practice's clients "
    "like them (pain at the start, complaint, age, visit number) are at that visit. A practice too small to "
    f"model that lists instead clients with {after}+ visits and no clinically important improvement "
    f"({metrics.pain_rule_text(settings)}; the {after} is a practice setting, not a published threshold)."
)

# --- Charts -------------------------------------------------------------------------------
# Counts per (visit, baseline, pain) from SQL, not one row per client and visit: the same numbers
# at any practice size (a 100,000-client network has 1.2 million such rows).
progress = queries.practice_progress_counts(db, ver, metrics.MAX_VISIT_NUMBER)
by_visit = metrics.improvement_by_visit(progress, settings)
if by_visit["n_clients"].sum() == 0:
    st.info("Improvement by visit needs pain scores before visits.", icon=":material/info:")
else:
    st.plotly_chart(charts.improvement_by_visit_chart(by_visit), config=charts.PLOTLY_CONFIG, key="po_by_visit")
    st.caption(
        f"Improved = pain before visit k is {metrics.pain_rule_text(settings)} "
        f"({metrics.pain_rule_source(settings)}). n = clients seen at least k times; whiskers: 95 % Wilson "
        "intervals. Clients who stop coming drop out of later points, so later visits over-represent clients "
        "who stayed."
    )


@st.cache_data(ttl=queries.TTL, max_entries=16, show_spinner=False)
def relief_figure(db: str, version: str):
    """The relief histogram and its visit count, built once per data version: at network size the
    chart's own counting over 2.5 million values would otherwise run on every rerun."""
    counts = queries.practice_relief_counts(db, version)
    values = pd.DataFrame(
        {
            "pain_change": np.repeat(
                counts["pain_change"].to_numpy(dtype=float), counts["n_visits"].to_numpy(dtype=np.int64)
            )
        }
    )
    return (charts.relief_histogram(values) if len(values) else None), len(values)


relief_fig, n_relief = relief_figure(db, ver)
left, right = st.columns(2)
with left:
    if weekly.empty:
        st.info("No visits imported yet.", icon=":material/event_busy:")
    else:
        st.plotly_chart(charts.visits_per_week_chart(weekly), config=charts.PLOTLY_CONFIG, key="po_weekly")
with right:
    if relief_fig is None:
        st.info(
            "The distribution of immediate relief needs visits with pain recorded before and after.",
            icon=":material/info:",
        )
    else:
        st.plotly_chart(relief_fig, config=charts.PLOTLY_CONFIG, key="po_relief")
        st.caption(
            f"{n_relief:,} visits with pain recorded before and after. Blue: less pain after the visit; "
            "grey: no change; red: more pain. Relief within a visit is a weaker sign than lasting change "
            "between visits: pain often returns partly by the next visit."
        )

practice_body_map(db, ver, settings)
