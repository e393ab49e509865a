"""Plotly figures for the dashboard and the client reports: pure functions DataFrame → Figure.

No Streamlit here (client reports render the same figures to HTML/PDF).  One palette for
everything: Okabe–Ito, which stays distinguishable with the common colour-vision
deficiencies (Okabe & Ito 2008, "Color Universal Design").  Every axis carries its unit,
clinical thresholds are drawn as labelled bands, and every trace has hover text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts.template import apply_template

# ---------------------------------------------------------------------------
# Palette and shared layout
# ---------------------------------------------------------------------------

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
GREY = "#7F7F7F"
LIGHT_GREY = "#C8C8C8"

COLORS = {
    "pre": OKABE_ITO["blue"],
    "post": OKABE_ITO["orange"],
    "self_report": OKABE_ITO["reddish_purple"],
    "trend": OKABE_ITO["black"],
    "improvement": OKABE_ITO["bluish_green"],
    "worse": OKABE_ITO["vermillion"],
    "reference": GREY,
    "neutral": LIGHT_GREY,
    "bars": OKABE_ITO["blue"],
    "secondary": OKABE_ITO["sky_blue"],
}
SIDE_COLORS = {"left": OKABE_ITO["blue"], "right": OKABE_ITO["orange"], "none": OKABE_ITO["bluish_green"]}
# A sequence for categorical series (muscles, instruments), without yellow (poor on white).
SERIES = [OKABE_ITO[k] for k in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black")]
# Light → dark blue, for "more is more" heatmaps (readable in greyscale too).
SEQUENTIAL_BLUE = [[0.0, "#DCEBF7"], [0.5, "#56B4E9"], [1.0, "#0B3C5D"]]
# Pain went up (vermillion) … no change (near white) … relief (dark blue): colour-blind safe ends.
DIVERGING_RELIEF = [
    [0.0, "#D55E00"],
    [0.35, "#F5C9A8"],
    [0.5, "#F4F4F4"],
    [0.6, "#DCEBF7"],
    [0.8, "#56B4E9"],
    [1.0, "#0B3C5D"],
]
BAND_OPACITY = 0.13

PAIN_AXIS = "Pain (0–10 NPRS)"
RELIEF_AXIS = "Immediate relief (points, pre − post)"

# Streamlit and the report exporter pass this to Plotly: no logo, no "Share chart…" upload
# button, no editing tools a therapist does not need.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "showSendToCloud": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
}


# Display names where "replace underscores, capitalise" reads wrong.
DISPLAY_NAMES = {
    "pnf_stretching": "PNF stretching",
    "movement_reeducation": "Movement re-education",
    "cross_fiber_friction": "Cross-fibre friction",
    "instrument_assisted": "Instrument-assisted",
    "thermal": "Thermal (heat/cold)",
    "crom": "CROM device",
    "none": "midline",
}


def pretty(name: Any) -> str:
    """``trigger_point`` → ``Trigger point``; ``pnf_stretching`` → ``PNF stretching``."""
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return "—"
    if str(name) in DISPLAY_NAMES:
        text = DISPLAY_NAMES[str(name)]
    else:
        text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def fmt_points(value: Any, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = f"{value:+.1f}" if signed else f"{value:.1f}"
    return text.replace("-", "−")


def _layout(fig: go.Figure, title: str, height: int, **kwargs) -> go.Figure:
    apply_template(fig)
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        font={"family": "Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
        hoverlabel={"font_size": 13},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0},
        **kwargs,
    )
    return fig


def _dates(values: Iterable) -> list[str]:
    """ISO date strings (keeps figure JSON plain and identical across pandas versions)."""
    return [pd.Timestamp(v).date().isoformat() for v in values]


def _date_axis(fig: go.Figure, dates: Iterable, **kwargs) -> None:
    """A date x-axis that never zooms into hours: at least two weeks wide, padded at both ends.

    With one visit (or all readings on one day) Plotly would otherwise label the axis
    "00:00, 12:00" and draw a single point at the edge.
    """
    values = pd.to_datetime(pd.Series(list(dates)), errors="coerce").dropna()
    if values.empty:
        fig.update_xaxes(type="date", **kwargs)
        return
    lo, hi = values.min(), values.max()
    pad = max(pd.Timedelta(days=7) - (hi - lo) / 2, (hi - lo) * 0.03, pd.Timedelta(days=2))
    fig.update_xaxes(type="date", range=[(lo - pad).isoformat(), (hi + pad).isoformat()], **kwargs)


def empty_figure(message: str, title: str = "", height: int = 240) -> go.Figure:
    """A blank figure that says why it is blank (used by reports; pages show st.info instead)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14, "color": GREY}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height)


