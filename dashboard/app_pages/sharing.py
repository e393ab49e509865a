"""Share with a client (therapist page): show the client view on a tablet, download the progress
report, and make or end private links."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from dashboard import page_parts
from dashboard.access import start_presentation
from dashboard.reports import report_filename, report_html_download, report_pdf_bytes
from dashboard.text import md
from pipelines.sharing.links import (
    DEFAULT_BASE_URL,
    DEFAULT_DAYS,
    ShareError,
    configured_base_url,
    create_link,
    list_links,
    revoke,
    utcnow,
)
from pipelines.sharing.passwords import password_is_set
from pipelines.warehouse.audit import DASHBOARD
from pipelines.warehouse.db import data_version, read_connection, resolve_db_path

db = str(resolve_db_path(None))

st.title("Share with a client")


@st.cache_data(ttl="1h", max_entries=8, show_spinner=False)
def _clients(db: str, version: str) -> pd.DataFrame:
    with read_connection(db) as con:
        return con.execute("SELECT client_id, display_name FROM core.clients ORDER BY display_name, client_id").df()


clients = _clients(db, data_version(db))
if clients.empty:
    st.info("No clients in this database yet. Import them with `knotwork ingest clients.csv …`.")
    st.stop()
ids = clients["client_id"].tolist()
names = dict(zip(ids, clients["display_name"]))
page_parts.preselect_client("sh_client", names)


client_id = st.selectbox(
    "Client",
    ids,
    index=None,
    key="sh_client",
    format_func=lambda c: f"{names[c]} ({c})",
    placeholder="Type a name or client id to search…",
    on_change=page_parts.remember_client,
    args=("sh_client",),
)
if client_id is None:
    st.caption(
        "Choose a client to show them their progress on this screen, download their report, "
        "or make a private link they can open at home."
    )
    st.stop()
name = names[client_id]

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

# --- Report -----------------------------------------------------------------------------------
st.subheader("Progress report")
st.write(
    "A file the client keeps: plain-language summary, charts, what was done and home care. "
    "It works offline and loads nothing from the internet."
)
paper = st.radio("Paper size for the PDF", ["A4", "Letter"], horizontal=True, key="sh_paper")

c1, c2 = st.columns(2)
# Built only when clicked; each download leaves an "export" row in the audit log (Records page).
c1.download_button(
    "Download report (HTML)",
    data=lambda: report_html_download(db, client_id, actor=DASHBOARD),
    file_name=report_filename(name, "html"),
    mime="text/html",
    on_click="ignore",
    icon=":material/download:",
    key="sh_html",
)
c2.download_button(
    f"Download report (PDF, {paper})",
    data=lambda: report_pdf_bytes(db, client_id, paper, actor=DASHBOARD),
    file_name=report_filename(name, "pdf"),
    mime="application/pdf",
    on_click="ignore",
    icon=":material/picture_as_pdf:",
    key="sh_pdf",
    help="Printed by headless Chromium; takes a few seconds.",
)

# --- Private links ----------------------------------------------------------------------------
st.subheader("Private link")
st.write(
    "A link the client opens on their own phone or computer to see this view and send a pain check-in "
    "between visits. It carries no name or id, only a random code; it expires, and you can end it at any time."
)


def _this_address() -> str | None:
    """The address this page was opened at (behind a reverse proxy: the proxy's), without path or query."""
    try:
        url = st.context.url
    except Exception:
        return None
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else None


base_default = configured_base_url(db) or _this_address() or DEFAULT_BASE_URL
with st.form("sh_new_link"):
    days = st.number_input("Valid for (days)", min_value=1, max_value=365, value=DEFAULT_DAYS, step=1, key="sh_days")
    base = st.text_input(
        "Address the client will use",
        value=base_default,
        key="sh_base",
        help="Where clients reach this dashboard, e.g. https://knotwork.example.org/ behind your "
        "TLS reverse proxy (see README, 'Exposing Knotwork safely').",
    )
    make = st.form_submit_button("Create link")
if make:
    try:
        link = create_link(client_id, days=days, db=db, base_url=base, actor=DASHBOARD)
    except ShareError as exc:
        st.error(str(exc))
    else:
        st.success(
            f"Link for {md(name)}, valid until {link.expires_at:%d %b %Y %H:%M} UTC. Copy it now: Knotwork keeps "
            "only a fingerprint of it and cannot show it again."
        )
        st.code(link.url, language=None)
        if base.startswith("http://127.0.0.1") or base.startswith("http://localhost"):
            st.caption(
                "This address only works on this computer. To let clients open it from home, put Knotwork "
                "behind a TLS reverse proxy and use that address (README, 'Exposing Knotwork safely')."
            )

links = list_links(client_id, db)
if links:
    now = utcnow()
    # "link #" is how the audit log (Records page) names a link; it never shows a token.
    table = pd.DataFrame(
        [
            {
                "link #": lk.link_id,
                "starts with": lk.token_prefix,
                "created (UTC)": lk.created_at,
                "expires (UTC)": lk.expires_at,
                "status": lk.status(now),
            }
            for lk in links
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    live = [lk for lk in links if lk.status(now) == "live"]
    if live:
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        prefix = c1.selectbox("End one link", [lk.token_prefix for lk in live], key="sh_revoke_one")
        if c2.button("End this link", key="sh_revoke_btn"):
            revoke(prefix, db=db, actor=DASHBOARD)
            st.rerun()
        if st.button(f"End all {len(live)} live link(s) of {md(name)}", key="sh_revoke_all"):
            revoke(client_id=client_id, db=db, actor=DASHBOARD)
            st.rerun()
else:
    st.caption("No links made for this client yet.")
st.caption(f"Today is {dt.date.today():%d %b %Y}. Links expire at the time shown (UTC).")
