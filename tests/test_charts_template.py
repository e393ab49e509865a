"""The charts' template is assigned without Plotly re-validating it (dashboard/charts/template.py):
the figure must be exactly the one ``update_layout(template="plotly_white")`` gives, and the
figure must still reject invalid properties afterwards."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from dashboard.charts import client, progress, techniques
from dashboard.charts.template import apply_template


def _figure() -> go.Figure:
    fig = go.Figure(go.Scatter(x=["2026-01-05", "2026-01-12"], y=[7, 4], mode="lines+markers", name="pain"))
    fig.add_bar(x=["a", "b"], y=[1, 2])
    return fig


def test_same_figure_as_validated_template():
    slow = _figure()
    slow.update_layout(template="plotly_white", height=300, title={"text": "Pain"})
    fast = apply_template(_figure())
    fast.update_layout(height=300, title={"text": "Pain"})
    assert fast.to_dict() == slow.to_dict()
    # What reaches the browser: the same JSON (keys inside the template may come in another order).
    assert json.loads(fast.to_json()) == json.loads(slow.to_json())


def test_validation_stays_on_after_the_template():
    fig = apply_template(_figure())
    with pytest.raises(ValueError):
        fig.update_layout(height="tall")
    with pytest.raises(ValueError):
        fig.update_layout(no_such_property=1)


@pytest.mark.parametrize(
    "layout",
    [
        lambda f: progress._layout(f, "t", 300),
        lambda f: techniques._layout(f, "t", 300),
        lambda f: client._layout(f, "t", None, 300),
    ],
    ids=["progress", "techniques", "client"],
)
def test_every_chart_module_draws_with_plotly_white(layout):
    fig = layout(_figure())
    assert fig.layout.template == pio.templates["plotly_white"]