# ---------------------------------------------------------------------------
# Client: pain across visits
# ---------------------------------------------------------------------------


def pain_chart(
    visits: pd.DataFrame,
    self_reports: pd.DataFrame | None = None,
    *,
    baseline: float | None = None,
    important_level: float | None = None,
    band_label: str = "",
    trend: Any = None,
    categories: pd.Series | None = None,
    title: str = "Pain before and after each visit",  # short enough for a phone; the legend names the rest
) -> go.Figure:
    """Pain before/after each visit, self-reports between visits, trend and the improvement band.

    ``visits``: ``visit_id, visit_date, visit_number, pain_pre, pain_post`` (+ optional
    ``technique_set``, ``pressure``).  ``self_reports``: ``reported_at, pain,
    days_since_last_visit``.  ``important_level``: pain at or below which the client has a
    clinically important improvement on ``baseline`` (drawn as a shaded band from 0).
    ``trend``: an object with ``dates``, ``values`` and ``slope_per_month``
    (``dashboard.metrics.Trend``).  ``categories``: per-visit change category for the hover.
    """
    fig = go.Figure()
    v = visits.sort_values(["visit_date", "visit_number"]).reset_index(drop=True)

    if important_level is not None:
        fig.add_hrect(
            y0=0, y1=important_level, fillcolor=COLORS["improvement"], opacity=BAND_OPACITY, line_width=0, layer="below"
        )
        # The band's legend entry (shapes have none of their own that hover or read well).
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=band_label or "Clinically important improvement",
                marker={"symbol": "square", "size": 14, "color": COLORS["improvement"], "opacity": 0.35},
                hoverinfo="skip",
            )
        )
    if baseline is not None:
        fig.add_hline(
            y=baseline,
            line_dash="dot",
            line_color=COLORS["reference"],
            line_width=1.5,
            annotation_text=f"Baseline {fmt_points(baseline)}",
            annotation_position="top right",
            annotation_font={"size": 12, "color": GREY},
        )

    both = v[v["pain_pre"].notna() & v["pain_post"].notna()]
    if len(both):
        xs: list = []
        ys: list = []
        for date, pre, post in zip(_dates(both["visit_date"]), both["pain_pre"], both["pain_post"]):
            xs += [date, date, None]
            ys += [float(pre), float(post), None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name="Change during the visit",
                line={"color": LIGHT_GREY, "width": 3},
                hoverinfo="skip",
            )
        )

    pre = v[v["pain_pre"].notna()]
    if len(pre):
        cats = categories.reindex(pre.index) if categories is not None else pd.Series("", index=pre.index)
        techniques = (
            pre["technique_set"].fillna("").map(lambda s: pretty(s.replace("+", ", ")) if s else "—")
            if "technique_set" in pre
            else pd.Series("—", index=pre.index)
        )
        custom = np.column_stack(
            [
                pre["visit_id"].astype(str),
                pre["visit_number"].astype(int).astype(str),
                cats.fillna("").astype(str),
                techniques.astype(str),
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=_dates(pre["visit_date"]),
                y=pre["pain_pre"].astype(float).to_numpy(),
                mode="lines+markers",
                name="Pain before the visit",
                line={"color": COLORS["pre"], "width": 2},
                marker={"size": 9, "color": COLORS["pre"]},
                customdata=custom,
                hovertemplate=(
                    "<b>Visit %{customdata[1]}</b> (%{x|%d %b %Y})<br>Pain before: %{y:.1f}"
                    "<br>Against baseline: %{customdata[2]}<br>Techniques: %{customdata[3]}"
                    "<extra></extra>"
                ),
            )
        )
    post = v[v["pain_post"].notna()]
    if len(post):
        custom = np.column_stack(
            [
                post["visit_id"].astype(str),
                post["visit_number"].astype(int).astype(str),
                (post["pain_post"] - post["pain_pre"]).map(lambda d: fmt_points(d, True)),
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=_dates(post["visit_date"]),
                y=post["pain_post"].astype(float).to_numpy(),
                mode="markers",
                name="Pain after the visit",
                marker={"size": 9, "color": COLORS["post"], "symbol": "circle"},
                customdata=custom,
                hovertemplate=(
                    "<b>Visit %{customdata[1]}</b> (%{x|%d %b %Y})<br>Pain after: %{y:.1f}"
                    " (change %{customdata[2]})<extra></extra>"
                ),
            )
        )
    if self_reports is not None and len(self_reports):
        sr = self_reports.sort_values("reported_at")
        days = sr["days_since_last_visit"].map(
            lambda d: (
                "before the first visit" if pd.isna(d) else f"{int(d)} day{'s' if int(d) != 1 else ''} after a visit"
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[pd.Timestamp(t).isoformat(sep=" ", timespec="minutes") for t in sr["reported_at"]],
                y=sr["pain"].astype(float).to_numpy(),
                mode="markers",
                name="Self-report between visits",
                marker={"size": 6, "color": COLORS["self_report"], "symbol": "diamond", "opacity": 0.6},
                customdata=np.column_stack([days.astype(str)]),
                hovertemplate="Self-report %{x|%d %b %Y}: pain %{y:.1f}<br>%{customdata[0]}<extra></extra>",
            )
        )
    if trend is not None:
        per_month = fmt_points(trend.slope_per_month, signed=True)
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in trend.dates],
                y=list(trend.values),
                mode="lines",
                name=f"Trend (Theil–Sen): {per_month} points/month",
                line={"color": COLORS["trend"], "width": 2, "dash": "dash"},
                hovertemplate=(
                    f"Robust trend of pain before visits: {per_month} points per month"
                    f" (95 % CI {fmt_points(trend.low_per_month, True)} to "
                    f"{fmt_points(trend.high_per_month, True)})<extra></extra>"
                ),
            )
        )

    fig.update_yaxes(title_text=PAIN_AXIS, range=[-0.3, 10.3], dtick=2, zeroline=False)
    shown = list(v["visit_date"])
    if self_reports is not None and len(self_reports):
        shown += list(self_reports["reported_at"])
    _date_axis(fig, shown)  # months are labelled; a "Date" title collided with the legend on a phone
    return _layout(fig, title, 430)


