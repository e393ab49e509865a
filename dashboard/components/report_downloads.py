"""The client's progress report as HTML or PDF download buttons (Share page)."""

from __future__ import annotations

import streamlit as st

from dashboard.reports import report_filename, report_html_download, report_pdf_bytes
from pipelines.warehouse.audit import DASHBOARD


def report_downloads(db: str, client_id: str, name: str) -> None:
    st.subheader("Progress report")
    st.write(
        "A file the client keeps: plain-language summary, charts, what was done and home care. "
        "It works offline and loads nothing from the internet."
    )
    paper = st.radio("Paper size for the PDF", ["A4", "Letter"], horizontal=True, key="sh_paper")

    c1, c2 = st.columns(2)
    # Built only when clicked; each download leaves an "export" row in the audit log (Records page).
    c1.download_button(
        "Download report (HTML)",
        data=lambda: report_html_download(db, client_id, actor=DASHBOARD),
        file_name=report_filename(name, "html"),
        mime="text/html",
        on_click="ignore",
        icon=":material/download:",
        key="sh_html",
    )
    c2.download_button(
        f"Download report (PDF, {paper})",
        data=lambda: report_pdf_bytes(db, client_id, paper, actor=DASHBOARD),
        file_name=report_filename(name, "pdf"),
        mime="application/pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        key="sh_pdf",
        help="Printed by headless Chromium; takes a few seconds.",
    )
