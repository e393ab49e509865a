"""Practice overview: "Needs attention", the active clients doing worse than at baseline or behind the
expected course, with a link to each (up to MAX_LINKS) and the rule in plain words."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import metrics
from dashboard.text import md

# How many attention links are drawn under the table; the table itself lists every client.
MAX_LINKS = 12


def needs_attention(attention: pd.DataFrame, settings: dict) -> None:
    """``attention``: ``metrics.attention_list`` (through ``queries.practice.client_figures``)."""
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
