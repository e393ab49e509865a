"""Import: bring in a spreadsheet or a form export without editing it first.

Upload → the kind is detected → columns are matched (a saved mapping that fits the file is
applied by itself; otherwise suggestions by name) → the first rows are checked with the
import's own rules → import with a progress bar → the report, and every rejected row with
its reason, downloadable.  The engine is ``knotwork ingest``'s (``pipelines.ingest.importer``); the
upload is saved to a temporary file for it and removed after the import.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.import_corrections import correct_rejected_rows
from dashboard.import_terms import choose_new_terms, practice_terms_section
from dashboard.queries import entry as eq
from dashboard.queries import therapist as queries
from dashboard.text import md
from pipelines.exports.safe_csv import to_csv_bytes
from pipelines.ingest import mappings as M
from pipelines.ingest import terms as T
from pipelines.ingest.contract import KINDS, normalise_header, required_columns_missing
from pipelines.ingest.importer import ingest_file
from pipelines.ingest.practice_rules import db_vocabularies
from pipelines.ingest.readers import FileProblem, open_table
from pipelines.ingest.validate import FIELDS
from pipelines.warehouse import audit
from pipelines.warehouse.db import DatabaseBusy, import_waits

db = queries.current_db()
ver = queries.version(db)
ss = st.session_state

KIND_LABELS = {
    "clients": "Clients",
    "visits": "Visits",
    "rom": "Range-of-motion readings",
    "self_reports": "Pain check-ins between visits",
    "trigger_points": "Trigger points",
    "outcome_measures": "Questionnaires (NDI, ODI, PSFS, QuickDASH, LEFS)",
}
DATE_ORDERS = {
    None: "Automatic: from the file, else the practice setting",
    "day_first": "Day/month (14/03/2026)",
    "month_first": "Month/day (03/14/2026, US; Google Forms)",
}
IGNORE = "(not imported)"

st.title("Import")
st.caption(
    "CSV (comma or semicolon) or XLSX, one kind of data per file. Re-importing a file changes nothing; a "
    "corrected file updates just the rows it corrects. Clients first, then visits, then the rest."
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "my_mapping"


def _saved_upload(uploaded) -> Path:
    """The upload as a file on disk for the import engine, under its own name (the kind can be read
    from it).  Written for this run only and removed at the end of it (``finally`` below), so no
    copy of a client file outlives the page run, imported or not."""
    folder = Path(tempfile.mkdtemp(prefix="knotwork-upload-"))
    path = folder / Path(uploaded.name).name
    path.write_bytes(uploaded.getvalue())
    return path


def _count_rows(path: Path) -> int:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        try:
            return max((wb.worksheets[0].max_row or 1) - 1, 1)
        finally:
            wb.close()
    with open(path, "rb") as fh:
        return max(sum(1 for _ in fh) - 1, 1)


ss.setdefault("im_gen", 0)
report_area = st.container()
uploaded = st.file_uploader("Choose a file", type=["csv", "txt", "tsv", "xlsx", "xlsm"], key=f"im_file_{ss['im_gen']}")
if uploaded is not None:
    ss.pop("im_report", None)  # a new file: the last report makes way for its preview
report = ss.get("im_report")

if uploaded is not None:
    path = _saved_upload(uploaded)
    try:
        try:
            table = open_table(path)
        except FileProblem as exc:
            st.error(f"This file cannot be imported: {exc}", icon=":material/block:")
            st.stop()
        headers = table.headers

        # --- Which mapping, which kind ---------------------------------------------------------
        profiles = M.list_profiles(db)
        fitting = [p.name for p in M.profiles_for(headers, db)]
        names = [None, *fitting, *[p.name for p in profiles if p.name not in fitting]]
        by_name = {p.name: p for p in profiles}
        left, right = st.columns(2)
        profile_name = left.selectbox(
            "Column mapping",
            names,
            index=1 if fitting else 0,
            key=f"im_profile_{uploaded.file_id}",
            format_func=lambda n: (
                "None: match columns by name"
                if n is None
                else f"{n}{' (fits this file)' if n in fitting else ''}{' · built-in' if by_name[n].builtin else ''}"
            ),
            help="A saved mapping remembers which column is which, so the next export of the same form needs no clicks.",
        )
        profile = by_name.get(profile_name)
        if profile is not None and profile_name in fitting:
            left.caption(f"Applied saved mapping **{md(profile.name)}**: {md(profile.description or 'no description')}")
        detected = (profile.kind if profile and profile.kind else None) or M.guess_kind(headers, table.path.name)
        kinds = list(KINDS)
        kind = right.selectbox(
            "This file holds",
            kinds,
            index=kinds.index(detected) if detected else None,
            key=f"im_kind_{uploaded.file_id}_{profile_name}",
            format_func=lambda k: KIND_LABELS[k],
            placeholder="Choose what the file holds",
        )
        if detected is None:
            right.caption("Could not tell from the columns; please choose.")
        if kind is None:
            st.stop()

        # --- Columns ---------------------------------------------------------------------------
        if profile is not None and profile_name in fitting:
            wanted = {normalise_header(h): t for h, t in profile.columns.items()}
            initial = {h: (wanted.get(normalise_header(h)) or None) for h in headers}
            initial = {h: (t if t in FIELDS[kind] else None) for h, t in initial.items()}
        else:
            initial = {h: t for h, (t, _) in M.suggest_mapping(headers, kind).items()}
        first_rows = next(table.chunks()).head(50)
        examples = {
            h: ", ".join([v for v in first_rows[c].astype(str).tolist() if v.strip()][:3])[:60]
            for h, c in zip(headers, table.columns)
        }
        editor = pd.DataFrame(
            {
                "column": headers,
                "example": [examples[h] for h in headers],
                "imports_as": [initial[h] or IGNORE for h in headers],
            }
        )
        required = set(KINDS[kind].required)
        target_options = [IGNORE, *[f"{c} (required)" if c in required else c for c in FIELDS[kind]]]
        editor["imports_as"] = editor["imports_as"].map(lambda t: f"{t} (required)" if t in required else t)
        st.markdown("**Columns** — check what each column of your file becomes in Knotwork")
        edited = st.data_editor(
            editor,
            key=f"im_map_{uploaded.file_id}_{profile_name}_{kind}",
            hide_index=True,
            width="stretch",
            disabled=["column", "example"],
            column_config={
                "column": st.column_config.TextColumn("Column in your file"),
                "example": st.column_config.TextColumn("First values"),
                "imports_as": st.column_config.SelectboxColumn("Imports as", options=target_options, required=True),
            },
        )
        choices = {
            h: (None if t in (IGNORE, None) or pd.isna(t) else str(t).replace(" (required)", ""))
            for h, t in zip(edited["column"], edited["imports_as"])
        }
        order_default = profile.date_order if profile is not None else None
        date_order = st.radio(
            "Dates in this file",
            list(DATE_ORDERS),
            index=list(DATE_ORDERS).index(order_default),
            key=f"im_dates_{uploaded.file_id}_{profile_name}",
            format_func=DATE_ORDERS.get,
            horizontal=True,
        )
        day_first = None if date_order is None else date_order == "day_first"
        try:
            rename = M.mapping_from_choices(choices, name=profile_name, kind=kind, day_first=day_first)
        except M.MappingProblem as exc:
            st.error(f"{exc}. Set one of them to '{IGNORE}'.", icon=":material/block:")
            st.stop()
        missing = required_columns_missing(kind, set(t for t in choices.values() if t))
        if missing:
            st.error(
                f"A {KIND_LABELS[kind].lower()} file needs a column for **{missing[0]}**: choose which column it is "
                "above.",
                icon=":material/block:",
            )

        # --- Preview ---------------------------------------------------------------------------
        if not missing:
            try:
                pv = M.preview(path, kind, rename, db=db, n_rows=20, day_first=day_first)
            except FileProblem as exc:
                st.error(str(exc), icon=":material/block:")
                st.stop()
            new_terms, column_notes, total = T.file_new_terms(path, kind, rename, db_vocabularies(db), pv.day_first)
            # Rows as the import counts them: blank rows are skipped, and said so here and in the report.
            blank = max(_count_rows(path) - total, 0) if path.suffix.lower() not in (".xlsx", ".xlsm") else 0
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

            same_as = choose_new_terms(new_terms, db, key=f"im_term_{uploaded.file_id}_{kind}")

            with st.expander("Save this mapping for next time"):
                a, b = st.columns([1, 2])
                suggested = (
                    profile.name if profile is not None and not profile.builtin else _slug(Path(uploaded.name).stem)
                )
                save_name = a.text_input("Name", value=suggested, key=f"im_save_name_{uploaded.file_id}")
                description = b.text_input(
                    "Description",
                    value=profile.description if profile is not None else "",
                    key=f"im_save_desc_{uploaded.file_id}",
                    placeholder="e.g. Google Forms check-in",
                )
                if st.button("Save mapping", key="im_save_mapping", icon=":material/bookmark_add:"):
                    try:
                        saved_path = M.save_profile(
                            M.MappingProfile(
                                _slug(save_name),
                                {h: (t or M.IGNORE) for h, t in choices.items()},
                                kind=kind,
                                date_order=date_order,
                                description=description,
                            ),
                            db=db,
                        )
                    except M.MappingProblem as exc:
                        st.error(str(exc))
                    else:
                        st.success(
                            f"Saved as **{saved_path.stem}** ({saved_path}). Next time a file with these columns "
                            "comes in, it is applied by itself; on the command line: "
                            f"`knotwork ingest FILE --mapping {saved_path.stem}`."
                        )

            if st.button(f"Import {total:,} rows", type="primary", key="im_go", icon=":material/upload:"):
                bar = st.progress(0.0, text="Starting…")

                def progress(rows: int, message: str) -> None:
                    bar.progress(min(rows / max(total, 1), 1.0) * 0.9 if "marts" not in message else 0.95, text=message)

                def waiting(message: str) -> None:  # another import (CLI or another session) holds the data
                    bar.progress(
                        0.0,
                        text=f":material/hourglass_top: {message[0].upper() + message[1:]} This import "
                        "starts by itself as soon as that one is done.",
                    )

                try:
                    # "Same as" choices first: saved as this practice's aliases, the import then maps them.
                    T.save_aliases(db, same_as, actor=audit.DASHBOARD)
                    # An import's bound (pipelines.warehouse.db.IMPORT_WAIT_S), and other sessions' "being updated"
                    # message names this file.
                    with import_waits(f"an import of {uploaded.name} from the Import page", notice=waiting):
                        rep = ingest_file(
                            path,
                            db=db,
                            kind=kind,
                            rename=rename,
                            mapping_name=profile_name,
                            day_first=day_first,
                            progress=progress,
                            actor=audit.DASHBOARD,
                        )
                except FileProblem as exc:
                    bar.empty()
                    st.error(f"Nothing was imported: {exc}", icon=":material/block:")
                    st.stop()
                except DatabaseBusy as busy:
                    bar.empty()
                    what = f" ({busy.activity})" if busy.activity else ""
                    st.warning(
                        f"Nothing was imported yet: the data has been busy for too long{what}. Your file and "
                        "choices are still here; press Import again when the other import has finished.",
                        icon=":material/hourglass:",
                    )
                    st.stop()
                bar.progress(1.0, text="Done")
                ss["im_report"] = {"file": uploaded.name, **rep.to_json(), "import_id": rep.import_id}
                if blank:
                    ss["im_report"]["notes"].insert(
                        0, f"{blank} blank row{'s were' if blank != 1 else ' was'} skipped (not counted as rows)"
                    )
                ss["im_rejects_pick"] = rep.import_id
                ss["im_gen"] += 1  # an empty uploader, with the report on top
                st.rerun()
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)

# --- The report of the last import ------------------------------------------------------------
if report:
    with report_area:
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

# --- Rejected rows (any import) ---------------------------------------------------------------
imports = eq.recent_imports(db, ver)
with_rejects = imports[imports["rejected"] > 0]
st.subheader("Rejected rows")
if "im_fixed" in ss:
    st.success(ss.pop("im_fixed"), icon=":material/published_with_changes:")
if with_rejects.empty:
    st.caption("No import has rejected rows.")
else:
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

practice_terms_section(db)
