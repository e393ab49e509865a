"""Records (therapist page): the practice's audit log and its backups.

* **Audit log** — every import, form edit and deletion, report export, private link made or
  ended, backup, restore and password change, newest first, with when and who
  (``pipelines.warehouse.audit``).  Filters by what happened, record type, client and dates; edits are
  shown as "field: before → after"; a formula-safe CSV download of what is shown.
* **Backups** — "Back up now" writes a portable Parquet backup (``pipelines.warehouse.backup``) into
  ``backups/`` beside the database and offers it as a zip; earlier backups are listed.
  Restoring stays a command (``knotwork restore``): it builds a *new* database file that the
  practice then switches to, which must not happen under a running dashboard.

Reads go through ``dashboard.queries`` (cached on the data version); the only writes, each a
``pipelines.warehouse`` call, are the backup and emptying the queue of audit rows an export left while
the database was busy.
"""

from __future__ import annotations

import streamlit as st

from dashboard.components.audit_log import audit_log
from dashboard.components.backups import backups
from dashboard.queries import records as rq
from dashboard.queries import therapist as queries
from pipelines.warehouse import audit

db = queries.current_db()
ver = queries.version(db)

st.title("Records")

# The dashboard only reads; an older database cannot be brought up to date from here.
if rq.missing_migrations(db, ver):
    st.warning(
        "This database was made by an older version of Knotwork and has no complete audit log yet. "
        f"Refresh it with `knotwork init --db {db}` (your data is kept), then reload this page.",
        icon=":material/update:",
    )
    st.stop()

# Export rows an import kept waiting (audit.record_soon) are written now if the database is free.
if audit.write_pending_if_free(db):
    ver = queries.version(db)  # they changed the data: read the log afresh
log_tab, backup_tab = st.tabs(["Audit log", "Backups"])
with log_tab:
    audit_log(db, ver, audit.pending_count(db))
with backup_tab:
    backups(db)
