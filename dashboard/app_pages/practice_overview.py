"""Practice overview: who is improving, who needs a different approach or a referral."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import page_parts
from dashboard.components import inbox
from dashboard.components.attention import needs_attention
from dashboard.components.body_map import practice_body_map
from dashboard.components.practice_charts import practice_charts
from dashboard.components.practice_headline import practice_headline
from dashboard.queries import brief as brief_queries
from dashboard.queries import practice as practice_queries
from dashboard.queries import therapist as queries

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
today = dt.date.today()

st.title("Practice overview")
clients = page_parts.clients_or_stop(db, ver)

weekly = queries.practice_weekly(db, ver)
attention, n_improved, n_seen_twice = practice_queries.client_figures(db, ver, settings)
practice_headline(clients, weekly, n_improved, n_seen_twice, len(attention), settings)
inbox.render(brief_queries.checkin_inbox(db, ver), today)
needs_attention(attention, settings)
practice_charts(db, ver, weekly, settings)
practice_body_map(db, ver, settings)
