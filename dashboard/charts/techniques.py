"""Technique-response figures and tables: pure functions DataFrame → Plotly figure / display frame.

No Streamlit here.  The inputs are the tables of :class:`pipelines.techniques.common.TechniqueReport`
(``techniques``, ``pairs``, ``mixes``, ``pressure``).  Same palette and display names as
``dashboard.charts.progress`` (Okabe–Ito; Okabe & Ito 2008).

Conventions: an estimate is drawn only where the analysis produced one (enough clients in
each arm); a row below the minimum n stays in the chart as a grey label with its counts and
no point, so the reader sees it exists and why there is no number.  Every row's label carries
its n.  The zero line is "no difference".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.progress import GREY, LIGHT_GREY, OKABE_ITO, pretty
from dashboard.charts.template import apply_template

SIGNIFICANT = OKABE_ITO["blue"]  # adjusted p < .05 (Holm for techniques, Benjamini-Hochberg for mixes)
NOT_SIGNIFICANT = OKABE_ITO["sky_blue"]
UNADJUSTED = OKABE_ITO["vermillion"]
SUPPRESSED = GREY
FONT = {"family": "Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif", "size": 13}
PRESSURE_AXIS = "Pressure (1 = light … 5 = very deep)"
UNADJUSTED_NAME = "Unadjusted difference — not an effect"
CLEAR_NAME = "Clear (holds after allowing for how many were compared)"
NOT_CLEAR_NAME = "Not clear yet (could be chance)"


def text_value(value, digits: int = 2) -> str:
    """A signed number for a table cell: "—" when missing, a real minus sign, never "−0.00"."""
    if _isnan(value):
        return "—"
    rounded = round(float(value), digits) or 0.0
    return f"{rounded:+.{digits}f}".replace("-", "−")


def _layout(fig: go.Figure, title: str, height: int, **kwargs) -> go.Figure:
    apply_template(fig)
    fig.update_layout(
        height=height,
        font=FONT,
        hoverlabel={"font_size": 13},
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        margin={"l": 20, "r": 20, "t": 60, "b": 60},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0},
        **kwargs,
    )
    return fig


def _isnan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def mix_label(mix: str) -> str:
    """``stretching+trigger_point`` → ``Stretching + Trigger point``."""
    return " + ".join(pretty(t) for t in str(mix).split("+"))


def _row_label(name: str, n_visits, n_clients) -> str:
    # the counts on a second line keep the labels narrow enough for a phone
    return f"{name}<br><span style='color:{GREY};font-size:11px'>{int(n_visits):,} visits, {int(n_clients):,} clients</span>"


def forest_plot(
    rows: pd.DataFrame,
    *,
    axis_title: str,
    title: str,
    label_col: str = "technique",
    min_clients: int | None = None,
    label=pretty,
    higher_is_better: bool = False,
    adjustment: str = "Holm",
) -> go.Figure:
    """Adjusted effects with 95 % intervals, one row each, the best at the top.

    ``rows`` needs ``label_col``, ``n_visits``, ``n_clients``, ``estimable``, ``effect``,
    ``ci_low``, ``ci_high``, ``p_adjusted`` and ``note``.  Rows without an estimate are listed
    below the estimated ones, greyed, with their counts.
    """
    # plotly draws the first category at the bottom: sort so the best (most relief) ends on top
    est = rows[rows["estimable"].astype(bool)].sort_values("effect", ascending=higher_is_better)
    low = rows[~rows["estimable"].astype(bool)].sort_values("n_clients")
    fig = go.Figure()
    labels_low = [_row_label(label(r[label_col]), r["n_visits"], r["n_clients"]) for _, r in low.iterrows()]
    labels_est = [_row_label(label(r[label_col]), r["n_visits"], r["n_clients"]) for _, r in est.iterrows()]
    order = labels_low + labels_est
    if len(low):
        fig.add_trace(
            go.Scatter(
                x=[0.0] * len(low),
                y=labels_low,
                mode="text",
                name="No estimate (too few clients)",
                text=[str(n) if n else "no estimate" for n in low["note"]],
                textposition="middle right",
                textfont={"color": SUPPRESSED, "size": 12},
                hovertemplate="%{y}<br>%{text}<extra></extra>",
                showlegend=True,
            )
        )
    for sig, color, name in ((True, SIGNIFICANT, CLEAR_NAME), (False, NOT_SIGNIFICANT, NOT_CLEAR_NAME)):
        part = est[(est["p_adjusted"] < 0.05) == sig]
        if part.empty:
            continue
        ys = [labels_est[list(est.index).index(i)] for i in part.index]
        fig.add_trace(
            go.Scatter(
                x=part["effect"].to_numpy(float),
                y=ys,
                mode="markers",
                name=name,
                marker={
                    "size": 11,
                    "color": color,
                    "symbol": "circle" if sig else "circle-open",
                    "line": {"width": 2, "color": color},
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["ci_high"] - part["effect"]).to_numpy(float),
                    "arrayminus": (part["effect"] - part["ci_low"]).to_numpy(float),
                    "color": color,
                    "thickness": 2,
                    "width": 5,
                },
                customdata=np.column_stack(
                    [
                        part["ci_low"].to_numpy(float),
                        part["ci_high"].to_numpy(float),
                        part["p_adjusted"].to_numpy(float),
                        part["n_visits"].astype(int),
                        part["n_clients"].astype(int),
                    ]
                ),
                hovertemplate=(
                    "%{y}<br>effect %{x:+.2f} (95 % interval %{customdata[0]:+.2f} to "
                    "%{customdata[1]:+.2f})<br>" + adjustment + "-adjusted p = %{customdata[2]:.3f}<br>"
                    "%{customdata[3]} visits, %{customdata[4]} clients<extra></extra>"
                ),
            )
        )
    fig.add_vline(x=0, line_color=GREY, line_width=1.5)
    fig.update_xaxes(title_text=axis_title, zeroline=False)
    fig.update_yaxes(categoryorder="array", categoryarray=order, automargin=True)
    if min_clients:
        fig.add_annotation(
            text=f"Estimates need ≥ {min_clients} clients with visits both with and without",
            xref="paper",
            yref="paper",
            x=1,
            y=1.02,
            xanchor="right",
            yanchor="bottom",
            showarrow=False,
            font={"size": 11, "color": GREY},
        )
    return _layout(fig, title, 140 + 40 * max(len(order), 1))


def pressure_chart(
    pressure: pd.DataFrame, *, axis_title: str, title: str = "Pressure–response: adjusted mean change by pressure"
) -> go.Figure:
    """Adjusted mean change at each pressure 1–5 with 95 % intervals; levels below min-n greyed."""
    est = pressure[pressure["estimable"].astype(bool)]
    low = pressure[~pressure["estimable"].astype(bool) & (pressure["n_visits"] > 0)]
    fig = go.Figure()
    if len(est):
        fig.add_trace(
            go.Scatter(
                x=est["pressure"].astype(int),
                y=est["adjusted_mean"].to_numpy(float),
                mode="lines+markers",
                name="Adjusted mean change (95 % CI)",
                line={"color": SIGNIFICANT, "width": 2},
                marker={"size": 10, "color": SIGNIFICANT},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (est["ci_high"] - est["adjusted_mean"]).to_numpy(float),
                    "arrayminus": (est["adjusted_mean"] - est["ci_low"]).to_numpy(float),
                    "color": SIGNIFICANT,
                    "thickness": 2,
                    "width": 6,
                },
                text=[f"n = {int(v):,} visits" for v in est["n_visits"]],
                textposition="top center",
                customdata=np.column_stack(
                    [
                        est["ci_low"].to_numpy(float),
                        est["ci_high"].to_numpy(float),
                        est["n_visits"].astype(int),
                        est["n_clients"].astype(int),
                    ]
                ),
                hovertemplate=(
                    "Pressure %{x}<br>adjusted mean change %{y:+.2f} (95 % CI %{customdata[0]:+.2f} to "
                    "%{customdata[1]:+.2f})<br>%{customdata[2]} visits, %{customdata[3]} clients"
                    "<extra></extra>"
                ),
            )
        )
        ymin = float(est["ci_low"].min())
        for _, r in est.iterrows():
            fig.add_annotation(
                x=int(r["pressure"]),
                y=ymin,
                yshift=-18,
                showarrow=False,
                text=f"n = {int(r['n_visits']):,}",
                font={"size": 11, "color": GREY},
            )
    if len(low):
        fig.add_trace(
            go.Scatter(
                x=low["pressure"].astype(int),
                y=[0.0] * len(low),
                mode="markers+text",
                name="Too few clients: no estimate",
                marker={"size": 9, "color": LIGHT_GREY, "symbol": "x"},
                text=[f"{int(n)} clients" for n in low["n_clients"]],
                textposition="top center",
                textfont={"color": SUPPRESSED},
                hovertemplate="Pressure %{x}: %{text} — no estimate<extra></extra>",
            )
        )
    fig.add_hline(y=0, line_color=GREY, line_width=1)
    fig.update_xaxes(title_text=PRESSURE_AXIS, tickmode="array", tickvals=[1, 2, 3, 4, 5], range=[0.5, 5.5])
    fig.update_yaxes(title_text=axis_title)
    return _layout(fig, title, 380)


def adjusted_vs_unadjusted_chart(
    techniques: pd.DataFrame,
    *,
    axis_title: str,
    higher_is_better: bool = False,
    title: str = "Why adjust: unadjusted differences vs adjusted effects",
) -> go.Figure:
    """Teaching view: the raw with-vs-without difference (labelled *not an effect*) next to the estimate."""
    est = techniques[techniques["estimable"].astype(bool)].sort_values("effect", ascending=higher_is_better)
    labels = [pretty(t) for t in est["technique"]]
    fig = go.Figure()
    for i, (_, r) in enumerate(est.iterrows()):
        fig.add_trace(
            go.Scatter(
                x=[r["unadjusted_difference"], r["effect"]],
                y=[labels[i], labels[i]],
                mode="lines",
                line={"color": LIGHT_GREY, "width": 3},
                showlegend=False,
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=est["unadjusted_difference"].to_numpy(float),
            y=labels,
            mode="markers",
            name=UNADJUSTED_NAME,
            marker={"size": 10, "color": UNADJUSTED, "symbol": "diamond-open", "line": {"width": 2}},
            hovertemplate="%{y}<br>unadjusted difference (visits with − without): %{x:+.2f} — not an effect"
            "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=est["effect"].to_numpy(float),
            y=labels,
            mode="markers",
            name="Adjusted effect",
            marker={"size": 11, "color": SIGNIFICANT},
            hovertemplate="%{y}<br>adjusted effect %{x:+.2f}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line_color=GREY, line_width=1.5)
    fig.update_xaxes(title_text=axis_title)
    fig.update_yaxes(automargin=True)
    return _layout(fig, title, 140 + 30 * max(len(est), 1))


# ---------------------------------------------------------------------------
# Tables for st.dataframe
# ---------------------------------------------------------------------------


def _p_text(p) -> str:
    if _isnan(p):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _ci_text(lo, hi, digits: int = 2) -> str:
    if _isnan(lo) or _isnan(hi):
        return "—"
    return f"{lo:+.{digits}f} to {hi:+.{digits}f}".replace("-", "−")


def effect_digits(techniques: pd.DataFrame) -> int:
    """Decimals that show the estimates apart: 3 when every interval is narrower than 0.05.

    A network-sized practice has intervals of ±0.003 points; with two decimals a clear small
    effect reads "−0.00 (−0.01 to −0.00)".
    """
    est = techniques[techniques["estimable"]] if "estimable" in techniques else techniques
    widths = (est["ci_high"] - est["ci_low"]).dropna()
    return 3 if len(widths) and float(widths.max()) < 0.05 else 2


def technique_table(techniques: pd.DataFrame) -> pd.DataFrame:
    """One display row per technique; "—" where there is no estimate (below the minimum n)."""
    t = techniques
    digits = effect_digits(t)
    return pd.DataFrame(
        {
            "Technique": [pretty(x) for x in t["technique"]],
            "Visits": t["n_visits"].astype(int),
            "Clients": t["n_clients"].astype(int),
            "Clients with and without": t["n_clients_both"].astype(int),
            "Effect": [text_value(v, digits) for v in t["effect"]],
            "95 % interval": [_ci_text(a, b, digits) for a, b in zip(t["ci_low"], t["ci_high"])],
            "p (Holm)": [_p_text(p) for p in t["p_adjusted"]],
            **(
                {
                    "95 % interval, pain before measured exactly": [
                        _ci_text(lo, hi, digits) if not _isnan(e) else "—"
                        for e, lo, hi in zip(t["effect_calibrated"], t["calibrated_ci_low"], t["calibrated_ci_high"])
                    ]
                }
                if "effect_calibrated" in t
                else {}
            ),
            "Note": t["note"].fillna(""),
        }
    )


def pair_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with their synergy beyond additive, or the counts that were too few."""
    p = pairs
    return pd.DataFrame(
        {
            "Pair": [f"{pretty(a)} + {pretty(b)}" for a, b in zip(p["technique_a"], p["technique_b"])],
            "Visits with both": p["n_visits_both"].astype(int),
            "Clients with both": p["n_clients_both"].astype(int),
            "Synergy": [text_value(v) for v in p["interaction"]],
            "95 % interval": [_ci_text(a, b) for a, b in zip(p["ci_low"], p["ci_high"])],
            "p (BH, screen)": [_p_text(x) for x in p["p_adjusted"]],
            "In main model": ["yes" if x else "no" for x in p["in_main_model"].astype(bool)],
            "Note": p["note"].fillna(""),
        }
    )


