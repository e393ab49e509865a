"""The expected course drawn onto the client's pain chart (pipelines.techniques.course)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.progress import COLORS, _dates

BAND_NAME = "Expected for clients like this (80 % band)"


def add_expected_course(fig: go.Figure, course: pd.DataFrame) -> go.Figure:
    """A grey band (10th-90th percentile) and a dashed line (expected pain before the visit) at each
    of the client's visits after the first; returns ``fig``."""
    if course.empty:
        return fig
    x = _dates(course["visit_date"])
    fig.add_trace(
        go.Scatter(
            x=x,
            y=course["high"],
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            name="expected high",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=course["low"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(127,127,127,0.18)",
            name=BAND_NAME,
            customdata=course["high"],
            hovertemplate="Expected for clients like this: %{y:.1f}–%{customdata:.1f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=course["expected"],
            mode="lines",
            name="Expected pain before the visit",
            line={"color": COLORS["reference"], "dash": "dash", "width": 1.5},
            hovertemplate="Expected: %{y:.1f}<extra></extra>",
        )
    )
    return fig
