"""Client progress: how one client is doing across visits (pain, ROM, techniques, trigger points)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import metrics, page_parts
from dashboard.charts import progress as charts
from dashboard.components import brief, client_response, trial
from dashboard.components.body_map import client_body_map
from dashboard.components.client_pain import pain_section
from dashboard.components.client_picker import client_picker, recently_seen
from dashboard.components.client_questionnaires import questionnaires_section
from dashboard.components.client_rom import rom_section
from dashboard.components.client_trigger_points import trigger_points_section
from dashboard.letter_download import letter_download
from dashboard.queries import brief as brief_queries
from dashboard.queries import therapist as queries
from dashboard.text import md
from pipelines.clinical.status import client_status

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
today = dt.date.today()

st.title("Client progress")
clients = page_parts.clients_or_stop(db, ver)

pick, dates = st.columns([3, 2], vertical_alignment="bottom")
client_id = client_picker("cp_client", clients["client_id"].tolist(), queries.client_labels(db, ver), where=pick)
if client_id is None:
    recently_seen(clients, "app_pages/client_progress.py")
    st.stop()

summary = queries.client(db, ver, client_id).iloc[0]
first, last = summary["first_visit_date"], summary["last_visit_date"]
if pd.isna(first):
    st.info(
        f"{md(summary['display_name'])} has no visits recorded yet. Their progress appears here after the first visit "
        "is imported.",
        icon=":material/event_available:",
    )
    st.stop()
first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
# Up to today by default: self-reports since the last visit are what a therapist wants to see first.
until = max(last, today)
chosen = dates.date_input("Dates", value=(first, until), min_value=first, max_value=until, key=f"cp_dates_{client_id}")
start, end = chosen if isinstance(chosen, (tuple, list)) and len(chosen) == 2 else (first, until)

complaint = summary["primary_complaint"] if pd.notna(summary["primary_complaint"]) else "no complaint recorded"
status_txt = charts.pretty(summary["status"]) if pd.notna(summary["status"]) else "status not recorded"
st.caption(f"{md(complaint)} · {status_txt} · first visit {first:%d %b %Y}")

brief.actions(db, client_id, summary["display_name"])

# --- The brief: how the client is doing now (all their readings, whatever the dates chosen above),
# what was done and planned last time, and what the client has said since.
visits = queries.client_visits(db, ver, client_id, start, end)
head = metrics.client_headline(
    visits, today, n_visits_total=int(summary["n_visits"]), last_visit_date=summary["last_visit_date"]
)
now = client_status(
    client_id, queries.client_visits(db, ver, client_id), queries.client_self_reports(db, ver, client_id), settings
)
brief.status_headline(now, head, settings, today)
last = brief_queries.client_brief(db, ver, client_id)
brief.last_visit(last, charts.pretty, today)
brief.checkins_since(last, charts.pretty, today)
brief.mark_seen(db, client_id, last)

if visits.empty:
    st.info(
        "No visits in the selected dates. Widen the date range to see this client's visits.",
        icon=":material/date_range:",
    )
    st.stop()

pain_section(db, ver, client_id, start, end, visits, head.baseline, settings)
rom_section(db, ver, client_id, start, end, settings)

# --- Techniques ---------------------------------------------------------------------------
st.subheader("Techniques and immediate relief")
if not any(len(t) for t in visits["techniques"]):
    st.info("No techniques recorded for these visits.", icon=":material/info:")
else:
    st.plotly_chart(charts.technique_grid_chart(visits), config=charts.PLOTLY_CONFIG, key="cp_grid")
    st.caption(
        "Cells are coloured by the visit's immediate relief (pain before − after); grey cells: relief not "
        "recorded. Bars below: relief per visit (red = pain went up). Squares: pressure (1 light … 5 very deep)."
    )
    client_response.render(db, ver, client_id)

trial.render(db, client_id)

points = queries.client_trigger_points(db, ver, client_id, start, end)
client_body_map(db, client_id, visits, points, settings)
trigger_points_section(points)
questionnaires_section(db, ver, client_id, start, end, settings)

# --- Letter to a referring physician --------------------------------------------------------
letter_download(db, client_id, summary["display_name"], settings)
