"""Reads for the between-clients brief: every client's latest pain readings (for the one
status rule, ``pipelines.clinical.status``), the last visit with its plan, the check-ins since,
and the check-in inbox.  Bound parameters only; short-lived read-only connections
(``dashboard.queries.therapist`` explains the pattern)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.queries.therapist import MAX_ENTRIES, TTL
from pipelines.warehouse.db import read_connection

# The last few pain readings of every client (before a visit, or a check-in): the status needs
# the last three (the level) and the three before the latest (the client's usual), so the last
# four, never a client's whole history.
RECENT_READINGS_SQL = """
with readings as (
    select client_id, cast(visit_date as timestamp) as "at", pain_pre as pain, 'visit' as source
    from marts.visit_outcomes
    where pain_pre is not null
    union all
    select client_id, reported_at as "at", pain, 'check-in' as source
    from marts.self_reports
    where pain is not null
)
select client_id, "at", pain, source
from readings
qualify row_number() over (partition by client_id order by "at" desc, source desc) <= ?
"""

BASELINES_SQL = """
select client_id,
       arg_min(pain_pre, visit_number) filter (where pain_pre is not null) as baseline,
       min(visit_date) filter (where pain_pre is not null) as baseline_date
from marts.visit_outcomes
group by client_id
"""

READINGS_KEPT = 4


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def practice_readings(db: str, version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(recent readings, baselines) of every client, for ``pipelines.clinical.status.current_status``."""
    with read_connection(db) as con:
        return con.execute(RECENT_READINGS_SQL, [READINGS_KEPT]).df(), con.execute(BASELINES_SQL).df()


# --- One client's brief: the last visit, what was found, what the client said since --------------------
LAST_VISIT_SQL = """
select visit_id, visit_date, visit_number, therapist, duration_min, pressure, pain_pre, pain_post, pain_region,
       techniques, focus_muscles, client_feedback, homecare, notes, plan
from marts.visit_outcomes
where client_id = ?
order by visit_date desc, visit_number desc
limit 1
"""

LAST_VISIT_POINTS_SQL = """
select muscle, side, referral_region, tenderness, released
from marts.trigger_points
where client_id = ?
  and visit_id = (select visit_id from marts.visit_outcomes where client_id = ?
                  order by visit_date desc, visit_number desc limit 1)
order by muscle, side
"""

# Check-ins since the last visit: the mart matches each report to the latest visit on or before its day.
CHECKINS_SINCE_SQL = """
select reported_at, pain, region, did_homecare, pgic, note, source
from marts.self_reports
where client_id = ?
  and last_visit_id is not distinct from (select visit_id from marts.visit_outcomes where client_id = ?
                                          order by visit_date desc, visit_number desc limit 1)
order by reported_at desc
"""

SEEN_SQL = """
select seen_through from meta.checkins_seen where client_id = ?
"""

BRIEF_SQL = {  # name -> (sql, how many times the client id is bound)
    "last_visit": (LAST_VISIT_SQL, 1),
    "trigger_points": (LAST_VISIT_POINTS_SQL, 2),
    "checkins": (CHECKINS_SINCE_SQL, 2),
    "seen": (SEEN_SQL, 1),
}


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client_brief(db: str, version: str, client_id: str) -> dict[str, pd.DataFrame]:
    """The client's last visit (one row or none), its trigger points, the check-ins since it
    (newest first) and when the therapist last saw this client's check-ins: one connection."""
    with read_connection(db) as con:
        out = {name: con.execute(sql, [client_id] * n).df() for name, (sql, n) in BRIEF_SQL.items()}
    for col in ("techniques", "focus_muscles"):
        out["last_visit"][col] = out["last_visit"][col].map(
            lambda xs: list(xs) if isinstance(xs, (list, tuple)) or hasattr(xs, "tolist") else []
        )
    return out


# --- The practice's check-in inbox -------------------------------------------------------------------
# Check-ins a client sent after their last visit that the therapist has not seen on the client's page:
# one row per client, newest first.  Older check-ins were there to see at the visit itself.
INBOX_SQL = """
with unseen as (
    select reports.client_id, reports.reported_at, reports.pain, reports.note, reports.did_homecare
    from marts.self_reports as reports
    inner join marts.client_summary as summary on summary.client_id = reports.client_id
    left join meta.checkins_seen as seen on seen.client_id = reports.client_id
    where (summary.last_visit_date is null or cast(reports.reported_at as date) > summary.last_visit_date)
      and (seen.seen_through is null or reports.reported_at > seen.seen_through)
)
select unseen.client_id,
       any_value(summary.display_name) as display_name,
       count(*) as n_checkins,
       max(unseen.reported_at) as latest_at,
       arg_max(unseen.pain, unseen.reported_at) as latest_pain,
       count(unseen.note) filter (where trim(unseen.note) <> '') as n_notes,
       arg_max(unseen.note, unseen.reported_at) filter (where trim(unseen.note) <> '') as latest_note,
       arg_max(unseen.did_homecare, unseen.reported_at) as latest_did_homecare
from unseen
inner join marts.client_summary as summary on summary.client_id = unseen.client_id
group by unseen.client_id
order by latest_at desc, unseen.client_id
"""


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def checkin_inbox(db: str, version: str) -> pd.DataFrame:
    """Clients with check-ins not yet seen (see ``INBOX_SQL``), newest first."""
    with read_connection(db) as con:
        return con.execute(INBOX_SQL).df()