# ---------------------------------------------------------------------------
# Client: range of motion, one small chart per joint / movement / side
# ---------------------------------------------------------------------------


def rom_chart(
    series: pd.DataFrame,
    *,
    title: str,
    normal: float | None = None,
    normal_label: str = "Normal",
    mdc: float | None = None,
) -> go.Figure:
    """Pre and post ROM per visit for one joint/movement/side, with the normal reference.

    ``series``: ``visit_date, visit_number, degrees_pre, degrees_post, degrees_change,
    instrument`` and ``is_real`` (|change| ≥ MDC).  Post readings whose change is within
    measurement error are drawn hollow and say so in the hover.
    """
    s = series.sort_values("visit_date").reset_index(drop=True)
    fig = go.Figure()
    if normal is not None and normal > 0:
        fig.add_hline(y=normal, line_dash="dash", line_color=COLORS["reference"], line_width=1.5)
        title = f"{title} <span style='font-size:12px;color:{GREY};font-weight:normal'>· {normal_label}</span>"
    both = s[s["degrees_pre"].notna() & s["degrees_post"].notna()]
    if len(both):
        xs: list = []
        ys: list = []
        for date, a, b in zip(_dates(both["visit_date"]), both["degrees_pre"], both["degrees_post"]):
            xs += [date, date, None]
            ys += [float(a), float(b), None]
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", line={"color": LIGHT_GREY, "width": 3}, showlegend=False, hoverinfo="skip"
            )
        )
    pre = s[s["degrees_pre"].notna()]
    instrument = (
        s["instrument"].fillna("not recorded").map(pretty) if "instrument" in s else pd.Series("", index=s.index)
    )
    if len(pre):
        fig.add_trace(
            go.Scatter(
                x=_dates(pre["visit_date"]),
                y=pre["degrees_pre"].astype(float).to_numpy(),
                mode="lines+markers",
                name="Before",
                line={"color": COLORS["pre"], "width": 1.5},
                marker={"size": 8, "color": COLORS["pre"]},
                customdata=np.column_stack(
                    [pre["visit_number"].astype(int).astype(str), instrument.reindex(pre.index)]
                ),
                hovertemplate="Visit %{customdata[0]} (%{x|%d %b %Y})<br>Before: %{y:.0f}°<br>%{customdata[1]}<extra></extra>",
            )
        )
    post = s[s["degrees_post"].notna()]
    if len(post):
        real = post["is_real"].fillna(False).astype(bool) if "is_real" in post else pd.Series(True, index=post.index)
        mdc_text = f"MDC {mdc:g}°" if mdc is not None else "the MDC"
        note = [
            (
                "no reading before"
                if pd.isna(c)
                else f"change {fmt_points(c, True)}°: "
                + ("beyond measurement error" if r else f"within measurement error ({mdc_text})")
            )
            for c, r in zip(post["degrees_change"], real)
        ]
        for is_real, name, symbol in (
            (True, "After (real change)", "circle"),
            (False, "After (within measurement error)", "circle-open"),
        ):
            part = post[real == is_real]
            if not len(part):
                continue
            idx = [post.index.get_loc(i) for i in part.index]
            fig.add_trace(
                go.Scatter(
                    x=_dates(part["visit_date"]),
                    y=part["degrees_post"].astype(float).to_numpy(),
                    mode="markers",
                    name=name,
                    marker={
                        "size": 9,
                        "color": COLORS["post"],
                        "symbol": symbol,
                        "line": {"width": 2, "color": COLORS["post"]},
                    },
                    customdata=np.column_stack([part["visit_number"].astype(int).astype(str), [note[i] for i in idx]]),
                    hovertemplate="Visit %{customdata[0]} (%{x|%d %b %Y})<br>After: %{y:.0f}°<br>%{customdata[1]}<extra></extra>",
                )
            )
    values = pd.concat([s["degrees_pre"], s["degrees_post"]]).dropna()
    top = max([v for v in [normal, values.max() if len(values) else None] if v is not None] + [10.0])
    bottom = min(0.0, float(values.min()) if len(values) else 0.0)
    fig.update_yaxes(title_text="Degrees", range=[bottom, top * 1.12], rangemode="tozero")
    _date_axis(fig, s["visit_date"], title_text=None)
    fig = _layout(fig, title, 260, showlegend=False)
    fig.update_layout(margin={"l": 55, "r": 15, "t": 45, "b": 30}, title_font_size=14)
    return fig


