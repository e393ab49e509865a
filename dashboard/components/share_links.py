"""A client's private links (Share page): make one, list them, end one or all.

The writes are ``pipelines.sharing.links.create_link`` and ``revoke`` (each with its audit row); this
module only draws the form and the table."""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from dashboard.queries import sharing as queries
from dashboard.text import md
from pipelines.sharing.links import (
    DEFAULT_BASE_URL,
    DEFAULT_DAYS,
    ShareError,
    configured_base_url,
    create_link,
    revoke,
    utcnow,
)
from pipelines.warehouse.audit import DASHBOARD
from pipelines.warehouse.db import data_version


def _this_address() -> str | None:
    """The address this page was opened at (behind a reverse proxy: the proxy's), without path or query."""
    try:
        url = st.context.url
    except Exception:
        return None
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme in ("http", "https") and parts.netloc else None


def _new_link_form(db: str, client_id: str, name: str) -> None:
    base_default = configured_base_url(db) or _this_address() or DEFAULT_BASE_URL
    with st.form("sh_new_link"):
        days = st.number_input(
            "Valid for (days)", min_value=1, max_value=365, value=DEFAULT_DAYS, step=1, key="sh_days"
        )
        base = st.text_input(
            "Address the client will use",
            value=base_default,
            key="sh_base",
            help="Where clients reach this dashboard, e.g. https://knotwork.example.org/ behind your "
            "TLS reverse proxy (see README, 'Exposing Knotwork safely').",
        )
        make = st.form_submit_button("Create link")
    if not make:
        return
    try:
        link = create_link(client_id, days=days, db=db, base_url=base, actor=DASHBOARD)
    except ShareError as exc:
        st.error(str(exc))
        return
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


def _link_table(db: str, client_id: str, name: str) -> None:
    # Read after the form: a link made in this run is already listed (the write changed the version).
    links = queries.client_links(db, data_version(db), client_id)
    if not links:
        st.caption("No links made for this client yet.")
        return
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
    if not live:
        return
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    prefix = c1.selectbox("End one link", [lk.token_prefix for lk in live], key="sh_revoke_one")
    if c2.button("End this link", key="sh_revoke_btn"):
        revoke(prefix, db=db, actor=DASHBOARD)
        st.rerun()
    if st.button(f"End all {len(live)} live link(s) of {md(name)}", key="sh_revoke_all"):
        revoke(client_id=client_id, db=db, actor=DASHBOARD)
        st.rerun()


def private_links(db: str, client_id: str, name: str) -> None:
    st.subheader("Private link")
    st.write(
        "A link the client opens on their own phone or computer to see this view and send a pain check-in "
        "between visits. It carries no name or id, only a random code; it expires, and you can end it at any "
        "time."
    )
    _new_link_form(db, client_id, name)
    _link_table(db, client_id, name)
