"""Client-facing charts: simple, labelled, colour-blind safe (Okabe–Ito), one client only.

Pure functions from a :class:`dashboard.client_facing.data.ClientData` (or frames shaped like it) to
a Plotly figure, shared by the client page, the presentation mode and the HTML/PDF report.
They are simpler than the therapist charts on purpose: one idea per chart, plain axis titles
with units, the "much improved" zone drawn as a band, no statistics jargon.

``width``/``height`` fix the size for print (the report uses :data:`PRINT_WIDTH`, which fits
the printable width of both A4 and Letter with 15 mm margins); ``None`` lets the page size it.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts.progress import COLORS, GREY, SIDE_COLORS
from dashboard.charts.template import apply_template
from dashboard.client_facing.data import ClientData
from dashboard.client_facing.view import ClientSummary, rom_series

# The therapist charts' Okabe–Ito colours (dashboard/charts/progress.py), so both views read alike.
PRE, POST, CHECKIN, GOOD = COLORS["pre"], COLORS["post"], COLORS["self_report"], COLORS["improvement"]
GOAL_FILL = "rgba(0, 158, 115, 0.12)"  # COLORS["improvement"], light

# A4 is 210 mm wide; minus 2 × 15 mm margins = 180 mm = 680 CSS px (96 px per inch).
# Letter is wider (215.9 mm), so a figure that fits A4 fits Letter.
PRINT_WIDTH = 660
FONT = dict(family="Helvetica, Arial, sans-serif", size=13, color="#222")
ROM_CAPTION = (
    "Dashed grey line: the typical range for adults. Everyone is different; "
    "what matters is how the movement changes for you."
)


def _layout(fig: go.Figure, title: str | None, width: int | None, height: int) -> go.Figure:
    apply_template(fig)
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)) if title else None,
        font=FONT,
        width=width,
        height=height,
        autosize=width is None,
        margin=dict(l=60, r=20, t=50 if title else 16, b=80),
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0),
        hovermode="closest",
    )
    return fig


def empty_figure(message: str, title: str, width: int | None = None, height: int = 220) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=14, color=GREY)
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, width, height)


def pain_chart(
    data: ClientData,
    summary: ClientSummary,
    width: int | None = None,
    height: int = 340,
    title: str | None = "Your pain over time",
) -> go.Figure:
    """Pain before each visit (the main line), just after each session, and check-ins between
    visits, on the 0–10 scale, with the "much improved" zone shaded (and named in
    the legend, so the label never sits on top of a data point)."""
    v = data.visits
    pre = v.dropna(subset=["pain_pre"])
    post = v.dropna(subset=["pain_post"])
    checkins = data.checkins if data.checkins is not None else pd.DataFrame()
    if pre.empty and post.empty and checkins.empty:
        return empty_figure("No pain scores recorded yet", title, width)
    fig = go.Figure()
    goal = summary.goal_level
    if goal is not None and len(pre) >= 1:
        fig.add_hrect(y0=0, y1=goal, fillcolor=GOAL_FILL, line_width=0, layer="below")
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name="\u201cMuch improved\u201d zone",
                legendrank=4,
                marker=dict(symbol="square", size=14, color=GOAL_FILL, line=dict(color=GOOD, width=1)),
                hoverinfo="skip",
            )
        )
    if not checkins.empty:
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(checkins["reported_at"]),
                y=checkins["pain"].astype(float),
                mode="markers",
                name="Your check-ins",
                legendrank=3,
                marker=dict(color=CHECKIN, symbol="diamond", size=6, opacity=0.7),
                hovertemplate="%{x|%d %b %Y}: pain %{y}<extra>check-in</extra>",
            )
        )
    if not post.empty:
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(post["visit_date"]),
                y=post["pain_post"].astype(float),
                mode="markers",
                name="Just after the session",
                legendrank=2,
                marker=dict(color=POST, symbol="circle-open", size=8, line=dict(width=2)),
                hovertemplate="%{x|%d %b %Y}: pain %{y}<extra>after the session</extra>",
            )
        )
    if not pre.empty:
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(pre["visit_date"]),
                y=pre["pain_pre"].astype(float),
                mode="lines+markers",
                name="When you arrived",
                legendrank=1,
                line=dict(color=PRE, width=3),
                marker=dict(size=8),
                hovertemplate="%{x|%d %b %Y}: pain %{y}<extra>when you arrived</extra>",
            )
        )
    fig.update_yaxes(title_text="Pain (0 = none, 10 = worst)", range=[-0.3, 10.3], dtick=2, fixedrange=True)
    # type="date" explicitly: the legend-only band entry has no x values to infer it from.
    fig.update_xaxes(title_text="Date", type="date", tickformat="%b %Y", fixedrange=True)
    return _layout(fig, title, width, height)


def rom_chart(
    data: ClientData,
    width: int | None = None,
    title: str | None = "How far you can move (at the start of each visit)",
    summary: ClientSummary | None = None,
) -> go.Figure | None:
    """Range of motion at the start of each visit for the movements measured most often, one
    small panel each, with the typical adult range as a dashed grey line (explained in the
    caption :data:`ROM_CAPTION`, not on the panel where it would cover the data).  None when
    never measured."""
    series = rom_series(data, first=[line.label for line in summary.rom_lines] if summary else None)
    if series.empty:
        return None
    labels = list(dict.fromkeys(series["label"]))
    n = len(labels)
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=labels,
        horizontal_spacing=0.12,
        vertical_spacing=min(0.2, 75 / (220 * rows)) if rows > 1 else 0.1,
    )  # ~75 px between rows
    for i, label in enumerate(labels):
        g = series[series["label"] == label].sort_values("visit_date")
        r, c = i // cols + 1, i % cols + 1
        colour = SIDE_COLORS.get(
            g["side"].iloc[0], SIDE_COLORS["none"]
        )  # left / right / both, as on the therapist page
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(g["visit_date"]),
                y=g["degrees"],
                mode="lines+markers",
                name=label,
                showlegend=False,
                line=dict(color=colour, width=2.5),
                marker=dict(size=7),
                hovertemplate="%{x|%d %b %Y}: %{y}°<extra></extra>",
            ),
            row=r,
            col=c,
        )
        typical = g["typical"].iloc[0]
        top = max(float(g["degrees"].max()), 0.0)
        if typical == typical:  # not NaN
            fig.add_hline(y=typical, line=dict(color=GREY, dash="dash", width=1), row=r, col=c)
            top = max(top, typical)
        fig.update_yaxes(
            title_text="degrees (°)" if c == 1 else None, range=[0, top * 1.15 + 1], row=r, col=c, fixedrange=True
        )
        fig.update_xaxes(tickformat="%b %Y", nticks=4, fixedrange=True, row=r, col=c)
    for ann in fig.layout.annotations[:n]:
        ann.font = dict(size=12)
    height = (50 if title else 20) + 40 + 220 * rows
    fig = _layout(fig, title, width, height)
    fig.update_layout(margin=dict(l=60, r=20, t=80 if title else 40, b=40))
    return fig