# ---------------------------------------------------------------------------
# Client: techniques per visit
# ---------------------------------------------------------------------------


def _visit_labels(v: pd.DataFrame) -> list[str]:
    """Short category labels ("#7"); the date is in every hover text."""
    return [f"#{int(n)}" for n in v["visit_number"]]


def technique_grid_chart(
    visits: pd.DataFrame, title: str = "What was done in each visit, and how much it helped"
) -> go.Figure:
    """Visit × technique grid (cells coloured by that visit's immediate relief), relief bars and pressure.

    ``visits``: ``visit_number, visit_date, techniques`` (lists), ``pain_pre, pain_post,
    pressure``.  Relief = pre − post (positive = less pain after the visit).
    """
    v = visits.sort_values(["visit_date", "visit_number"]).reset_index(drop=True)
    labels = _visit_labels(v)
    relief = (v["pain_pre"] - v["pain_post"]).astype(float)
    counts: dict[str, int] = {}
    for ts in v["techniques"]:
        for t in ts:
            counts[t] = counts.get(t, 0) + 1
    techs = sorted(counts, key=lambda t: (-counts[t], t))
    n_t = max(len(techs), 1)
    grid_h = 34 * n_t
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05, row_heights=[grid_h, 130, 70])
    z = np.full((len(techs), len(v)), np.nan)
    used_unknown = np.full((len(techs), len(v)), np.nan)
    hover = np.full((len(techs), len(v)), "", dtype=object)
    dates = [f"{pd.Timestamp(d):%d %b %Y}" for d in v["visit_date"]]
    for j, (ts, r) in enumerate(zip(v["techniques"], relief)):
        for i, t in enumerate(techs):
            if t in ts:
                if math.isnan(r):
                    used_unknown[i, j] = 1
                    hover[i, j] = f"{dates[j]}: {pretty(t)} used; relief not recorded"
                else:
                    z[i, j] = r
                    hover[i, j] = f"{dates[j]}: {pretty(t)} used; relief {fmt_points(r)} points"
    ylabels = [pretty(t) for t in techs]
    finite = relief[np.isfinite(relief)]
    zmax = max(3.0, float(finite.abs().max()) if len(finite) else 3.0)
    fig.add_trace(
        go.Heatmap(
            x=labels,
            y=ylabels,
            z=z,
            zmin=-zmax,
            zmax=zmax,
            zmid=0,
            colorscale=DIVERGING_RELIEF,
            xgap=2,
            ygap=2,
            customdata=hover,
            hovertemplate="%{x}<br>%{customdata}<extra></extra>",
            name="Technique used",
            colorbar={
                "title": {"text": "Relief<br>(points)", "side": "top"},
                "len": 0.45,
                "y": 1,
                "yanchor": "top",
                "thickness": 12,
                "tickvals": [-zmax, 0, zmax],
                "ticktext": [f"{-zmax:g} (worse)", "0", f"+{zmax:g}"],
            },
        ),
        row=1,
        col=1,
    )
    if np.isfinite(used_unknown).any():
        fig.add_trace(
            go.Heatmap(
                x=labels,
                y=ylabels,
                z=used_unknown,
                colorscale=[[0, LIGHT_GREY], [1, LIGHT_GREY]],
                showscale=False,
                xgap=2,
                ygap=2,
                customdata=hover,
                hovertemplate="%{x}<br>%{customdata}<extra></extra>",
                name="Used, relief not recorded",
            ),
            row=1,
            col=1,
        )
    bar_colors = [COLORS["worse"] if (not math.isnan(r) and r < 0) else COLORS["bars"] for r in relief]
    fig.add_trace(
        go.Bar(
            x=labels,
            y=relief.to_numpy(),
            marker_color=bar_colors,
            name="Immediate relief",
            customdata=np.column_stack([v["pain_pre"].map(fmt_points), v["pain_post"].map(fmt_points), dates]),
            hovertemplate="Visit %{x}, %{customdata[2]}<br>Relief %{y:.1f} points (%{customdata[0]} → %{customdata[1]})<extra></extra>",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    pressure = v["pressure"].astype(float)
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=pressure.to_numpy(),
            mode="markers+lines",
            name="Pressure",
            line={"color": LIGHT_GREY, "width": 1},
            marker={"size": 9, "color": OKABE_ITO["vermillion"], "symbol": "square"},
            customdata=np.column_stack([dates]),
            hovertemplate="Visit %{x}, %{customdata[0]}<br>Pressure %{y:.0f} of 5<extra></extra>",
            showlegend=False,
        ),
        row=3,
        col=1,
    )
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_yaxes(title_text="Relief<br>(points)", zeroline=True, zerolinecolor=GREY, row=2, col=1)
    fig.update_yaxes(title_text="Pressure<br>(1–5)", range=[0.5, 5.5], dtick=1, row=3, col=1)
    fig.update_xaxes(type="category", row=3, col=1)
    fig.update_xaxes(title_text="Visit", row=3, col=1)
    fig = _layout(fig, title, 150 + grid_h + 130 + 70 + 20)
    fig.update_layout(margin={"l": 150, "r": 20, "t": 60, "b": 60})
    return fig


