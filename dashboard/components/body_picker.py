"""Log a visit: mark trigger points and the pain region by clicking the body.

A click on a muscle adds a row (muscle, side) to the form's trigger point table, the same rows
the table holds, so they are checked by the same rules when the visit is saved; a click on a
region sets the form's pain region.  The chart sits above the form (a form cannot rerun on a
click), and the table is rebuilt with the new row, so the page says: mark on the body first,
then fill in tenderness and release in the table.
"""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from dashboard.charts.body import body_chart, term_label
from dashboard.charts.progress import PLOTLY_CONFIG
from dashboard.components.body_map import ZOOM_LABELS

ss = st.session_state


def _rows_key(gen: int) -> str:
    return f"lv_tp_rows_{gen}"


def _picks_key(gen: int) -> str:
    return f"lv_tp_picks_{gen}"


def table_rows(gen: int, initial: list[dict]) -> list[dict]:
    """The trigger point rows the table starts from: the visit's own (when editing) plus those clicked."""
    return ss.setdefault(_rows_key(gen), [dict(r) for r in initial])


def table_key(gen: int, client_id: str) -> str:
    """The table's widget key: a new one after each click, so the table shows the clicked row."""
    return f"lv_tp_{gen}_{client_id}_{ss.get(_picks_key(gen), 0)}"


def apply_table_changes(rows: list[dict], changes: dict | None) -> list[dict]:
    """``rows`` with a data editor's recorded changes (edited, added, deleted rows) applied."""
    if not changes:
        return [dict(r) for r in rows]
    out = [dict(r) for r in rows]
    for index, edit in (changes.get("edited_rows") or {}).items():
        if int(index) < len(out):
            out[int(index)].update(edit)
    out += [dict(r) for r in changes.get("added_rows") or []]
    deleted = {int(i) for i in changes.get("deleted_rows") or []}
    return [r for i, r in enumerate(out) if i not in deleted]


def _on_click(gen: int, client_id: str, chart_key: str, region_key: str) -> None:
    points = ((ss.get(chart_key) or {}).get("selection") or {}).get("points") or []
    rows = apply_table_changes(table_rows(gen, []), ss.get(table_key(gen, client_id)))
    for point in points:
        kind, key, side = (point.get("customdata") or [None, None, None])[:3]
        if kind == "muscle":
            rows.append({"muscle": key, "side": side})
        elif kind == "region":
            ss[region_key] = key
    ss[_rows_key(gen)] = rows
    ss[_picks_key(gen)] = ss.get(_picks_key(gen), 0) + 1


def body_picker(
    gen: int,
    client_id: str,
    region_key: str,
    places: dict[str, str],
    initial: list[dict],
    initial_region: str | None,
    visit_date,
) -> None:
    """The clickable body above the visit form; ``initial`` and ``initial_region`` = the trigger points and
    pain region of the visit being edited."""
    table_rows(gen, initial)
    with st.expander(
        "Mark on the body: click a muscle for a trigger point, or a region for the pain region",
        icon=":material/touch_app:",
        expanded=True,
    ):
        zoom = (
            st.segmented_control(
                "Show", list(ZOOM_LABELS), default="body", format_func=ZOOM_LABELS.get, key=f"lv_body_zoom_{gen}"
            )
            or "body"
        )
        rows = pd.DataFrame(
            table_rows(gen, []), columns=["muscle", "side", "referral_region", "tenderness", "released"]
        )
        region = ss.get(region_key, initial_region)
        fig = body_chart(
            pd.DataFrame({"region": [region] if region else [], "pain": [float("nan")] if region else []}),
            rows.dropna(subset=["muscle"]).assign(visit_date=pd.Timestamp(visit_date)),
            zoom=zoom,
            places=places,
            pickable=True,
            show_scales=False,
            height=540 if zoom == "body" else 400,
        )
        chart_key = f"lv_body_{gen}_{ss.get(_picks_key(gen), 0)}_{zoom}"
        st.plotly_chart(
            fig,
            config=PLOTLY_CONFIG,
            key=chart_key,
            selection_mode="points",
            on_select=functools.partial(_on_click, gen, client_id, chart_key, region_key),
        )
        marked = [
            f"{term_label(r['muscle'])} ({r.get('side') or 'side not set'})"
            for r in table_rows(gen, [])
            if r.get("muscle")
        ]
        st.caption(
            "Grey rings: muscles (each side); diamonds: regions. Mark on the body first, then fill in "
            "tenderness and release in the trigger point table below."
            + (f" Marked so far: {', '.join(marked)}." if marked else "")
        )
