"""Client progress: "Trigger points", how often each was found, its tenderness, and where it refers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import metrics
from dashboard.charts import progress as charts


def trigger_points_section(points: pd.DataFrame) -> None:
    """``points``: the client's trigger points in the chosen dates (``queries.client_trigger_points``)."""
    st.subheader("Trigger points")
    if points.empty:
        st.info("No trigger points recorded for this client in these dates.", icon=":material/info:")
        return
    tp = metrics.trigger_point_summary(points)
    left, right = st.columns(2)
    left.plotly_chart(charts.trigger_point_frequency_chart(tp), config=charts.PLOTLY_CONFIG, key="cp_tp_freq")
    right.plotly_chart(charts.tenderness_chart(points), config=charts.PLOTLY_CONFIG, key="cp_tp_tender")
    with st.expander("Referral regions and tenderness per muscle"):
        st.dataframe(
            pd.DataFrame(
                {
                    "Muscle": tp["muscle"].map(charts.pretty),
                    "Side": tp["side"].map(charts.pretty),
                    "Visits found": tp["times_found"],
                    "Refers to": tp["referral_regions"],
                    "First tenderness": tp["first_tenderness"],
                    "Last tenderness": tp["last_tenderness"],
                    "Fully released": tp["released_fully"],
                }
            ),
            hide_index=True,
            key="cp_tp_table",
        )
