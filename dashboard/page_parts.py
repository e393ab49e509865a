"""Small Streamlit pieces shared by several pages (the pages themselves stay thin)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.queries import therapist as queries
from pipelines.entry import forms as entry
from pipelines.warehouse.db import DatabaseBusy


def clients_or_stop(db: str, ver: str) -> pd.DataFrame:
    """The practice's clients; on an empty database, say what to do and stop the page."""
    clients = queries.clients(db, ver)
    if clients.empty:
        st.info(
            "No clients in this database yet. Import your clients and visits with "
            "`knotwork ingest clients.csv visits.csv …`, or try the demo practice with `knotwork demo`.",
            icon=":material/person_add:",
        )
        st.stop()
    return clients


def date_input_format(settings: dict) -> str:
    """The date-picker format that matches the practice's day/month order setting."""
    return "MM/DD/YYYY" if settings.get("import", {}).get("date_order") == "month_first" else "DD/MM/YYYY"


def not_saved_busy(busy: DatabaseBusy, button: str) -> None:
    """A form's save waited its bound (pipelines.warehouse.db.FORM_WAIT_S) for an import: say so, keep the form.

    Shown in the same run, without st.rerun, so every value typed stays in its widget."""
    what = f" ({busy.activity})" if busy.activity else ""
    st.warning(
        f"**Not saved yet**: the data is being updated right now{what}. Everything you entered is still "
        f"here; press **{button}** again in a moment.",
        icon=":material/hourglass_top:",
    )


# The forms' own reads, cached by data version like every page read (dashboard/queries/therapist.py).  While
# an import holds the database the version stays the one from before it (pipelines.warehouse.db.data_version),
# so a form page keeps drawing from these and a Save reaches the "not saved yet" message above,
# which keeps everything typed, the rows of readings included, instead of the page-wide "being updated".
@st.cache_data(ttl=queries.TTL, max_entries=queries.MAX_ENTRIES, show_spinner=False)
def last_rom_set(db: str, ver: str, client_id: str) -> list[dict]:
    return entry.last_rom_set(client_id, db=db)


@st.cache_data(ttl=queries.TTL, max_entries=queries.MAX_ENTRIES, show_spinner=False)
def next_client_id(db: str, ver: str) -> str:
    return entry.next_client_id(db)


@st.cache_data(ttl=queries.TTL, max_entries=queries.MAX_ENTRIES, show_spinner=False)
def load_client(db: str, ver: str, client_id: str) -> entry.ClientEntry | None:
    return entry.load_client(client_id, db=db)
