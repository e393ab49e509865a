"""Log a visit's rows of readings (other ROM movements, trigger points): one input per value, rows
added and removed with buttons.

Why not a table: in ``st.data_editor`` the first edit of a cell loses its first key when the next
key follows within ~90 ms (an upstream grid issue: "52" typed quickly was stored as 2, silently).
A number input keeps every key.  Each row has a stable id, so removing row 2 leaves what was typed
in row 3 where it was; the values live in the session state under the widgets' own keys, so a
click on the body (a rerun) or a refused save keeps them.

The buttons are the form's own submit buttons with callbacks: they run before the page does,
commit what was typed in the form and add or remove one row; the visit is saved only by *Save*.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.charts.progress import pretty

ss = st.session_state


@dataclass(frozen=True)
class Column:
    field: str  # the form field (pipelines.entry.forms ROM_COLUMNS / TP_COLUMNS)
    label: str  # the label on the page
    width: float
    options: str | None = None  # name of the option list for a pick; None for a number
    step: float = 1.0
    number_format: str = "%.0f"
    help: str | None = None


ROM = (
    Column("joint", "Joint", 1.7, "joint"),
    Column("movement", "Movement", 1.8, "movement"),
    Column("side", "Side", 1.2, "side"),
    Column("degrees_pre", "Before", 1.5, help="Degrees (the jaw in mm) before treatment"),
    Column("degrees_post", "After", 1.5, help="Degrees (the jaw in mm) after treatment"),
    Column("instrument", "Measured with", 1.5, "instrument"),
)
TRIGGER_POINTS = (
    Column("muscle", "Muscle", 2.0, "muscle"),
    Column("side", "Side", 1.2, "side"),
    Column("referral_region", "Refers to", 1.8, "region"),
    Column("tenderness", "Tenderness", 1.5, step=0.5, number_format="%.1f", help="0–10"),
    Column("released", "Released", 1.3, "released"),
)
KINDS = {"rom": ROM, "tp": TRIGGER_POINTS}


def _ids_key(kind: str, prefix: str) -> str:
    return f"{prefix}_{kind}_ids"


def widget_key(kind: str, prefix: str, row_id: int, field: str) -> str:
    """The session-state key of one value: ``prefix`` names the form (its generation and client)."""
    return f"{prefix}_{kind}_{row_id}_{field}"


def _put(kind: str, prefix: str, row_id: int, values: dict) -> None:
    for col in KINDS[kind]:
        value = values.get(col.field)
        if value is None or value != value:  # None or NaN: leave the input empty
            continue
        ss[widget_key(kind, prefix, row_id, col.field)] = float(value) if col.options is None else value


def start_rows(kind: str, prefix: str, rows: list[dict]) -> None:
    """The rows a form starts with (a visit being edited), set once per form."""
    key = _ids_key(kind, prefix)
    if key in ss:
        return
    ss[key] = list(range(len(rows)))
    for row_id, row in enumerate(rows):
        _put(kind, prefix, row_id, row)


def add_row(kind: str, prefix: str, values: dict | None = None) -> None:
    """A new row at the end, with ``values`` filled in (a muscle clicked on the body)."""
    ids = ss.setdefault(_ids_key(kind, prefix), [])
    row_id = max(ids, default=-1) + 1
    ids.append(row_id)
    _put(kind, prefix, row_id, values or {})


def remove_row(kind: str, prefix: str, row_id: int) -> None:
    ids = ss.get(_ids_key(kind, prefix), [])
    if row_id in ids:
        ids.remove(row_id)
    for col in KINDS[kind]:
        ss.pop(widget_key(kind, prefix, row_id, col.field), None)


def rows(kind: str, prefix: str) -> list[dict]:
    """What the rows hold now, in order (the last values the form committed)."""
    return [
        {col.field: ss.get(widget_key(kind, prefix, row_id, col.field)) for col in KINDS[kind]}
        for row_id in ss.get(_ids_key(kind, prefix), [])
    ]


def row_inputs(kind: str, prefix: str, options: dict[str, list[str]], add_label: str) -> list[dict]:
    """The rows as inputs inside the visit form, an ✕ per row and an add button; returns the rows."""
    columns = KINDS[kind]
    out = []
    for n, row_id in enumerate(ss.get(_ids_key(kind, prefix), []), start=1):
        cells = st.columns([c.width for c in columns] + [0.5], vertical_alignment="bottom")
        row = {}
        for cell, col in zip(cells, columns):
            key = widget_key(kind, prefix, row_id, col.field)
            if col.options is not None:
                choices = list(options[col.options])
                if ss.get(key) is not None and ss[key] not in choices:  # a practice term of an edited visit
                    choices.append(ss[key])
                row[col.field] = cell.selectbox(
                    col.label, choices, index=None, key=key, format_func=pretty, placeholder="—"
                )
            else:
                row[col.field] = cell.number_input(
                    col.label, value=None, step=col.step, format=col.number_format, key=key, help=col.help
                )
        cells[-1].form_submit_button(
            "",
            icon=":material/close:",
            key=f"{prefix}_{kind}_remove_{row_id}",
            help=f"Remove row {n}",
            on_click=remove_row,
            args=(kind, prefix, row_id),
        )
        out.append(row)
    st.form_submit_button(
        add_label, icon=":material/add:", key=f"{prefix}_{kind}_add", on_click=add_row, args=(kind, prefix)
    )
    return out
