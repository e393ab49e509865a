"""The top of Log a visit: which client, which day, and whether an earlier visit is being edited
(with its cancel and delete), or, for a new visit, last time's plan and a same-day warning."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import page_parts
from dashboard.charts.progress import pretty
from dashboard.components import brief
from dashboard.components import visit_state as state
from dashboard.components.client_picker import client_picker
from dashboard.queries import brief as brief_queries
from dashboard.text import md
from pipelines.entry import forms as entry
from pipelines.warehouse.db import DatabaseBusy

ss = st.session_state


def client_order(clients: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """Client ids, active clients first (they are the ones being seen), and each id's label."""
    order = clients.assign(_inactive=clients["status"].fillna("active") != "active").sort_values(
        ["_inactive", "display_name", "client_id"]
    )
    labels = {}
    for cid, name, status in zip(clients["client_id"], clients["display_name"], clients["status"]):
        tail = f" · {pretty(status)}" if isinstance(status, str) and status != "active" else ""
        labels[cid] = f"{name} ({cid}){tail}"
    return order["client_id"].tolist(), labels


def _pain(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value) + 0.0:g}"  # + 0.0: never "-0"


def visit_labels(recent: pd.DataFrame) -> dict[str, str]:
    """Each recent visit as the edit picker shows it: date, pain before → after, first techniques."""
    return {
        r.visit_id: f"{pd.Timestamp(r.visit_date):%d %b %Y} · pain {_pain(r.pain_pre)} → {_pain(r.pain_post)} · "
        f"{', '.join(pretty(t) for t in r.techniques[:3]) or 'no techniques'}"
        for r in recent.itertuples()
    }


def who_and_when(clients: pd.DataFrame, prefill: entry.VisitEntry, date_format: str):
    """The client picker and the date; returns (client id or None, date, the column for the edit picker)."""
    ids, labels = client_order(clients)
    today = dt.date.today()
    who, when, which = st.columns([3, 1.4, 3], vertical_alignment="bottom")
    # The shared picker (search-first in a large practice); the page's own state.start keeps the address
    # and the remembered client, because a save here clears the choice for the next client.
    client_id = client_picker(
        "lv_client",
        ids,
        labels,
        where=who,
        placeholder="Type a name or client code…",
        keep=False,
        on_change=state.client_changed,
        disabled=bool(ss.get("lv_edit")),
    )
    visit_date = when.date_input(
        "Date",
        value=prefill.visit_date or today,
        key=f"lv_date_{ss['lv_gen']}",
        format=date_format,
        min_value=dt.date(1990, 1, 1),
        max_value=today + dt.timedelta(days=366),
    )
    with who:
        state.show("client_id")
    with when:
        state.show("visit_date")
    return client_id, visit_date, which


def edit_picker(column, db: str, recent: pd.DataFrame) -> None:
    labels = visit_labels(recent)
    column.selectbox(
        "Edit or delete an earlier visit",
        [None, *labels],
        key="lv_edit_pick",
        on_change=state.start_edit,
        args=(db,),
        format_func=lambda v: "— no, log a new visit —" if v is None else labels.get(v, v),
    )


def editing_bar(db: str, editing: str, prefill: entry.VisitEntry, client_id: str, name: str) -> None:
    """What is being edited, with Cancel and Delete (asked once more before it deletes)."""
    day = f"{pd.Timestamp(prefill.visit_date):%d %b %Y}"
    note, cancel, delete = st.columns([6, 1.2, 1.6], vertical_alignment="center")
    note.info(
        f"Editing the visit of {day} ({editing}). Saving replaces it; the change is kept in the audit log.",
        icon=":material/edit:",
    )
    cancel.button("Cancel edit", key="lv_cancel", on_click=state.reset_form, width="stretch")
    with delete.popover("Delete visit", icon=":material/delete:", width="stretch"):
        st.write(f"Delete the visit of {day} with its ROM readings and trigger points? The audit log keeps a copy.")
        if st.button("Yes, delete this visit", key="lv_delete_confirm", type="primary"):
            try:
                entry.delete_visit(editing, db=db)
            except DatabaseBusy as busy:  # the rest of the page still runs: nothing on it is lost
                page_parts.not_saved_busy(busy, "Yes, delete this visit")
            else:
                state.flash("success", f"Deleted the visit of {day} for {md(name)}.", [], client_id, reset="deleted")


def new_visit_notes(db: str, ver: str, client_id: str, name: str, recent: pd.DataFrame, visit_date) -> None:
    """Before a new visit: last time's plan, and a warning when the client already has a visit that day."""
    brief.plan_reminder(brief_queries.client_brief(db, ver, client_id))
    same_day = recent[pd.to_datetime(recent["visit_date"]).dt.date == visit_date] if len(recent) else recent
    if len(same_day):
        st.warning(
            f"{md(name)} already has a visit on {visit_date:%d %b %Y}. Saving adds a second visit that "
            "day; to change the first one, pick it under *Edit or delete an earlier visit*.",
            icon=":material/event_repeat:",
        )
