"""Practice overview: improvement by visit number, visits per week and the spread of immediate relief."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import metrics
from dashboard.charts import progress as charts
from dashboard.queries import therapist as queries


@st.cache_data(ttl=queries.TTL, max_entries=16, show_spinner=False)
def relief_figure(db: str, version: str):
    """The relief histogram and its visit count, built once per data version: at network size the
    chart's own counting over 2.5 million values would otherwise run on every rerun."""
    counts = queries.practice_relief_counts(db, version)
    values = pd.DataFrame(
        {
            "pain_change": np.repeat(
                counts["pain_change"].to_numpy(dtype=float), counts["n_visits"].to_numpy(dtype=np.int64)
            )
        }
    )
    return (charts.relief_histogram(values) if len(values) else None), len(values)


def practice_charts(db: str, ver: str, weekly: pd.DataFrame, settings: dict) -> None:
    # Counts per (visit, baseline, pain) from SQL, not one row per client and visit: the same numbers
    # at any practice size (a 100,000-client network has 1.2 million such rows).
    progress = queries.practice_progress_counts(db, ver, metrics.MAX_VISIT_NUMBER)
    by_visit = metrics.improvement_by_visit(progress, settings)
    if by_visit["n_clients"].sum() == 0:
        st.info("Improvement by visit needs pain scores before visits.", icon=":material/info:")
    else:
        st.plotly_chart(charts.improvement_by_visit_chart(by_visit), config=charts.PLOTLY_CONFIG, key="po_by_visit")
        st.caption(
            f"Improved = pain before visit k is {metrics.pain_rule_text(settings)} "
            f"({metrics.pain_rule_source(settings)}). n = clients seen at least k times; whiskers: 95 % Wilson "
            "intervals. Clients who stop coming drop out of later points, so later visits over-represent clients "
            "who stayed."
        )

    relief_fig, n_relief = relief_figure(db, ver)
    left, right = st.columns(2)
    with left:
        if weekly.empty:
            st.info("No visits imported yet.", icon=":material/event_busy:")
        else:
            st.plotly_chart(charts.visits_per_week_chart(weekly), config=charts.PLOTLY_CONFIG, key="po_weekly")
    with right:
        if relief_fig is None:
            st.info(
                "The distribution of immediate relief needs visits with pain recorded before and after.",
                icon=":material/info:",
            )
        else:
            st.plotly_chart(relief_fig, config=charts.PLOTLY_CONFIG, key="po_relief")
            st.caption(
                f"{n_relief:,} visits with pain recorded before and after. Blue: less pain after the visit; "
                "grey: no change; red: more pain. Relief within a visit is a weaker sign than lasting change "
                "between visits: pain often returns partly by the next visit."
            )
