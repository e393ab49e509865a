"""Reads for the Share page, cached by data version like ``dashboard.queries.therapist``: making or ending
a link is a write, so it changes the version and the next rerun lists the links afresh."""

from __future__ import annotations

import streamlit as st

from pipelines.sharing.links import LinkInfo, list_links

TTL = "1h"


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def client_links(db: str, version: str, client_id: str) -> list[LinkInfo]:
    """The client's private links, newest first (never a token or its hash)."""
    return list_links(client_id, db)
