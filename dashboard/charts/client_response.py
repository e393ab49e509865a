"""This client's response per technique as a chart: pure function DataFrame -> Plotly figure.

Drawn as extra relief (points, positive = less pain with the technique) so "more is better"
reads left to right; the practice's typical client is drawn beside each estimate.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.progress import COLORS, _layout, fmt_points, pretty
from pipelines.techniques.client_response import HELPS, WORSE

VERDICT_COLORS = {HELPS: COLORS["improvement"], WORSE: COLORS["worse"]}
RELIEF_X = "Extra relief with it (points; < 0 = more pain)"


def client_response_chart(rows: pd.DataFrame, title: str = "This client's response to each technique") -> go.Figure:
    """One line per technique with an estimate: this client's extra relief and 95 % interval (dot
    and bar, coloured by what it shows), and the practice effect (grey diamond)."""
    data = rows.dropna(subset=["effect"]).iloc[::-1]  # best evidence at the top
    labels = [pretty(t) for t in data["technique"]]
    relief, low, high = -data["effect"], -data["ci_high"], -data["ci_low"]
    colors = [VERDICT_COLORS.get(v, COLORS["reference"]) for v in data["verdict"]]
    fig = go.Figure()
    fig.add_vline(x=0, line={"color": COLORS["reference"], "width": 1})
    fig.add_trace(
        go.Scatter(
            x=-data["practice_effect"],
            y=labels,
            mode="markers",
            name="Practice (typical client)",
            marker={"symbol": "diamond-open", "size": 10, "color": COLORS["reference"]},
            hovertemplate="%{y}: practice %{x:.1f} points<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=relief,
            y=labels,
            mode="markers",
            name="This client (95 % interval)",
            marker={"size": 11, "color": colors},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": high - relief,
                "arrayminus": relief - low,
                "color": COLORS["reference"],
                "thickness": 2,
                "width": 0,
            },
            customdata=list(
                zip(
                    [fmt_points(v) for v in low],
                    [fmt_points(v) for v in high],
                    data["n_visits_with"],
                    data["n_visits_without"],
                )
            ),
            hovertemplate=(
                "%{y}: %{x:.1f} points more relief (likely %{customdata[0]} to %{customdata[1]}); "
                "%{customdata[2]} visits with, %{customdata[3]} without<extra></extra>"
            ),
        )
    )
    fig.update_xaxes(title_text=RELIEF_X, zeroline=False)
    return _layout(fig, title, height=150 + 32 * len(data), showlegend=True)
