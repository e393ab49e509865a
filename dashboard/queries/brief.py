"""Reads for the between-clients brief: every client's latest pain readings (for the one
status rule, ``pipelines.clinical.status``), the last visit with its plan, the check-ins since,
and the check-in inbox.  Bound parameters only; short-lived read-only connections
(``dashboard.queries.therapist`` explains the pattern)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.queries.therapist import MAX_ENTRIES, TTL, _frame

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
    return _frame(db, RECENT_READINGS_SQL, [READINGS_KEPT]), _frame(db, BASELINES_SQL)
