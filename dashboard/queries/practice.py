"""Practice-wide figures for the Practice overview, cached once per data version and settings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import metrics
from dashboard.queries import brief as brief_queries
from dashboard.queries import client_response as response_queries
from dashboard.queries import therapist as queries
from pipelines.clinical.status import current_status


@st.cache_data(ttl=queries.TTL, max_entries=16, show_spinner=False)
def client_figures(db: str, version: str, settings: dict) -> tuple[pd.DataFrame, int, int]:
    """Attention list and "clinically important improvement: k of n", once per data version and
    settings (a network has 100,000 clients: ~0.4 s that need not run on every click)."""
    every = queries.clients(db, version)
    readings, baselines = brief_queries.practice_readings(db, version)
    statuses = current_status(readings, baselines, settings)
    seen_twice = every[(every["n_visits"] >= 2) & every["baseline_pain"].notna() & every["latest_pain"].notna()]
    n_improved = (
        int(
            (
                metrics.pain_category_per_visit(seen_twice.rename(columns={"latest_pain": "pain_pre"}), settings)
                == "improved"
            ).sum()
        )
        if len(seen_twice)
        else 0
    )
    standings = response_queries.course_standings(db, version)
    return metrics.attention_list(every, statuses, settings, standings), n_improved, len(seen_twice)
