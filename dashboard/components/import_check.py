"""Import page, step 2: the first rows checked with the import's own rules, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard.components.import_mapping import Mapping
from dashboard.text import md
from pipelines.ingest import mappings as M
from pipelines.ingest import terms as T
from pipelines.ingest.practice_rules import db_vocabularies
from pipelines.ingest.readers import FileProblem
from pipelines.ingest.uploads import count_data_rows


@dataclass(frozen=True)
class Check:
    total: int  # rows the import will read (blank rows not counted)
    blank: int  # blank rows it will skip (CSV only: a spreadsheet's empty rows are not rows)
    new_terms: list  # spellings not in the practice's vocabularies (``pipelines.ingest.terms``)


def check_rows(db: str, path: Path, m: Mapping) -> Check:
    try:
        pv = M.preview(path, m.kind, m.rename, db=db, n_rows=20, day_first=m.day_first)
    except FileProblem as exc:
        st.error(str(exc), icon=":material/block:")
        st.stop()
    new_terms, column_notes, total = T.file_new_terms(path, m.kind, m.rename, db_vocabularies(db), pv.day_first)
    # Rows as the import counts them: blank rows are skipped, and said so here and in the report.
    blank = max(count_data_rows(path) - total, 0) if path.suffix.lower() not in (".xlsx", ".xlsm") else 0
    st.markdown(
        f"**Check** — the first {len(pv.rows)} of {total:,} rows, with the import's own rules"
        + (f" ({blank} blank row{'s' if blank != 1 else ''} will be skipped)" if blank else "")
    )
    for note in column_notes:
        if note.startswith("columns not imported"):
            st.warning(
                md(note[0].upper() + note[1:]) + ". Choose what they are above if they should be.",
                icon=":material/visibility_off:",
            )
    if pv.n_bad:
        st.warning(
            f"{pv.n_ok} rows look fine, {pv.n_bad} would be rejected (reason in the *problems* column). "
            "You can import anyway: rejected rows are kept with their reason to fix and re-import.",
            icon=":material/rule:",
        )
    else:
        st.success(f"All {pv.n_ok} rows checked look fine.", icon=":material/task_alt:")
    for note in pv.notes:
        st.caption(md(note))
    st.dataframe(
        pv.rows,
        hide_index=True,
        key="im_preview",
        height=min(38 + 35 * len(pv.rows), 420),
        column_config={
            "line": st.column_config.NumberColumn("Line", format="%d", width="small"),
            "problems": st.column_config.TextColumn("Problems", width="large" if pv.n_bad else "small"),
        },
    )
    return Check(total, blank, new_terms)
