"""Questionnaire change at a glance: a pure function from a summary frame to a Plotly figure.

``dashboard.charts.progress.outcome_chart`` draws each questionnaire's scores over time; this chart
answers the question a therapist asks before a visit, across every questionnaire the client
has taken: *has function changed by a clinically important amount since the first one?*

Instruments have different scales (NDI %, PSFS 0–10, LEFS 0–80), so each change is shown
in units of that instrument's minimal clinically important difference (MCID, from the
practice settings with its source), turned so that **right is better** for every
instrument.  The band from −1 to +1 MCID is "smaller than an important change"; the bar's
colour is the verdict of ``pipelines.clinical.change.classify_change`` (anchor method), and each
bar is labelled with the change in the instrument's own units.  No Streamlit here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.progress import BAND_OPACITY, COLORS, GREY, LIGHT_GREY

CATEGORY_COLORS = {
    "improved": COLORS["improvement"],
    "recovered": COLORS["improvement"],
    "deteriorated": COLORS["worse"],
    "unchanged": LIGHT_GREY,
}
CATEGORY_LABELS = {
    "improved": "Important improvement",
    "recovered": "Important improvement",
    "deteriorated": "Important worsening",
    "unchanged": "No important change",
}
AXIS_TITLE = "Change since the first questionnaire, in MCIDs (right = better; grey: smaller than an important change)"


def _verdict(category, verdict) -> str:
    """Importance and reliability together ("Reliable and important improvement", outcome_summary's
    ``verdict``); the importance alone for a summary made without it."""
    if isinstance(verdict, str):
        return verdict[:1].upper() + verdict[1:]
    return CATEGORY_LABELS.get(category, "—")


def _verdicts(s: pd.DataFrame) -> list[str]:
    verdicts = s["verdict"] if "verdict" in s else [None] * len(s)
    return [_verdict(c, v) for c, v in zip(s["category"], verdicts)]


def _fmt(x: float) -> str:
    return f"{x:+.1f}".replace("-", "−")


def questionnaire_change_chart(
    summary: pd.DataFrame, title: str = "Questionnaires: change since the first"
) -> go.Figure:
    """One bar per instrument with at least two scored questionnaires.

    ``summary`` is :func:`pipelines.clinical.outcomes.outcome_summary` for one client (``instrument,
    n, first_date, first_score, latest_date, latest_score, change, improvement, category,
    mcid, mdc, unit``).  Bar length = ``improvement / mcid``.
    """
    s = summary[summary["improvement"].notna() & summary["mcid"].notna() & (summary["n"] >= 2)].copy()
    s = s.sort_values("instrument").reset_index(drop=True)
    fig = go.Figure()
    if s.empty:
        fig.add_annotation(
            text="Needs two scored questionnaires of the same kind",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
            font={"size": 14, "color": GREY},
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return _layout(fig, title, 200)

    ratio = (s["improvement"].astype(float) / s["mcid"].astype(float)).to_numpy()
    reach = max(2.0, float(np.nanmax(np.abs(ratio))) * 1.15)
    fig.add_vrect(x0=-1, x1=1, fillcolor=GREY, opacity=BAND_OPACITY, line_width=0, layer="below")
    for x in (-1, 1):
        fig.add_vline(x=x, line={"color": GREY, "width": 1, "dash": "dot"})
    fig.add_vline(x=0, line={"color": "#444444", "width": 1})

    # The change in the instrument's own units goes in the axis label, where it is never clipped.
    s["label"] = [f"{r.instrument} {_fmt(r.change)}" for r in s.itertuples()]
    customdata = np.column_stack(
        [
            s["instrument"],
            s["first_score"].map(lambda v: f"{v:.1f}"),
            pd.to_datetime(s["first_date"]).dt.strftime("%d %b %Y"),
            s["latest_score"].map(lambda v: f"{v:.1f}"),
            pd.to_datetime(s["latest_date"]).dt.strftime("%d %b %Y"),
            _verdicts(s),
            s["unit"].astype(str),
            s["mdc"].map(lambda v: "n/a" if pd.isna(v) else f"{v:g}"),
            s["mcid"].map(lambda v: f"{v:g}"),
        ]
    )
    for category in ("improved", "unchanged", "deteriorated", "recovered"):
        mask = (s["category"] == category).to_numpy()
        if not mask.any():
            continue
        fig.add_trace(
            go.Bar(
                x=ratio[mask],
                y=s["label"][mask].tolist(),
                orientation="h",
                name=CATEGORY_LABELS[category],
                marker={"color": CATEGORY_COLORS[category], "line": {"color": "#333333", "width": 0.5}},
                customdata=customdata[mask],
                hovertemplate=(
                    "%{customdata[0]}: %{customdata[1]} (%{customdata[2]}) → %{customdata[3]} "
                    "(%{customdata[4]})<br>%{customdata[5]}: %{x:.2f} MCID<br>"
                    "MCID %{customdata[8]}, MDC %{customdata[7]} (%{customdata[6]})<extra></extra>"
                ),
            )
        )
    fig.update_xaxes(title_text=AXIS_TITLE, range=[-reach, reach], zeroline=False)
    fig.update_yaxes(title_text="", categoryorder="array", categoryarray=list(s["label"])[::-1])
    return _layout(fig, title, 150 + 45 * len(s), barmode="overlay", showlegend=True, bargap=0.35)


def _layout(fig: go.Figure, title: str, height: int, **kwargs) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=max(height, 220),
        margin={"l": 120, "r": 30, "t": 70, "b": 50},
        font={"family": "Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        **kwargs,
    )
    return fig


def change_caption(summary: pd.DataFrame, cite=str) -> str:
    """The text under the chart (markdown): each verdict with its numbers, MCID and MDC and their sources.

    ``cite`` shortens a settings citation for display (``dashboard.metrics.cite``).
    """
    s = summary[summary["n"] >= 2]
    if s.empty:
        return ""
    lines = [
        "Latest score against the first one in these dates. Important = at least the MCID in the better "
        "(or worse) direction (anchor method); reliable = at least the MDC, beyond measurement error "
        "(Jacobson & Truax 1991). Both together read “reliable and important”."
    ]
    for r in s.sort_values("instrument").itertuples():
        pct = f" and ≥ {r.mcid_pct:g} %" if r.mcid_pct is not None and not pd.isna(r.mcid_pct) else ""
        mdc = "" if r.mdc is None or pd.isna(r.mdc) else f"; MDC {r.mdc:g} ({cite(r.mdc_source)})"
        lines.append(
            f"**{r.instrument}** {r.first_score:.1f} → {r.latest_score:.1f} ({_fmt(r.change)}): "
            f"{_verdict(r.category, getattr(r, 'verdict', None)).lower().replace('—', 'not classified')}. "
            f"MCID {r.mcid:g}{pct} ({cite(r.mcid_source)}){mdc}."
        )
    return "  \n".join(lines)
