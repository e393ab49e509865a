"""Clients: add a client, edit one, mark them discharged or referred out.

Thin page: the rules (the import's validation for a clients row, a unique client code, the
status vocabulary) and the audit row live in ``pipelines.entry.forms``; the form, the change
history and the table in ``dashboard.components.client_form`` and ``client_table``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import page_parts
from dashboard.components.client_form import change_history, client_form
from dashboard.components.client_picker import client_picker
from dashboard.components.client_table import client_table
from dashboard.queries import entry as eq
from dashboard.queries import therapist as queries
from dashboard.text import md
from pipelines.entry import forms as entry
from pipelines.warehouse.db import DatabaseBusy

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
ss = st.session_state

for key, default in (("cl_gen", 0), ("cl_problems", [])):
    ss.setdefault(key, default)

st.title("Clients")
clients = eq.all_clients(db, ver)


def _reset() -> None:
    ss["cl_gen"] += 1
    ss["cl_problems"] = []


flash = ss.pop("cl_flash", None)
if flash:
    st.success(flash[0], icon=":material/check_circle:")
    for w in flash[1]:
        st.warning(w, icon=":material/info:")

if "cl_pick_next" in ss:  # a client just added: open it (set before the picker exists)
    ss["cl_pick"] = ss.pop("cl_pick_next")
pick_col, _ = st.columns([3, 4])
# Opens on a new client (not the one remembered from another page: this page is where clients are added),
# or on the client in the address; the client picked here is the one the other pages open on.
picked = client_picker(
    "cl_pick",
    clients["client_id"].tolist(),
    queries.client_labels(db, ver),
    where=pick_col,
    label="Add a new client, or pick one to edit",
    new_label="— new client —",
    placeholder="Type a name or client code…",
    start_on_remembered=False,
    on_change=_reset,
)
editing = picked is not None
current = (
    page_parts.load_client(db, ver, picked)
    if editing
    else entry.ClientEntry(client_id=page_parts.next_client_id(db, ver))
)
if editing and current is None:
    st.warning("That client no longer exists.")
    st.stop()
suffix = f"{ss['cl_gen']}_{picked or 'new'}"
form, submitted = client_form(
    current, editing, suffix, eq.vocabulary_options(db, ver), page_parts.date_input_format(settings)
)

if submitted:
    try:
        saved = entry.save_client(form, db=db, editing=editing)
    except entry.EntryError as exc:
        ss["cl_problems"] = exc.problems
        st.rerun()
    except DatabaseBusy as busy:  # no st.rerun/st.stop: the form keeps every value typed
        page_parts.not_saved_busy(busy, "Save changes" if editing else "Add client")
    else:
        ss["cl_flash"] = (
            f"{'Updated' if editing else 'Added'} {form.display_name} ({saved.key}).",
            [w.message for w in saved.warnings],
        )
        _reset()
        if not editing:
            ss["cl_pick_next"] = saved.key
        st.rerun()

if editing:
    links = st.container(horizontal=True)
    links.page_link(
        "app_pages/log_visit.py",
        label=f"Log a visit for {md(current.display_name or '')}",
        query_params={"client": picked},
        icon=":material/edit_note:",
    )
    links.page_link(
        "app_pages/client_progress.py",
        label="See progress",
        query_params={"client": picked},
        icon=":material/monitoring:",
    )
    change_history(eq.audit_for(db, ver, "clients", picked))

client_table(clients)
