"""Log a visit: the form a therapist fills in between two clients, in under a minute.

Thin page: the pieces are in ``dashboard.components`` (visit_header, visit_form, entry_rows,
body_picker, questionnaire_form, visit_state), the rules in ``pipelines.entry.forms`` (the import's
own validation, one write transaction, audit, marts), the reads in ``dashboard.queries.entry``.  A
refused form keeps every value and shows each problem under its field; a saved one clears for the
next visit and links to the client's progress, where the visit is already showing.
"""

from __future__ import annotations

import streamlit as st

from dashboard import page_parts
from dashboard.body_frames import practice_places
from dashboard.components import body_picker, visit_form, visit_header
from dashboard.components import visit_state as state
from dashboard.components.questionnaire_form import questionnaire_tab
from dashboard.queries import entry as eq
from dashboard.queries import therapist as queries
from pipelines.entry.forms import VisitEntry

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
ss = st.session_state

st.title("Log a visit")
clients = eq.all_clients(db, ver)
if clients.empty:
    st.info("No clients yet. Add your first client, then log their visit here.", icon=":material/person_add:")
    st.page_link("app_pages/clients.py", label="Add a client", icon=":material/person_add:")
    st.stop()
names = dict(zip(clients["client_id"], clients["display_name"]))
state.start(names)
state.show_flash(names)

editing = ss.get("lv_edit")
prefill: VisitEntry = ss.get("lv_prefill") or VisitEntry()
client_id, visit_date, edit_column = visit_header.who_and_when(clients, prefill, page_parts.date_input_format(settings))
if client_id is None:
    st.info(
        "Choose the client to start. Not on the list? Add them on the Clients page.", icon=":material/person_search:"
    )
    st.page_link("app_pages/clients.py", label="Add a client", icon=":material/person_add:")
    st.stop()

recent = eq.client_recent_visits(db, ver, client_id)
visit_header.edit_picker(edit_column, db, recent)
if editing:
    visit_header.editing_bar(db, editing, prefill, client_id, names[client_id])
else:
    visit_header.new_visit_notes(db, ver, client_id, names[client_id], recent, visit_date)

TABS = ["Visit", "Questionnaire (NDI, ODI, PSFS, QuickDASH, LEFS)"]
visit_tab, questionnaire = st.tabs(
    TABS, key="lv_tabs", default=TABS[1] if st.query_params.get("tab") == "questionnaire" else TABS[0]
)
with visit_tab:
    visit_form.not_saved_banner()
    body_picker.body_picker(
        state.prefix(client_id),
        f"lv_pain_region_{ss['lv_gen']}",
        practice_places(settings),
        prefill.trigger_points if editing else [],
        prefill.pain_region,
        visit_date,
    )
    form, submitted, confirmed = visit_form.visit_form(db, ver, client_id, visit_date, eq.vocabulary_options(db, ver))
    if submitted:
        visit_form.save(db, form, confirmed, names[client_id])
    state.progress_link(client_id, names[client_id])

with questionnaire:
    questionnaire_tab(db, ver, client_id, names[client_id], visit_date, settings)