# ---------------------------------------------------------------------------
# Client: trigger points
# ---------------------------------------------------------------------------


def trigger_point_frequency_chart(
    summary: pd.DataFrame, title: str = "Trigger points: how often each was found"
) -> go.Figure:
    """Horizontal bars: visits in which each muscle's trigger point was found, stacked by side."""
    fig = go.Figure()
    totals = summary.groupby("muscle")["times_found"].sum().sort_values()
    order = [pretty(m) for m in totals.index]
    for side in ("left", "right", "none"):
        part = summary[summary["side"] == side]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                y=[pretty(m) for m in part["muscle"]],
                x=part["times_found"].to_numpy(dtype=float),
                orientation="h",
                name={"none": "Midline / both"}.get(side, pretty(side)),
                marker_color=SIDE_COLORS[side],
                customdata=np.column_stack(
                    [part["referral_regions"].astype(str), part["last_tenderness"].map(lambda t: fmt_points(t))]
                ),
                hovertemplate=(
                    "%{y} (" + pretty(side) + "): found in %{x:.0f} visits<br>Refers to: %{customdata[0]}"
                    "<br>Last tenderness: %{customdata[1]} / 10<extra></extra>"
                ),
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(categoryorder="array", categoryarray=order)
    fig.update_xaxes(
        title_text="Visits in which it was found", dtick=1 if (totals.max() if len(totals) else 0) <= 10 else None
    )
    fig = _layout(fig, title, 150 + 28 * max(len(order), 1))
    fig.update_layout(
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"}, margin={"t": 80}
    )
    return fig


