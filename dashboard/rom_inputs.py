"""Log a visit's range-of-motion readings for the movements measured last time, one number
input per reading.

Why not the table: in ``st.data_editor`` the first edit of a cell loses its first key when the
next key follows within ~90 ms (an upstream grid issue: "52" typed quickly is stored as 2).
Number inputs keep every key, and re-measuring last time's movements is most of the typing, so
those readings are entered here; the table below stays for movements not measured before.
"""

from __future__ import annotations

import streamlit as st

from dashboard.charts.progress import pretty
from pipelines.ingest.vocab import rom_unit


def reading_label(row: dict) -> str:
    side = row.get("side")
    tail = "" if side in (None, "none") else f" ({pretty(side)})"
    return f"{pretty(row['joint'])} {pretty(row['movement']).lower()}{tail}"


def rom_number_inputs(rows: list[dict], key: str) -> list[dict]:
    """One line per reading: its name, before and after; returns the rows with the typed values."""
    out = []
    for i, row in enumerate(rows):
        unit = rom_unit(row["joint"], row["movement"])
        name, before, after = st.columns([3, 1.2, 1.2], vertical_alignment="center")
        label = reading_label(row)
        name.markdown(label)
        pre = before.number_input(
            f"{label} before ({unit})",
            value=row.get("degrees_pre"),
            step=1.0,
            format="%.0f",
            key=f"{key}_pre_{i}",
            placeholder=f"before, {unit}",
            label_visibility="collapsed",
        )
        post = after.number_input(
            f"{label} after ({unit})",
            value=row.get("degrees_post"),
            step=1.0,
            format="%.0f",
            key=f"{key}_post_{i}",
            placeholder=f"after, {unit}",
            label_visibility="collapsed",
        )
        out.append({**row, "degrees_pre": pre, "degrees_post": post})
    return out
