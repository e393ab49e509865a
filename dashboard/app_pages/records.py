"""Records (therapist page): the practice's audit log and its backups.

* **Audit log** — every import, form edit and deletion, report export, private link made or
  ended, backup, restore and password change, newest first, with when and who
  (``pipelines.warehouse.audit``).  Filters by what happened, record type, client and dates; edits are
  shown as "field: before → after"; a formula-safe CSV download of what is shown.
* **Backups** — "Back up now" writes a portable Parquet backup (``pipelines.warehouse.backup``) into
  ``backups/`` beside the database and offers it as a zip; earlier backups are listed.
  Restoring stays a command (``knotwork restore``): it builds a *new* database file that the
  practice then switches to, which must not happen under a running dashboard.

Reads go through ``dashboard.queries.entry`` (cached on the data version); the only writes are
the backup and emptying the queue of audit rows an export left while the database was busy.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from dashboard import page_parts
from dashboard.queries import entry as eq
from dashboard.queries import therapist as queries
from pipelines.exports.safe_csv import to_csv_bytes
from pipelines.warehouse import audit
from pipelines.warehouse.backup import backup, backups_root, list_backups, new_backup_folder, zip_backup
from pipelines.warehouse.db import DatabaseBusy, read_connection
from pipelines.warehouse.migrate import pending_migrations

db = queries.current_db()
ss = st.session_state

st.title("Records")

# The dashboard only reads; an older database cannot be brought up to date from here.
with read_connection(db) as con:
    missing = pending_migrations(con)
if missing:
    st.warning(
        "This database was made by an older version of Knotwork and has no complete audit log yet. "
        f"Refresh it with `knotwork init --db {db}` (your data is kept), then reload this page.",
        icon=":material/update:",
    )
    st.stop()

# Export rows an import kept waiting (pipelines.warehouse.audit.record_soon): write them now if we can.
if audit.pending_count(db):
    try:
        audit.write_now(db, [], timeout_s=1.0)
    except DatabaseBusy:
        pass
ver = queries.version(db)
waiting = audit.pending_count(db)

log_tab, backup_tab = st.tabs(["Audit log", "Backups"])

# --- Audit log ---------------------------------------------------------------------------------
with log_tab:
    st.caption(
        "Everything that changed the record or left it, newest first. Knotwork has one practice password and "
        "no personal accounts, so **Who** says where it came from — *therapist (dashboard)*, "
        "*<computer user> (command line)*, *client via share link* — not which therapist."
    )
    if waiting:
        st.info(
            f"{waiting} entr{'ies' if waiting != 1 else 'y'} (report exports made while an import was running) "
            "will be added as soon as the database is free.",
            icon=":material/hourglass:",
        )
    facets = eq.audit_facets(db, ver)
    if facets.empty:
        st.info(
            "Nothing recorded yet. Imports, edits, report downloads, private links and backups will appear here.",
            icon=":material/history:",
        )
    else:
        clients = eq.all_clients(db, ver)
        names = dict(zip(clients["client_id"], clients["display_name"]))
        action_opts = sorted(
            facets["action"].unique(),
            key=lambda a: list(audit.ACTION_WORDS).index(a) if a in audit.ACTION_WORDS else 99,
        )
        kind_opts = sorted(facets["kind"].unique())
        first, last = pd.Timestamp(facets["first_day"].min()).date(), pd.Timestamp(facets["last_day"].max()).date()

        f1, f2, f3, f4 = st.columns([3, 3, 3, 3])
        actions = f1.multiselect(
            "What happened",
            action_opts,
            key="rec_actions",
            select_all=False,
            placeholder="Everything",
            format_func=lambda a: audit.ACTION_WORDS.get(a, a),
        )
        kinds = f2.multiselect(
            "Record",
            kind_opts,
            key="rec_kinds",
            select_all=False,
            placeholder="All records",
            format_func=lambda k: audit.KIND_WORDS.get(k, k),
        )
        client = f3.selectbox(
            "Client",
            list(names),
            index=None,
            key="rec_client",
            placeholder="All clients",
            format_func=lambda c: f"{names[c]} ({c})",
        )
        today = dt.date.today()  # not the last entry's day: a backup made now must not fall outside the filter
        days = f4.date_input(
            "Dates",
            value=(min(first, today), today),
            min_value=min(first, today),
            max_value=max(last, today),
            key="rec_days",
            format=page_parts.date_input_format(queries.practice_settings(db)),
        )
        since, until = (days[0], days[-1]) if isinstance(days, (tuple, list)) and days else (None, None)

        log = eq.audit_log(db, ver, tuple(actions), tuple(kinds), client, since, until)
        total = int(facets["n"].sum())

        def _details(r) -> str:
            if r.action == "update":
                return audit.describe_change(r.before, r.after)
            if r.action == "import" and isinstance(r.after, str):
                return audit.describe_import(r.after)
            return r.detail if isinstance(r.detail, str) and r.detail else ""

        def _record(r) -> str:
            if r.action == "import":  # the key is the import's number, not a record's
                kind = "ROM" if r.kind == "rom" else str(r.kind).replace("_", " ")
                return f"{kind} file (import {r.key})"
            word = audit.KIND_WORDS.get(r.kind, r.kind)
            if r.kind == "share_link":
                return f"{word} #{r.key}"  # as the sharing page's "link #" column names it
            if r.kind in ("database", "password"):
                return word
            return word if r.kind == "report" else f"{word} {r.key}"

        shown = pd.DataFrame(
            {
                "When": pd.to_datetime(log["at"]),
                "Who": log["actor"].fillna("not recorded"),
                "What": [audit.ACTION_WORDS.get(a, a) for a in log["action"]],
                "Record": [_record(r) for r in log.itertuples()],
                "Client": [
                    f"{names.get(c, '(removed)')} ({c})" if isinstance(c, str) and c else "" for c in log["client_id"]
                ],
                "Details": [_details(r) for r in log.itertuples()],
            }
        )
        st.caption(f"{len(shown):,} of {total:,} entries" + (" (the newest 5,000)" if len(shown) == 5000 else ""))
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            key="rec_log",
            height=min(38 + 35 * max(len(shown), 1), 560),
            column_config={
                # Fixed widths: on a tablet the table scrolls sideways instead of cutting words.
                "When": st.column_config.DatetimeColumn(format="DD MMM YYYY HH:mm", width=130),
                "Who": st.column_config.TextColumn(width=170),
                "What": st.column_config.TextColumn(width=160),
                "Record": st.column_config.TextColumn(width=220),
                "Client": st.column_config.TextColumn(width=140),
                "Details": st.column_config.TextColumn(width=420),
            },
        )
        st.download_button(
            "Download as CSV",
            data=to_csv_bytes(shown),
            file_name=f"knotwork-audit-{dt.date.today()}.csv",
            mime="text/csv",
            icon=":material/download:",
            key="rec_csv",
            on_click="ignore",
            help="Opens safely in a spreadsheet: cells that start like a formula are kept as text.",
        )

        edits = log[log["action"].isin(["insert", "update", "delete"])]
        if len(edits):
            with st.expander("A change in full (the record before and after)"):
                # Plain text choices (not row numbers): nothing to look up when the filters change.
                labels = {
                    f"{pd.Timestamp(r.at):%d %b %Y %H:%M} · {audit.ACTION_WORDS[r.action]} "
                    f"{audit.KIND_WORDS.get(r.kind, r.kind)} {r.key} (#{r.audit_id})": r
                    for r in edits.itertuples()
                }
                row = labels[st.selectbox("Change", list(labels), key="rec_pick")]
                b, a = st.columns(2)
                b.markdown("**Before**")
                b.json(json.loads(row.before) if isinstance(row.before, str) else {})
                a.markdown("**After**")
                a.json(json.loads(row.after) if isinstance(row.after, str) else {})

# --- Backups -----------------------------------------------------------------------------------
with backup_tab:
    root = backups_root(db)
    st.write(
        "A backup is a folder of Parquet files holding every table: clients, visits, questionnaires, "
        "links, this audit log. Other tools and later versions of Knotwork can read it. Keep a copy "
        "off this computer too (download the zip)."
    )
    st.caption(f"Backups are saved in `{root}`.")
    if st.button("Back up now", type="primary", icon=":material/backup:", key="rec_backup"):
        try:
            with st.spinner("Backing up…"):
                folder = backup(db, new_backup_folder(db), actor=audit.DASHBOARD)
        except DatabaseBusy:
            st.warning(
                "An import is running right now; nothing was backed up. Try again in a moment.",
                icon=":material/hourglass:",
            )
        else:
            ss["rec_last_backup"] = str(folder)
            st.rerun()  # the new row in the log and the new folder in the list

    last = ss.get("rec_last_backup")
    backups = list_backups(db)
    if last and any(str(b.folder) == last for b in backups):
        st.success(f"Backed up to `{last}`.", icon=":material/check_circle:")

    if not backups:
        st.info("No backups yet.", icon=":material/folder_open:")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "Made": [b.made for b in backups],
                    "Folder": [b.folder.name for b in backups],
                    "Files": [b.files for b in backups],
                    "Size (MB)": [round(b.size_bytes / 1e6, 2) for b in backups],
                }
            ),
            hide_index=True,
            width="stretch",
            key="rec_backups",
            column_config={"Made": st.column_config.DatetimeColumn(format="DD MMM YYYY HH:mm:ss")},
        )
        by_name = {b.folder.name: b.folder for b in backups}
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

        st.subheader("Restoring a backup")
        st.write(
            "Restoring is done from the command line, on purpose: it builds a **new** database file from the "
            "backup and never overwrites the one in use, so nothing can be lost by a wrong click while "
            "someone is working. Stop the dashboard, restore, then start it on the new file:"
        )
        new_db = root.parent / f"{chosen}.duckdb"
        st.code(
            f"knotwork restore '{by_name[chosen]}' --db '{new_db}'\nknotwork serve --db '{new_db}'", language="bash"
        )
        st.caption(
            "The restored database records the restore in its own audit log. Nothing in a backup is run; "
            "a backup changed after it was made is refused. A restore ends every private link: make new "
            "ones for clients who need them."
        )