def tenderness_chart(
    points: pd.DataFrame, top_n: int = 6, title: str = "Trigger point tenderness over time"
) -> go.Figure:
    """Tenderness (0–10) per visit for the ``top_n`` most often found muscles (sides averaged)."""
    p = points[points["tenderness"].notna()]
    top = p["muscle"].value_counts().head(top_n).index.tolist()
    fig = go.Figure()
    for i, muscle in enumerate(top):
        m = (
            p[p["muscle"] == muscle]
            .groupby(["visit_date", "visit_number"], as_index=False)["tenderness"]
            .mean()
            .sort_values("visit_date")
        )
        fig.add_trace(
            go.Scatter(
                x=_dates(m["visit_date"]),
                y=m["tenderness"].to_numpy(dtype=float),
                mode="lines+markers",
                name=pretty(muscle),
                line={"color": SERIES[i % len(SERIES)], "width": 2},
                marker={"size": 7, "color": SERIES[i % len(SERIES)]},
                customdata=np.column_stack([m["visit_number"].astype(int).astype(str)]),
                hovertemplate=f"{pretty(muscle)}<br>Visit %{{customdata[0]}} (%{{x|%d %b %Y}}): tenderness %{{y:.1f}} / 10<extra></extra>",
            )
        )
    fig.update_yaxes(title_text="Tenderness (0–10)", range=[-0.3, 10.3], dtick=2)
    _date_axis(fig, p["visit_date"], title_text="Date")
    return _layout(fig, title, 360)


# ---------------------------------------------------------------------------
# Client: questionnaires
# ---------------------------------------------------------------------------


