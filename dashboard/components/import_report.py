"""Import page: the report of the last import (every row accounted for) and the rejected rows of any
import, each with its line, column, value and reason, to download or correct here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.components.import_mapping import KIND_LABELS
from dashboard.import_corrections import correct_rejected_rows
from dashboard.queries import entry as eq
from dashboard.text import md
from pipelines.exports.safe_csv import to_csv_bytes


def last_import(report: dict) -> None:
    """``report``: ``ImportReport.to_json()`` with the file's name and the import's number."""
    st.subheader(f"Imported {md(report['file'])}")
    with st.container(horizontal=True):
        st.metric("Rows read", f"{report['rows_read']:,}", border=True)
        st.metric("Loaded", f"{report['inserted']:,}", border=True)
        st.metric("Updated", f"{report['updated']:,}", border=True)
        st.metric("Unchanged", f"{report['unchanged']:,}", border=True)
        st.metric("Rejected", f"{report['rejected']:,}", border=True)
    st.caption(
        f"{KIND_LABELS.get(report['kind'], report['kind'])}. Loaded + updated + unchanged + rejected = rows read."
        + (" The rejected rows are listed below with their reasons." if report["rejected"] else "")
        + " Choose another file to import more."
    )
    for note in report["notes"]:
        st.info(md(note), icon=":material/info:")
    if report.get("new_terms"):
        st.dataframe(
            pd.DataFrame(report["new_terms"])[["vocabulary", "spelling", "rows", "suggestion"]],
            hide_index=True,
            key="im_new_terms",
            column_config={
                "vocabulary": "Kind",
                "spelling": "New term (kept as your own)",
                "rows": st.column_config.NumberColumn("Rows", format="%d"),
                "suggestion": "Closest known",
            },
        )
    if report["warnings"]:
        n_flagged = len({w["line"] for w in report["warnings"]})
        with st.expander(f"{n_flagged} row{'s' if n_flagged != 1 else ''} kept with a note"):
            st.dataframe(pd.DataFrame(report["warnings"]), hide_index=True, key="im_warnings")


def rejected_rows(db: str, ver: str) -> None:
    ss = st.session_state
    imports = eq.recent_imports(db, ver)
    with_rejects = imports[imports["rejected"] > 0]
    st.subheader("Rejected rows")
    if "im_fixed" in ss:
        st.success(ss.pop("im_fixed"), icon=":material/published_with_changes:")
    if with_rejects.empty:
        st.caption("No import has rejected rows.")
        return
    labels = {
        int(r.import_id): f"#{r.import_id} · {pd.Timestamp(r.started_at):%d %b %Y %H:%M} · {Path(r.path).name} "
        f"({r.kind}) · {r.rejected} rejected of {r.rows_read}"
        for r in with_rejects.itertuples()
    }
    if ss.get("im_rejects_pick") not in labels:
        ss.pop("im_rejects_pick", None)
    pick = st.selectbox("Import", list(labels), key="im_rejects_pick", format_func=labels.get)
    rejects = eq.import_rejects(db, ver, pick)
    st.dataframe(
        rejects,
        hide_index=True,
        key="im_rejects",
        height=min(38 + 35 * len(rejects), 420),
        column_config={
            "line": st.column_config.NumberColumn("Line", format="%d", width="small"),
            "column": "Column",
            "value": "Value",
            "reason": st.column_config.TextColumn("Reason", width="large"),
        },
    )
    st.download_button(
        "Download these rejects (CSV)",
        data=lambda: to_csv_bytes(rejects),
        file_name=f"rejects-import-{pick}.csv",
        mime="text/csv",
        key="im_rejects_csv",
        icon=":material/download:",
    )
    st.caption(
        "Fix the rows in your file (line numbers are the file's own) and import it again: rows already "
        "imported stay unchanged, the fixed ones load. Or correct them here:"
    )
    correct_rejected_rows(db, pick)
