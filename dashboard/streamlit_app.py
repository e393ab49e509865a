"""Knotwork dashboard: the entry point (``knotwork serve`` runs this file with Streamlit).

It owns the page set-up, the navigation and the one place where expected, non-bug
problems become friendly messages instead of tracebacks:

* no database file yet → how to make one;
* an import holding the write lock (``pipelines.db.DatabaseBusy``) → "data is being
  updated, try again in a moment";
* a database built by an older Knotwork without the marts this version reads → how to
  refresh it.

Pages live in ``dashboard/app_pages/`` and stay thin: read widgets, call
``dashboard.queries`` and ``dashboard.charts``, render.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st

from dashboard import access, queries
from pipelines.db import DatabaseBusy

# An emoji favicon is drawn locally (an inline SVG); a ":material/…:" favicon makes every browser
# that opens the app, a client's link included, fetch the icon from fonts.gstatic.com.
st.set_page_config(page_title="Knotwork", page_icon="🪢", layout="wide")
# Streamlit leaves 8 rem above the first element under the top navigation; a therapist
# opening a client before a visit should see the headline numbers without scrolling.
st.markdown("<style>[data-testid='stMainBlockContainer']{padding-top:3.5rem}</style>", unsafe_allow_html=True)

PAGES = [
    st.Page("app_pages/client_progress.py", title="Client progress", icon=":material/person:",
            url_path="client", default=True),
    st.Page("app_pages/log_visit.py", title="Log a visit", icon=":material/edit_note:", url_path="log"),
    st.Page("app_pages/clients.py", title="Clients", icon=":material/group_add:", url_path="clients"),
    st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:", url_path="import"),
    st.Page("app_pages/practice_overview.py", title="Practice overview", icon=":material/groups:",
            url_path="practice"),
    st.Page("app_pages/techniques.py", title="Technique response", icon=":material/science:",
            url_path="techniques"),
    st.Page("app_pages/sharing.py", title="Share with client", icon=":material/share:", url_path="share"),
    st.Page("app_pages/records.py", title="Records", icon=":material/history:", url_path="records"),
]

db = queries.current_db()
# Private links (?t=…), presentation mode and the therapist password come first: a client's
# session never builds the navigation below, so no therapist page can be reached from it.
if access.gate(db, pages=PAGES):
    st.stop()

page = st.navigation(PAGES, position="top")

if not Path(db).exists():
    st.title("Knotwork")
    st.info(
        f"There is no Knotwork database at `{db}` yet.\n\n"
        "Create one and import your files with `knotwork ingest clients.csv visits.csv … --db PATH`, "
        "or look around with the demo practice: `knotwork demo`.",
        icon=":material/database:")
    # Or start from nothing in the app: add clients on the Clients page, import on the Import page.
    if st.button("Start an empty practice here", key="create_db", icon=":material/add_circle:", type="primary"):
        from pipelines.db import write_connection
        from pipelines.marts import rebuild_marts

        with write_connection(db) as con:
            rebuild_marts(con)
        st.rerun()
    st.stop()

try:
    page.run()
except DatabaseBusy:
    st.warning("The data is being updated right now. Try again in a moment.", icon=":material/hourglass:")
    st.button("Try again", key="busy_retry")
except duckdb.CatalogException:
    st.warning(
        "This database was made by an older version of Knotwork and lacks tables this dashboard reads. "
        f"Refresh it with `knotwork init --db {db}` (your data is kept), then reload this page.",
        icon=":material/update:")

st.caption(f"Data: {queries.database_label(db)}. Nothing leaves this computer.")
access.sign_out_button(db)
