"""Small Streamlit pieces shared by several pages (the pages themselves stay thin)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import queries


def clients_or_stop(db: str, ver: str) -> pd.DataFrame:
    """The practice's clients; on an empty database, say what to do and stop the page."""
    clients = queries.clients(db, ver)
    if clients.empty:
        st.info("No clients in this database yet. Import your clients and visits with "
                "`knotwork ingest clients.csv visits.csv …`, or try the demo practice with `knotwork demo`.",
                icon=":material/person_add:")
        st.stop()
    return clients


def date_input_format(settings: dict) -> str:
    """The date-picker format that matches the practice's day/month order setting."""
    return "MM/DD/YYYY" if settings.get("import", {}).get("date_order") == "month_first" else "DD/MM/YYYY"
