"""The check-in inbox on the practice overview: clients who sent check-ins since their last visit
that the therapist has not yet seen on the client's page, each linking to that client.  Opening
the client's page marks them seen (``dashboard.components.brief.mark_seen``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.text import md
from pipelines.clinical.status import fmt

# Links drawn; the count above says how many clients there are in all.
SHOWN = 12


def _when(at, today: dt.date) -> str:
    day = pd.Timestamp(at).date()
    days = (today - day).days
    return {0: "today", 1: "yesterday"}.get(days, f"{day.day} {day:%b}")


def render(inbox: pd.DataFrame, today: dt.date) -> None:
    st.subheader("New check-ins")
    if inbox.empty:
        st.caption("No new check-ins: every check-in sent since a client's last visit has been seen on their page.")
        return
    n = int(inbox["n_checkins"].sum())
    st.caption(
        f"{n} check-in{'s' if n != 1 else ''} from {len(inbox)} client{'s' if len(inbox) != 1 else ''} since "
        "their last visit, not yet seen. Opening the client's page marks them seen."
    )
    for row in inbox.head(SHOWN).itertuples():
        k = int(row.n_checkins)
        label = (
            f"{row.display_name}: {k} new check-in{'s' if k != 1 else ''}, latest {_when(row.latest_at, today)}, "
            f"pain {fmt(row.latest_pain)}"
        )
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.page_link(
                "app_pages/client_progress.py",
                label=label,
                query_params={"client": row.client_id},
                icon=":material/mark_chat_unread:",
            )
            if isinstance(row.latest_note, str) and row.latest_note.strip():
                st.caption(f"“{md(row.latest_note.strip())}”")
    if len(inbox) > SHOWN:
        st.caption(f"Links to the {SHOWN} most recent of {len(inbox):,} clients.")
