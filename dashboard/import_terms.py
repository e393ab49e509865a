"""The Import page's vocabulary parts: a file's new terms before anything is written ("same as
..." or "new term"), and the practice's own terms, which can be merged into another later."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipelines.ingest import terms as T
from pipelines.warehouse import audit
from pipelines.warehouse.db import DatabaseBusy, read_connection

NEW_TERM = "Keep as a new term"


def _pretty(name: str | None) -> str:
    return "—" if not name else str(name).replace("_", " ")


def choose_new_terms(frame: pd.DataFrame, db, key: str) -> list[tuple[str, str, str]]:
    """One choice per new term; returns the "same as" choices as (vocabulary, spelling, entry)."""
    if frame.empty:
        return []
    st.markdown(
        f"**New terms** — {len(frame)} term{'s' if len(frame) != 1 else ''} in this file match nothing "
        "Knotwork knows. No row is lost for it: each is kept as your own term unless you say it is the "
        "same as a known one."
    )
    with read_connection(db) as con:
        own = con.execute("SELECT vocabulary, value FROM core.vocabulary_extensions").fetchall()
    chosen = []
    for i, row in frame.head(30).iterrows():
        entries = T.known_entries(row["vocabulary"], [v for voc, v in own if voc == row["vocabulary"]])
        if row["suggestion"] in entries:  # the closest entry first, after "new term"
            entries = [row["suggestion"], *[e for e in entries if e != row["suggestion"]]]
        pick = st.selectbox(
            f"{row['vocabulary'].capitalize()} '{row['spelling']}' · {row['rows']} row{'s' if row['rows'] != 1 else ''}"
            f" · closest known: {_pretty(row['suggestion'])}",
            [NEW_TERM, *entries],
            key=f"{key}_{i}",
            format_func=lambda e: e if e == NEW_TERM else f"Same as {_pretty(e)}",
        )
        if pick != NEW_TERM:
            chosen.append((row["vocabulary"], row["spelling"], pick))
    if len(frame) > 30:
        st.caption(f"… and {len(frame) - 30} more, kept as new terms; merge them later under Practice terms.")
    return chosen


def practice_terms_section(db) -> None:
    """The practice's own terms, with a merge into another term (history updated, audited)."""
    with read_connection(db) as con:
        own = T.practice_terms(con)
    st.subheader("Practice terms")
    if "im_merged" in st.session_state:
        st.success(st.session_state.pop("im_merged"), icon=":material/task_alt:")
    if own.empty:
        st.caption("Every term in your records is one Knotwork knows.")
        return
    st.caption(
        "Terms your files brought that Knotwork did not know. If one means the same as another, merge it: "
        "every visit that uses it is updated, later imports map it by itself, and the change is logged."
    )
    st.dataframe(
        own.assign(term=own["term"].map(_pretty), closest=own["closest"].map(_pretty)),
        hide_index=True,
        key="im_terms",
        column_config={
            "vocabulary": "Kind",
            "term": "Term",
            "closest": "Closest known",
            "rows": st.column_config.NumberColumn("Rows", format="%d"),
        },
    )
    labels = {f"{r.vocabulary}|{r.term}": f"{r.vocabulary} '{_pretty(r.term)}'" for r in own.itertuples()}
    a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
    pick = a.selectbox("Merge", list(labels), format_func=labels.get, key="im_merge_term")
    vocabulary, term = pick.split("|", 1)
    entries = [
        e for e in T.known_entries(vocabulary, list(own.loc[own["vocabulary"] == vocabulary, "term"])) if e != term
    ]
    into = b.selectbox("into", entries, key="im_merge_into", format_func=_pretty)
    if c.button("Merge", key="im_merge_go", icon=":material/merge:"):
        try:
            changed = T.merge_term(db, vocabulary, term, into, actor=audit.DASHBOARD)
        except (T.TermProblem, DatabaseBusy) as exc:
            st.error(str(exc), icon=":material/block:")
        else:
            st.session_state["im_merged"] = (
                f"'{_pretty(term)}' merged into '{_pretty(into)}': {sum(changed.values())} rows updated."
            )
            st.rerun()