def outcome_chart(
    scores: pd.DataFrame,
    *,
    instrument: str,
    unit: str,
    higher_is_better: bool,
    mcid: float | None,
    mcid_label: str = "",
    score_range: tuple[float, float] | None = None,
) -> go.Figure:
    """One questionnaire's scores over time with the clinically important change band from the first score."""
    s = scores[scores["score"].notna()].sort_values("taken_on").reset_index(drop=True)
    fig = go.Figure()
    if len(s) and mcid:
        first = float(s["score"].iloc[0])
        lo, hi = score_range if score_range else (0.0, max(first, float(s["score"].max())) * 1.3)
        if higher_is_better:
            y0, y1 = first + mcid, hi
        else:
            y0, y1 = lo, first - mcid
        if y1 > y0:
            fig.add_hrect(
                y0=y0, y1=y1, fillcolor=COLORS["improvement"], opacity=BAND_OPACITY, line_width=0, layer="below"
            )
            fig.add_annotation(
                text=mcid_label or "Clinically important improvement",
                xref="paper",
                x=0.005,
                y=y1 if not higher_is_better else y0,
                yanchor="top" if not higher_is_better else "bottom",
                xanchor="left",
                showarrow=False,
                font={"size": 12, "color": "#00684C"},
            )
    if len(s):
        band = s["band"].fillna("").astype(str) if "band" in s else pd.Series("", index=s.index)
        fig.add_trace(
            go.Scatter(
                x=_dates(s["taken_on"]),
                y=s["score"].to_numpy(dtype=float),
                mode="lines+markers",
                name=instrument,
                line={"color": COLORS["pre"], "width": 2},
                marker={"size": 9, "color": COLORS["pre"]},
                customdata=np.column_stack([band]),
                hovertemplate=f"{instrument} %{{x|%d %b %Y}}: %{{y:.1f}} %{{customdata[0]}}<extra></extra>",
            )
        )
    direction = "higher is better" if higher_is_better else "lower is better"
    fig.update_yaxes(
        title_text=f"{instrument} score, {unit.split(';')[0].strip()}", range=list(score_range) if score_range else None
    )
    _date_axis(fig, s["taken_on"], title_text="Date")
    return _layout(fig, f"{instrument} over time ({direction})", 320)


# ---------------------------------------------------------------------------
# Practice overview
# ---------------------------------------------------------------------------


def visits_per_week_chart(weekly: pd.DataFrame, title: str = "Visits per week") -> go.Figure:
    """Bars of visits per calendar week, with the number of clients seen in the hover."""
    w = weekly.sort_values("week_start")
    fig = go.Figure(
        go.Bar(
            x=_dates(w["week_start"]),
            y=w["n_visits"].to_numpy(dtype=float),
            marker_color=COLORS["bars"],
            name="Visits",
            customdata=np.column_stack(
                [w["n_clients_seen"].astype(int).astype(str), w["n_first_visits"].astype(int).astype(str)]
            ),
            hovertemplate=(
                "Week of %{x|%d %b %Y}<br>%{y:.0f} visits, %{customdata[0]} clients"
                "<br>%{customdata[1]} first visits<extra></extra>"
            ),
        )
    )
    fig.update_yaxes(title_text="Visits per week", rangemode="tozero")
    fig.update_xaxes(title_text="Week starting (Monday)")
    return _layout(fig, title, 340, bargap=0.15)


