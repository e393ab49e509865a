"""Share with a client (therapist page): show the client view on a tablet, download the progress
report, and make or end private links."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import page_parts
from dashboard.access import start_presentation
from dashboard.components.client_picker import client_picker
from dashboard.components.report_downloads import report_downloads
from dashboard.components.share_links import private_links
from dashboard.queries import therapist as queries
from dashboard.text import md
from pipelines.sharing.passwords import password_is_set

db = queries.current_db()
ver = queries.version(db)

st.title("Share with a client")
clients = page_parts.clients_or_stop(db, ver)
client_id = client_picker("sh_client", clients["client_id"].tolist(), queries.client_labels(db, ver))
if client_id is None:
    st.caption(
        "Choose a client to show them their progress on this screen, download their report, "
        "or make a private link they can open at home."
    )
    st.stop()
name = clients.set_index("client_id").at[client_id, "display_name"]

if not password_is_set(db, None):
    st.warning(
        "No therapist password is set, so anyone who can open this dashboard sees every client. "
        "Set one with `knotwork set-password` before letting clients use a tablet or a link.",
        icon=":material/lock_open:",
    )

# --- In the room ----------------------------------------------------------------------------
st.subheader("Show to client")
st.write(
    f"A clean, full-screen view of {md(name)}'s progress only: no other client, no therapist pages. "
    "Leaving it needs the therapist password when one is set."
)
if st.button("Show to client", icon=":material/tablet:", type="primary", key="sh_present"):
    start_presentation(client_id)

report_downloads(db, client_id, name)
private_links(db, client_id, name)
st.caption(f"Today is {dt.date.today():%d %b %Y}. Links expire at the time shown (UTC).")
