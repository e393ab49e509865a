"""Every client in one table (Clients page), filtered by status."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.charts import progress as charts
from dashboard.components.client_form import STATUS_LABELS


def client_table(clients: pd.DataFrame) -> None:
    """``clients``: ``queries.entry.all_clients`` (status, complaint, visit count, last visit)."""
    st.subheader("All clients")
    if clients.empty:
        st.info(
            "No clients yet: add the first one above, or import a clients file on the Import page.",
            icon=":material/group_add:",
        )
        return
    show = st.segmented_control(
        "Show", ["Active", "Discharged", "Referred out", "All"], default="Active", key="cl_filter"
    )
    status_key = {"Active": "active", "Discharged": "discharged", "Referred out": "referred_out"}.get(show or "All")
    table = clients if status_key is None else clients[clients["status"].fillna("active") == status_key]
    st.dataframe(
        pd.DataFrame(
            {
                "Code": table["client_id"],
                "Name": table["display_name"],
                "Status": table["status"].map(
                    lambda s: STATUS_LABELS.get(s, charts.pretty(s)) if isinstance(s, str) else "—"
                ),
                "Complaint": table["primary_complaint"].fillna("—"),
                "Region": table["complaint_region"].map(charts.pretty),
                "Visits": table["n_visits"].fillna(0).astype(int),
                "Last visit": pd.to_datetime(table["last_visit"]),
            }
        ),
        hide_index=True,
        key="cl_table",
        column_config={"Last visit": st.column_config.DateColumn(format="DD MMM YYYY")},
    )
    st.caption(f"{len(table)} of {len(clients)} clients. Pick one above to edit them or change their status.")
