"""Client progress: "Pain across visits", the pain chart with its band, trend, expected course and notes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import metrics
from dashboard.charts import progress as charts
from dashboard.components import client_response
from dashboard.queries import therapist as queries


def pain_section(
    db: str,
    ver: str,
    client_id: str,
    start: dt.date,
    end: dt.date,
    visits: pd.DataFrame,
    baseline: float | None,
    settings: dict,
) -> None:
    """``baseline``: the client's first pain score (``metrics.client_headline``), whatever the dates chosen."""
    st.subheader("Pain across visits")
    rule = metrics.pain_rule_text(settings)
    reports = queries.client_self_reports(db, ver, client_id, start, end)
    level = metrics.important_pain_level(baseline, settings)
    trend = metrics.theil_sen_trend(visits)
    band_label = f"Clinically important improvement: pain ≤ {charts.fmt_points(level)}" if level is not None else ""
    if not (visits["pain_pre"].notna().any() or len(reports)):
        st.info("No pain scores recorded for these visits.", icon=":material/info:")
        return
    fig = charts.pain_chart(
        visits,
        reports,
        baseline=baseline,
        important_level=level,
        band_label=band_label,
        trend=trend,
        categories=metrics.pain_category_per_visit(visits, settings),
    )
    course = client_response.expected_course(db, ver, client_id, start, end, fig)
    st.plotly_chart(fig, config=charts.PLOTLY_CONFIG, key="cp_pain")
    client_response.course_caption(course)
    notes = []
    if level is None and baseline is not None:
        notes.append(f"a baseline of {charts.fmt_points(baseline)} is too low for a {rule} change, so no band is drawn")
    if trend is None:
        notes.append("the trend line needs at least 3 visits with pain scores")
    n_no_post = int(visits["pain_post"].isna().sum())
    if n_no_post:
        notes.append(f"pain after the visit was not recorded for {n_no_post} of {len(visits)} visits")
    st.caption(
        "Green band: " + rule + ". Trend: Theil–Sen median slope of pain before each visit (robust to "
        "one-off bad days)." + ("" if not notes else " Note: " + "; ".join(notes) + ".")
    )
