"""The figures' look (Plotly's ``plotly_white`` template), applied without re-validating it.

``fig.update_layout(template="plotly_white")`` makes Plotly deep-copy and validate the whole
registered template on every figure: 40-80 ms a figure on the project machine under load, most
of a small chart's build time, and the client page builds about ten.  The registered template is
valid already, so it is assigned the way Plotly assigns its own default template (validation off
for that one assignment).  The figure is the same either way: ``tests/test_charts_template.py``
compares the two.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

NAME = "plotly_white"


def apply_template(fig: go.Figure, name: str = NAME) -> go.Figure:
    layout = fig.layout
    validate = layout._validate
    layout._validate = False
    try:
        layout.template = pio.templates[name]
    finally:
        layout._validate = validate
    return fig
