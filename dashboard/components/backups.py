"""Backups as the Records page shows them: "Back up now", the backups made so far with a zip download,
and how to restore one (a command, on purpose)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipelines.warehouse import audit
from pipelines.warehouse.backup import backup, backups_root, list_backups, new_backup_folder, zip_backup
from pipelines.warehouse.db import DatabaseBusy


def _back_up_now(db: str) -> None:
    if not st.button("Back up now", type="primary", icon=":material/backup:", key="rec_backup"):
        return
    try:
        with st.spinner("Backing up…"):
            folder = backup(db, new_backup_folder(db), actor=audit.DASHBOARD)
    except DatabaseBusy:
        st.warning(
            "An import is running right now; nothing was backed up. Try again in a moment.", icon=":material/hourglass:"
        )
    else:
        st.session_state["rec_last_backup"] = str(folder)
        st.rerun()  # the new row in the log and the new folder in the list


def _restore_howto(root, folder) -> None:
    st.subheader("Restoring a backup")
    st.write(
        "Restoring is done from the command line, on purpose: it builds a **new** database file from the "
        "backup and never overwrites the one in use, so nothing can be lost by a wrong click while "
        "someone is working. Stop the dashboard, restore, then start it on the new file:"
    )
    new_db = root.parent / f"{folder.name}.duckdb"
    st.code(f"knotwork restore '{folder}' --db '{new_db}'\nknotwork serve --db '{new_db}'", language="bash")
    st.caption(
        "The restored database records the restore in its own audit log. Nothing in a backup is run; "
        "a backup changed after it was made is refused. A restore ends every private link: make new "
        "ones for clients who need them."
    )


def backups(db: str) -> None:
    root = backups_root(db)
    st.write(
        "A backup is a folder of Parquet files holding every table: clients, visits, questionnaires, "
        "links, this audit log. Other tools and later versions of Knotwork can read it. Keep a copy "
        "off this computer too (download the zip)."
    )
    st.caption(f"Backups are saved in `{root}`.")
    _back_up_now(db)

    last = st.session_state.get("rec_last_backup")
    made = list_backups(db)
    if last and any(str(b.folder) == last for b in made):
        st.success(f"Backed up to `{last}`.", icon=":material/check_circle:")
    if not made:
        st.info("No backups yet.", icon=":material/folder_open:")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "Made": [b.made for b in made],
                "Folder": [b.folder.name for b in made],
                "Files": [b.files for b in made],
                "Size (MB)": [round(b.size_bytes / 1e6, 2) for b in made],
            }
        ),
        hide_index=True,
        width="stretch",
        key="rec_backups",
        column_config={"Made": st.column_config.DatetimeColumn(format="DD MMM YYYY HH:mm:ss")},
    )
    by_name = {b.folder.name: b.folder for b in made}
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    chosen = c1.selectbox("Backup to download", list(by_name), key="rec_pick_backup")
    c2.download_button(
        "Download as zip",
        data=lambda: zip_backup(by_name[chosen]),
        file_name=f"{chosen}.zip",
        mime="application/zip",
        icon=":material/download:",
        key="rec_zip",
        on_click="ignore",
    )
    _restore_howto(root, by_name[chosen])
