"""Log a visit: mark trigger points and the pain region by clicking the body.

A click on a muscle adds a row (muscle, side) to the form's trigger point rows
(``dashboard.components.entry_rows``), so it is checked by the same rules when the visit is saved;
a click on a region sets the form's pain region.  The chart sits above the form (a form cannot
rerun on a click), so the page says: mark on the body first, then fill in tenderness and release.
"""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from dashboard.charts.body import body_chart, term_label
from dashboard.charts.progress import PLOTLY_CONFIG
from dashboard.components import entry_rows as rows
from dashboard.components.body_map import ZOOM_LABELS
from dashboard.text import md

ss = st.session_state


def _on_click(prefix: str, chart_key: str, region_key: str) -> None:
    points = ((ss.get(chart_key) or {}).get("selection") or {}).get("points") or []
    for point in points:
        kind, key, side = (point.get("customdata") or [None, None, None])[:3]
        if kind == "muscle":
            rows.add_row("tp", prefix, {"muscle": key, "side": side})
        elif kind == "region":
            ss[region_key] = key
    ss[_picks_key(prefix)] = ss.get(_picks_key(prefix), 0) + 1


def _picks_key(prefix: str) -> str:
    return f"{prefix}_body_picks"


def body_picker(
    prefix: str, region_key: str, places: dict[str, str], initial: list[dict], initial_region: str | None, visit_date
) -> None:
    """The clickable body above the visit form; ``initial`` and ``initial_region`` = the trigger points and
    pain region of the visit being edited."""
    rows.start_rows("tp", prefix, initial)
    with st.expander(
        "Mark on the body: click a muscle for a trigger point, or a region for the pain region",
        icon=":material/touch_app:",
        expanded=True,
    ):
        zoom = (
            st.segmented_control(
                "Show", list(ZOOM_LABELS), default="body", format_func=ZOOM_LABELS.get, key=f"{prefix}_body_zoom"
            )
            or "body"
        )
        marked = pd.DataFrame(rows.rows("tp", prefix), columns=[c.field for c in rows.TRIGGER_POINTS])
        region = ss.get(region_key, initial_region)
        fig = body_chart(
            pd.DataFrame({"region": [region] if region else [], "pain": [float("nan")] if region else []}),
            marked.dropna(subset=["muscle"]).assign(visit_date=pd.Timestamp(visit_date)),
            zoom=zoom,
            places=places,
            pickable=True,
            show_scales=False,
            height=540 if zoom == "body" else 400,
        )
        chart_key = f"{prefix}_body_{ss.get(_picks_key(prefix), 0)}_{zoom}"
        st.plotly_chart(
            fig,
            config=PLOTLY_CONFIG,
            key=chart_key,
            selection_mode="points",
            on_select=functools.partial(_on_click, prefix, chart_key, region_key),
        )
        found = [
            f"{term_label(r['muscle'])} ({r.get('side') or 'side not set'})"
            for r in rows.rows("tp", prefix)
            if r.get("muscle")
        ]
        st.caption(
            "Grey rings: muscles (each side); diamonds: regions. Mark on the body first, then fill in "
            "tenderness and release in the trigger point rows below."
            + (f" Marked so far: {md(', '.join(found))}." if found else "")  # a practice's own muscle term
        )
