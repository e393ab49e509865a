"""Practice overview: the four headline numbers (active clients, visits in the last 4 weeks, clinically
important improvement k of n, clients needing attention)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import metrics


def practice_headline(
    clients: pd.DataFrame, weekly: pd.DataFrame, n_improved: int, n_seen_twice: int, n_attention: int, settings: dict
) -> None:
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
        st.metric("Need attention", f"{n_attention:,}", border=True)
