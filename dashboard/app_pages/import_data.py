"""Import: bring in a spreadsheet or a form export without editing it first.

Upload → the kind is detected → columns are matched (a saved mapping that fits the file is
applied by itself; otherwise suggestions by name) → the first rows are checked with the
import's own rules → import with a progress bar → the report, and every rejected row with
its reason, downloadable.  The engine is ``knotwork ingest``'s (``pipelines.ingest.importer``); the
upload is saved to a temporary file for it and removed after the run.  The steps are drawn by
``dashboard.components.import_mapping``, ``import_check``, ``import_run`` and ``import_report``.
"""

from __future__ import annotations

import shutil

import streamlit as st

from dashboard.components.import_check import check_rows
from dashboard.components.import_mapping import choose_mapping
from dashboard.components.import_report import last_import, rejected_rows
from dashboard.components.import_run import import_button, save_mapping
from dashboard.import_terms import choose_new_terms, practice_terms_section
from dashboard.queries import therapist as queries
from pipelines.ingest.readers import FileProblem, open_table
from pipelines.ingest.uploads import save_upload

db = queries.current_db()
ver = queries.version(db)
ss = st.session_state

st.title("Import")
st.caption(
    "CSV (comma or semicolon) or XLSX, one kind of data per file. Re-importing a file changes nothing; a "
    "corrected file updates just the rows it corrects. Clients first, then visits, then the rest."
)

ss.setdefault("im_gen", 0)
report_area = st.container()
uploaded = st.file_uploader("Choose a file", type=["csv", "txt", "tsv", "xlsx", "xlsm"], key=f"im_file_{ss['im_gen']}")
if uploaded is not None:
    ss.pop("im_report", None)  # a new file: the last report makes way for its preview
report = ss.get("im_report")

if uploaded is not None:
    # Written for this run only and removed at its end (``finally``), imported or not.
    path = save_upload(uploaded.name, uploaded.getvalue())
    try:
        try:
            table = open_table(path)
        except FileProblem as exc:
            st.error(f"This file cannot be imported: {exc}", icon=":material/block:")
            st.stop()
        mapping = choose_mapping(db, uploaded.file_id, table)
        if not mapping.missing:
            check = check_rows(db, path, mapping)
            same_as = choose_new_terms(check.new_terms, db, key=f"im_term_{uploaded.file_id}_{mapping.kind}")
            save_mapping(db, uploaded.file_id, uploaded.name, mapping)
            import_button(db, path, uploaded.name, mapping, check, same_as)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)

if report:
    with report_area:
        last_import(report)
rejected_rows(db, ver)
practice_terms_section(db)