def mix_table(mixes: pd.DataFrame) -> pd.DataFrame:
    """The mix ranking: predicted effect of exactly this mix, its interval, and the observed mean beside it."""
    m = mixes
    digits = effect_digits(m)
    return pd.DataFrame(
        {
            "Mix": [mix_label(x) for x in m["mix"]],
            "Visits": m["n_visits"].astype(int),
            "Clients": m["n_clients"].astype(int),
            "Predicted effect": [text_value(v, digits) for v in m["effect"]],
            "95 % interval": [_ci_text(a, b, digits) for a, b in zip(m["ci_low"], m["ci_high"])],
            "Observed mean change": [text_value(v) for v in m["observed_mean"]],
            "p (BH)": [_p_text(x) for x in m["p_adjusted"]],
            "Note": m["note"].fillna(""),
        }
    )


def subgroup_table(sub: pd.DataFrame, by: str = "complaint_region") -> pd.DataFrame:
    s = sub
    return pd.DataFrame(
        {
            "Complaint region": [pretty(x) for x in s[by]],
            "Technique": [pretty(x) if isinstance(x, str) else "—" for x in s["technique"]],
            "Visits": s["n_visits"].astype(int),
            "Clients": s["n_clients"].astype(int),
            "Effect": [text_value(v) for v in s["effect"]],
            "95 % interval": [_ci_text(a, b) for a, b in zip(s["ci_low"], s["ci_high"])],
            "p (BH, whole table)": [_p_text(x) for x in s["p_adjusted"]],
            "Note": s["note"].fillna(""),
        }
    )
