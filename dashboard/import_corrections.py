"""The Import page's "correct in the app": an import's rejected rows as written, editable, and
imported again by the import itself (``pipelines.ingest.corrections``)."""

from __future__ import annotations

import streamlit as st

from pipelines.ingest import corrections as C
from pipelines.warehouse import audit
from pipelines.warehouse.db import DatabaseBusy


def correct_rejected_rows(db, import_id: int) -> None:
    rows = C.rejected_rows(db, import_id).rename(columns={"reason": "why_rejected"})
    if rows.empty:
        st.caption(
            "The file's rows are not in the database (imported before Knotwork kept them): fix the file "
            "and import it again."
        )
        return
    st.markdown(
        "**Correct them here** — change the cells below and import just these rows again; the file "
        "itself stays as it is."
    )
    headers = [c for c in rows.columns if c not in ("line", "why_rejected")]
    edited = st.data_editor(
        rows,
        key=f"im_fix_{import_id}",
        hide_index=True,
        width="stretch",
        disabled=["line", "why_rejected"],
        column_config={
            "line": st.column_config.NumberColumn("Line", format="%d", width="small"),
            "why_rejected": st.column_config.TextColumn("Why it was rejected", width="large"),
            **{h: st.column_config.TextColumn(h) for h in headers},
        },
    )
    if st.button(
        f"Import the {len(edited)} corrected row{'s' if len(edited) != 1 else ''}",
        key="im_fix_go",
        icon=":material/published_with_changes:",
    ):
        try:
            report, lines = C.reimport_corrected(db, import_id, edited, actor=audit.DASHBOARD)
        except DatabaseBusy as busy:
            st.warning(
                f"Nothing was imported yet: the data is busy ({busy.activity or 'another import'}). "
                "Press the button again in a moment.",
                icon=":material/hourglass:",
            )
            return
        still = sorted({lines.get(r.line, r.line) for r in report.rejects})
        st.session_state["im_fixed"] = (
            f"{report.rows_read} corrected rows imported: {report.inserted} loaded, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.rejected} still rejected"
            + (f" (line{'s' if len(still) != 1 else ''} {', '.join(map(str, still))} of the file)" if still else "")
            + "."
        )
        st.rerun()
