"""The "Letter to the physician" download on the Client progress page (one call from the page)."""

from __future__ import annotations

import streamlit as st

from dashboard.letter import letter_pdf_bytes
from dashboard.letter_facts import PRACTICE_FIELDS
from dashboard.reports import report_filename
from pipelines.warehouse.audit import DASHBOARD


def letter_download(db, client_id: str, display_name: str, settings: dict) -> None:
    """A PDF letter for a referring physician; says which practice details the letter will lack."""
    st.subheader("Letter to the physician")
    practice = settings.get("practice", {})
    unset = [words for key, words in PRACTICE_FIELDS if not str(practice.get(key, "") or "").strip()]
    st.write(
        "One to two pages for a referring physician: pain, function, range of motion and trigger point "
        "findings with their thresholds and sources, treatment and plan."
    )
    if unset:
        st.caption(
            "Not set yet, so the letter says so: "
            + ", ".join(unset)
            + ". Add them under [practice] in knotwork-settings.toml next to the database."
        )
    paper = st.radio("Paper", ["A4", "Letter"], horizontal=True, key="cp_letter_paper")
    # Built only when clicked; the download leaves an "export" row in the audit log.
    st.download_button(
        f"Download letter (PDF, {paper})",
        icon=":material/description:",
        on_click="ignore",
        data=lambda: letter_pdf_bytes(db, client_id, paper, actor=DASHBOARD),
        file_name=report_filename(display_name, "pdf", prefix="letter"),
        mime="application/pdf",
        key="cp_letter_pdf",
        help="Printed by headless Chromium; takes a few seconds.",
    )
