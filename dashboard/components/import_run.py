"""Import page, step 3: save the mapping for next time, and the import itself with its progress bar."""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from dashboard.components.import_check import Check
from dashboard.components.import_mapping import Mapping
from pipelines.ingest import mappings as M
from pipelines.ingest import terms as T
from pipelines.ingest.importer import ingest_file
from pipelines.ingest.readers import FileProblem
from pipelines.warehouse import audit
from pipelines.warehouse.db import DatabaseBusy, import_waits


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "my_mapping"


def save_mapping(db: str, file_id: str, file_name: str, m: Mapping) -> None:
    profile = m.profile
    with st.expander("Save this mapping for next time"):
        a, b = st.columns([1, 2])
        suggested = profile.name if profile is not None and not profile.builtin else _slug(Path(file_name).stem)
        save_name = a.text_input("Name", value=suggested, key=f"im_save_name_{file_id}")
        description = b.text_input(
            "Description",
            value=profile.description if profile is not None else "",
            key=f"im_save_desc_{file_id}",
            placeholder="e.g. Google Forms check-in",
        )
        if not st.button("Save mapping", key="im_save_mapping", icon=":material/bookmark_add:"):
            return
        try:
            saved_path = M.save_profile(
                M.MappingProfile(
                    _slug(save_name),
                    {h: (t or M.IGNORE) for h, t in m.choices.items()},
                    kind=m.kind,
                    date_order=m.date_order,
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


def import_button(db: str, path: Path, file_name: str, m: Mapping, check: Check, same_as) -> None:
    """On a click: the import, then the report kept in ``im_report`` for the next run (which shows it)."""
    ss = st.session_state
    total = check.total
    if not st.button(f"Import {total:,} rows", type="primary", key="im_go", icon=":material/upload:"):
        return
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
        with import_waits(f"an import of {file_name} from the Import page", notice=waiting):
            rep = ingest_file(
                path,
                db=db,
                kind=m.kind,
                rename=m.rename,
                mapping_name=m.profile_name,
                day_first=m.day_first,
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
    ss["im_report"] = {"file": file_name, **rep.to_json(), "import_id": rep.import_id}
    if check.blank:
        blank = check.blank
        ss["im_report"]["notes"].insert(
            0, f"{blank} blank row{'s were' if blank != 1 else ' was'} skipped (not counted as rows)"
        )
    ss["im_rejects_pick"] = rep.import_id
    ss["im_gen"] += 1  # an empty uploader, with the report on top
    st.rerun()