def improvement_by_visit_chart(
    data: pd.DataFrame,
    *,
    rule_text: str = "",
    title: str = "Share of clients with a clinically important improvement, by visit",
) -> go.Figure:
    """% of clients seen k times whose pain before visit k is clinically importantly below baseline.

    ``data`` from ``dashboard.metrics.improvement_by_visit`` (``visit_number, n_clients,
    n_improved, pct_improved, ci_low, ci_high``).  n is printed at every point; the whiskers
    are 95 % Wilson intervals.
    """
    d = data[data["n_clients"] > 0]
    fig = go.Figure(
        go.Scatter(
            x=d["visit_number"].to_numpy(dtype=float),
            y=d["pct_improved"].to_numpy(dtype=float),
            mode="lines+markers",
            name="Clients improved",
            line={"color": COLORS["improvement"], "width": 2},
            marker={"size": 9, "color": COLORS["improvement"]},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (d["ci_high"] - d["pct_improved"]).to_numpy(dtype=float),
                "arrayminus": (d["pct_improved"] - d["ci_low"]).to_numpy(dtype=float),
                "color": LIGHT_GREY,
                "thickness": 1.5,
                "width": 4,
            },
            customdata=np.column_stack(
                [
                    d["n_improved"].astype(str),
                    d["n_clients"].astype(str),
                    d["ci_low"].map(lambda x: f"{x:.0f}"),
                    d["ci_high"].map(lambda x: f"{x:.0f}"),
                ]
            ),
            hovertemplate=(
                "Visit %{x}: %{y:.0f} % improved<br>%{customdata[0]} of %{customdata[1]} clients seen that often"
                "<br>95 % CI %{customdata[2]}–%{customdata[3]} %<extra></extra>"
            ),
        )
    )
    fig.update_yaxes(title_text="Clients improved (%)", range=[-5, 105], ticksuffix=" %")
    ks = data["visit_number"].astype(int).tolist()
    fig.update_xaxes(
        title_text="Visit number (n = clients seen that many times)",
        tickmode="array",
        tickvals=ks,
        tickangle=0,
        ticktext=[
            f"{k}<br><span style='font-size:11px;color:{GREY}'>n={n}</span>"
            for k, n in zip(ks, data["n_clients"].astype(int))
        ],
        range=[0.5, max(ks + [12]) + 0.5],
    )
    if rule_text:
        fig.add_annotation(
            text=f"Improved = pain before the visit {rule_text}",
            xref="paper",
            yref="paper",
            x=0,
            y=1.0,
            yanchor="bottom",
            xanchor="left",
            showarrow=False,
            font={"size": 12, "color": GREY},
        )
    return _layout(fig, title, 380, showlegend=False)


def relief_histogram(relief: pd.DataFrame, title: str = "Immediate change in pain during visits") -> go.Figure:
    """Histogram of ``pain_change`` (post − pre, half-point bins; negative = relief)."""
    values = relief["pain_change"].dropna().astype(float)
    fig = go.Figure()
    if len(values):
        # Pain is scored in half points, so each bar is one possible value (no binning artefacts).
        counts = (values * 2).round().div(2).value_counts().sort_index()
        total = int(counts.sum())
        for label, mask, color in (
            ("Less pain after", counts.index < 0, COLORS["pre"]),
            ("No change", counts.index == 0, LIGHT_GREY),
            ("More pain after", counts.index > 0, COLORS["worse"]),
        ):
            part = counts[mask]
            if not len(part):
                continue
            fig.add_trace(
                go.Bar(
                    x=part.index.to_numpy(dtype=float),
                    y=part.to_numpy(dtype=float),
                    name=label,
                    marker_color=color,
                    width=0.45,
                    customdata=np.column_stack([(part / total * 100).map(lambda p: f"{p:.0f}")]),
                    hovertemplate="Change %{x:+.1f} points: %{y:.0f} visits (%{customdata[0]} %)<extra></extra>",
                )
            )
        median = float(values.median())
        fig.add_vline(x=median, line_dash="dash", line_color=COLORS["trend"])
        fig.add_annotation(
            x=median,
            y=0.98,
            yref="paper",
            yanchor="top",
            xanchor="right",
            showarrow=False,
            text=f"median {fmt_points(median, True)} ",
            font={"size": 12},
            bgcolor="rgba(255,255,255,0.8)",
        )
    fig.update_xaxes(title_text="Change during the visit (points; negative = relief)", dtick=1)
    fig.update_yaxes(title_text="Visits")
    # No legend: the colours are explained in the caption, and a legend crowds a half-width chart.
    return _layout(fig, title, 340, bargap=0.05, showlegend=False)
