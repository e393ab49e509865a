"""The audit log as the Records page shows it: filters, the table (edits as "field: before → after"), a
formula-safe CSV of what is shown, and one change in full."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from dashboard import page_parts
from dashboard.components.client_picker import client_picker
from dashboard.queries import entry as eq
from dashboard.queries import therapist as queries
from pipelines.exports.safe_csv import to_csv_bytes
from pipelines.warehouse import audit


def _details(r) -> str:
    if r.action == "update":
        return audit.describe_change(r.before, r.after)
    if r.action == "import" and isinstance(r.after, str):
        return audit.describe_import(r.after)
    return r.detail if isinstance(r.detail, str) and r.detail else ""


def _record(r) -> str:
    if r.action == "import":  # the key is the import's number, not a record's
        kind = "ROM" if r.kind == "rom" else str(r.kind).replace("_", " ")
        return f"{kind} file (import {r.key})"
    word = audit.KIND_WORDS.get(r.kind, r.kind)
    if r.kind == "share_link":
        return f"{word} #{r.key}"  # as the sharing page's "link #" column names it
    if r.kind in ("database", "password"):
        return word
    return word if r.kind == "report" else f"{word} {r.key}"


def _filtered_log(db: str, ver: str, facets: pd.DataFrame) -> pd.DataFrame:
    """The filter row (what happened, record, client, dates) and the log rows it selects."""
    clients = queries.clients(db, ver)
    action_opts = sorted(
        facets["action"].unique(), key=lambda a: list(audit.ACTION_WORDS).index(a) if a in audit.ACTION_WORDS else 99
    )
    kind_opts = sorted(facets["kind"].unique())
    first, last = pd.Timestamp(facets["first_day"].min()).date(), pd.Timestamp(facets["last_day"].max()).date()

    f1, f2, f3, f4 = st.columns([3, 3, 3, 3])
    actions = f1.multiselect(
        "What happened",
        action_opts,
        key="rec_actions",
        select_all=False,
        placeholder="Everything",
        format_func=lambda a: audit.ACTION_WORDS.get(a, a),
    )
    kinds = f2.multiselect(
        "Record",
        kind_opts,
        key="rec_kinds",
        select_all=False,
        placeholder="All records",
        format_func=lambda k: audit.KIND_WORDS.get(k, k),
    )
    # A filter, not "the client being worked with": it starts on all clients and keeps nothing.
    client = client_picker(
        "rec_client",
        clients["client_id"].tolist(),
        queries.client_labels(db, ver),
        where=f3,
        placeholder="All clients",
        keep=False,
    )
    today = dt.date.today()  # not the last entry's day: a backup made now must not fall outside the filter
    days = f4.date_input(
        "Dates",
        value=(min(first, today), today),
        min_value=min(first, today),
        max_value=max(last, today),
        key="rec_days",
        format=page_parts.date_input_format(queries.practice_settings(db)),
    )
    since, until = (days[0], days[-1]) if isinstance(days, (tuple, list)) and days else (None, None)
    return eq.audit_log(db, ver, tuple(actions), tuple(kinds), client, since, until)


def _change_in_full(log: pd.DataFrame) -> None:
    edits = log[log["action"].isin(["insert", "update", "delete"])]
    if not len(edits):
        return
    with st.expander("A change in full (the record before and after)"):
        # Plain text choices (not row numbers): nothing to look up when the filters change.
        labels = {
            f"{pd.Timestamp(r.at):%d %b %Y %H:%M} · {audit.ACTION_WORDS[r.action]} "
            f"{audit.KIND_WORDS.get(r.kind, r.kind)} {r.key} (#{r.audit_id})": r
            for r in edits.itertuples()
        }
        row = labels[st.selectbox("Change", list(labels), key="rec_pick")]
        b, a = st.columns(2)
        b.markdown("**Before**")
        b.json(json.loads(row.before) if isinstance(row.before, str) else {})
        a.markdown("**After**")
        a.json(json.loads(row.after) if isinstance(row.after, str) else {})


def audit_log(db: str, ver: str, waiting: int) -> None:
    """``waiting``: export rows still queued beside the database (``audit.pending_count``)."""
    st.caption(
        "Everything that changed the record or left it, newest first. Knotwork has one practice password and "
        "no personal accounts, so **Who** says where it came from — *therapist (dashboard)*, "
        "*<computer user> (command line)*, *client via share link* — not which therapist."
    )
    if waiting:
        st.info(
            f"{waiting} entr{'ies' if waiting != 1 else 'y'} (report exports made while an import was running) "
            "will be added as soon as the database is free.",
            icon=":material/hourglass:",
        )
    facets = eq.audit_facets(db, ver)
    if facets.empty:
        st.info(
            "Nothing recorded yet. Imports, edits, report downloads, private links and backups will appear here.",
            icon=":material/history:",
        )
        return
    log = _filtered_log(db, ver, facets)
    names = queries.client_labels(db, ver)
    shown = pd.DataFrame(
        {
            "When": pd.to_datetime(log["at"]),
            "Who": log["actor"].fillna("not recorded"),
            "What": [audit.ACTION_WORDS.get(a, a) for a in log["action"]],
            "Record": [_record(r) for r in log.itertuples()],
            "Client": [names.get(c, f"(removed) ({c})") if isinstance(c, str) and c else "" for c in log["client_id"]],
            "Details": [_details(r) for r in log.itertuples()],
        }
    )
    total = int(facets["n"].sum())
    st.caption(f"{len(shown):,} of {total:,} entries" + (" (the newest 5,000)" if len(shown) == 5000 else ""))
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key="rec_log",
        height=min(38 + 35 * max(len(shown), 1), 560),
        column_config={
            # Fixed widths: on a tablet the table scrolls sideways instead of cutting words.
            "When": st.column_config.DatetimeColumn(format="DD MMM YYYY HH:mm", width=130),
            "Who": st.column_config.TextColumn(width=170),
            "What": st.column_config.TextColumn(width=160),
            "Record": st.column_config.TextColumn(width=220),
            "Client": st.column_config.TextColumn(width=140),
            "Details": st.column_config.TextColumn(width=420),
        },
    )
    st.download_button(
        "Download as CSV",
        data=to_csv_bytes(shown),
        file_name=f"knotwork-audit-{dt.date.today()}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="rec_csv",
        on_click="ignore",
        help="Opens safely in a spreadsheet: cells that start like a formula are kept as text.",
    )
    _change_in_full(log)
