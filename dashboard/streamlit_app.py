"""Knotwork dashboard: the entry point (``knotwork serve`` runs this file with Streamlit).

It owns the page set-up, the navigation and the one place where expected, non-bug
problems become friendly messages instead of tracebacks:

* no database file yet → how to make one;
* an import holding the write lock (``pipelines.warehouse.db.DatabaseBusy``) → "data is being
  updated", naming the import, and the page reruns by itself once it can read again;
* a database built by an older Knotwork without the marts this version reads → how to
  refresh it.

Pages live in ``dashboard/app_pages/`` and stay thin: read widgets, call
``dashboard.queries.therapist`` and ``dashboard.charts.progress``, render.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
import streamlit as st

from dashboard import access
from dashboard.queries import therapist as queries
from pipelines.warehouse.db import DatabaseBusy, read_connection, start_read_budget

# An emoji favicon is drawn locally (an inline SVG); a ":material/…:" favicon makes every browser
# that opens the app, a client's link included, fetch the icon from fonts.gstatic.com.
st.set_page_config(page_title="Knotwork", page_icon="🪢", layout="wide")
# Streamlit leaves 8 rem above the first element under the top navigation; a therapist
# opening a client before a visit should see the headline numbers without scrolling.
st.markdown("<style>[data-testid='stMainBlockContainer']{padding-top:3.5rem}</style>", unsafe_allow_html=True)

PAGES = [
    st.Page(
        "app_pages/client_progress.py",
        title="Client progress",
        icon=":material/person:",
        url_path="client",
        default=True,
    ),
    st.Page("app_pages/log_visit.py", title="Log a visit", icon=":material/edit_note:", url_path="log"),
    st.Page("app_pages/clients.py", title="Clients", icon=":material/group_add:", url_path="clients"),
    st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:", url_path="import"),
    st.Page("app_pages/practice_overview.py", title="Practice overview", icon=":material/groups:", url_path="practice"),
    st.Page("app_pages/techniques.py", title="Technique response", icon=":material/science:", url_path="techniques"),
    st.Page("app_pages/sharing.py", title="Share with client", icon=":material/share:", url_path="share"),
    st.Page("app_pages/records.py", title="Records", icon=":material/history:", url_path="records"),
]

# While an import holds the database (another program: `knotwork ingest`), pages cannot read it.
# The page says so and checks every AUTO_RETRY_EVERY_S whether the data can be read again, then
# reruns itself, for up to AUTO_RETRY_FOR_S (a network-size import takes ~7 minutes,
# pipelines.warehouse.db.IMPORT_WAIT_S); after that only the button is left, so a session left open on a
# database that stays locked does not poll it for ever.
AUTO_RETRY_EVERY_S = 2.0
AUTO_RETRY_FOR_S = 15 * 60.0
BUSY_SINCE = "kw_busy_since"
PROBE_LATER = "kw_busy_probe_later"
KEPT = "kw_busy_kept_values"


def _keep_typed_values() -> None:
    """A page stopped by a busy database may not have drawn its forms, and Streamlit forgets the
    values of widgets that are not drawn in a run (and the browser shows a redrawn widget empty
    unless its value is set in the run that draws it).  So the values are put aside here and set
    again by :func:`_restore_typed_values` at the start of the next full run: everything typed
    before the save is still there when the page comes back.  Only plain values (text, numbers,
    dates, choices): buttons (bool), uploads and data editors must never be set this way
    (Streamlit raises when such a widget is drawn next)."""
    kept = st.session_state.get(KEPT, {})
    for key in list(st.session_state.keys()):
        value = st.session_state[key]
        items = value if isinstance(value, (list, tuple)) else [value]
        # kw_…: the access gate's own state (links, presentation, sign-in) is never replayed.
        if str(key).startswith("kw_") or isinstance(value, bool) or value is None or not all(_plain(v) for v in items):
            continue
        kept[key] = value
    st.session_state[KEPT] = kept


def _restore_typed_values() -> None:
    for key, value in st.session_state.pop(KEPT, {}).items():
        try:
            st.session_state[key] = value
        except Exception:  # StreamlitAPIException: a widget that cannot be set; it keeps its own value
            pass


def _plain(value) -> bool:
    return isinstance(value, (str, int, float, dt.date, dt.time)) and not isinstance(value, bool)


def _updating(db: str, busy: DatabaseBusy, client: bool = False) -> None:
    since = st.session_state.setdefault(BUSY_SINCE, time.monotonic())
    _keep_typed_values()
    # The fragment's first call is part of this very run: it must not probe then, or a page that
    # failed while the probe succeeds would rerun at once, over and over (no 2-second pause).
    st.session_state[PROBE_LATER] = True
    if client:  # plain words, and nothing about the practice's files
        st.warning(
            "Your therapist’s records are being updated right now. This page will show your progress again "
            "by itself in a moment.",
            icon=":material/hourglass_top:",
        )
        if time.monotonic() - since < AUTO_RETRY_FOR_S:
            _retry_when_readable(db)
        return
    what = f" ({busy.activity})" if busy.activity else ""
    if time.monotonic() - since < AUTO_RETRY_FOR_S:
        st.warning(
            f"**The data is being updated right now{what}.** This page shows the new data by itself as soon "
            "as the update is done.",
            icon=":material/hourglass_top:",
        )
        _retry_when_readable(db)
    else:
        st.warning(f"The data is still being updated{what}. Try again in a moment.", icon=":material/hourglass:")
    st.button("Try again now", key="busy_retry", icon=":material/refresh:")


@st.fragment(run_every=AUTO_RETRY_EVERY_S)
def _retry_when_readable(db: str) -> None:
    """Re-runs alone every few seconds; once the database can be read, the whole page runs again."""
    if st.session_state.pop(PROBE_LATER, False):
        return
    try:
        with read_connection(db, timeout_s=0):
            pass
    except DatabaseBusy:
        return
    st.rerun(scope="app")


_restore_typed_values()
start_read_budget()  # this run's reads share READ_WAIT_S of waiting (pipelines.warehouse.db)
db = queries.current_db()
# Private links (?t=…), presentation mode and the therapist password come first: a client's
# session never builds the navigation below, so no therapist page can be reached from it.
# On top of the page, so a page interrupted part-way by a busy database says so where one looks first.
busy_box = st.container()
try:
    if access.gate(db, pages=PAGES):
        st.session_state.pop(BUSY_SINCE, None)
        st.stop()
except DatabaseBusy as busy:  # a client's link or presentation view reading while an import runs
    with busy_box:
        _updating(db, busy, client=access.is_client_session())
    st.stop()

page = st.navigation(PAGES, position="top")

if not Path(db).exists():
    st.title("Knotwork")
    st.info(
        f"There is no Knotwork database at `{db}` yet.\n\n"
        "Create one and import your files with `knotwork ingest clients.csv visits.csv … --db PATH`, "
        "or look around with the demo practice: `knotwork demo`.",
        icon=":material/database:",
    )
    # Or start from nothing in the app: add clients on the Clients page, import on the Import page.
    if st.button("Start an empty practice here", key="create_db", icon=":material/add_circle:", type="primary"):
        from pipelines.warehouse.db import write_connection
        from pipelines.warehouse.marts import rebuild_marts

        with write_connection(db) as con:
            rebuild_marts(con)
        st.rerun()
    st.stop()

try:
    page.run()
    st.session_state.pop(BUSY_SINCE, None)
except DatabaseBusy as busy:
    with busy_box:
        _updating(db, busy)
except duckdb.CatalogException:
    st.warning(
        "This database was made by an older version of Knotwork and lacks tables this dashboard reads. "
        f"Refresh it with `knotwork init --db {db}` (your data is kept), then reload this page.",
        icon=":material/update:",
    )

st.caption(f"Data: {queries.database_label(db)}. Nothing leaves this computer.")
access.sign_out_button(db)
