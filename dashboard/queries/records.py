"""Reads for the Records page, cached by data version like ``dashboard.queries.therapist``."""

from __future__ import annotations

import streamlit as st

from pipelines.warehouse.db import read_connection
from pipelines.warehouse.migrate import pending_migrations

TTL = "1h"


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def missing_migrations(db: str, version: str) -> list[str]:
    """Migrations this database has not had yet (the dashboard only reads: it never applies them)."""
    with read_connection(db) as con:
        return pending_migrations(con)
