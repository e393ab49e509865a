"""Every database read the dashboard makes: parameterised SQL over the marts, cached.

How reading works (DESIGN.md "Architecture"; engineering.md §1):

* Each cached function opens a short-lived, hardened, read-only connection with
  :func:`pipelines.db.read_connection`, runs its query with bound ``?`` parameters and
  closes it.  No connection outlives a query batch or is shared across sessions or
  reruns, so ``knotwork ingest`` into the same file is never blocked by the dashboard.
* Results are cached with ``st.cache_data`` by plain arguments only: the database path,
  its :func:`pipelines.db.data_version` token (changes when the file changes, so an import
  shows up on the next rerun) and, for client data, the ``client_id``.  Caches are global
  across sessions, which is why ``client_id`` is always an argument, never hidden state.
* A lock held by a writer for longer than the retry window raises
  :class:`pipelines.db.DatabaseBusy`; the entry point shows "data is being updated".
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from pipelines.db import data_version, read_connection, resolve_db_path
from pipelines.questionnaires import score_frame
from pipelines.settings import load_settings, settings_path_for

TTL = "1h"
MAX_ENTRIES = 256


def current_db() -> str:
    """The database this server shows: ``$KNOTWORK_DB`` (set by ``knotwork serve``) or the default."""
    return str(resolve_db_path(None))


def version(db: str) -> str:
    return data_version(db)


def _frame(db: str, sql: str, params: list | None = None) -> pd.DataFrame:
    with read_connection(db) as con:
        return con.execute(sql, params or []).df()


def _dates(start: dt.date | None, end: dt.date | None) -> list:
    return [start or dt.date(1900, 1, 1), end or dt.date(9999, 12, 31)]


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------

def _settings_stamp(db: str) -> str:
    path = settings_path_for(db)
    try:
        return str(path.stat().st_mtime_ns)
    except FileNotFoundError:
        return "-"


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def _settings(db: str, stamp: str) -> dict:
    return load_settings(settings_path_for(db))


def practice_settings(db: str) -> dict:
    """Thresholds for this database (packaged defaults + ``knotwork-settings.toml`` beside it)."""
    return _settings(db, _settings_stamp(db))


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------

CLIENTS_SQL = """
select client_id, display_name, status, primary_complaint, complaint_region, n_visits,
       first_visit_date, last_visit_date, baseline_pain, latest_pain, latest_pain_visit_number,
       change_from_baseline, pct_change_from_baseline
from marts.client_summary
order by display_name, client_id
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def clients(db: str, version: str) -> pd.DataFrame:
    """One row per client (``marts.client_summary``), ordered by name."""
    return _frame(db, CLIENTS_SQL)


CLIENT_SQL = """
select client_id, display_name, status, primary_complaint, complaint_region, intake_date, n_visits,
       first_visit_date, last_visit_date, baseline_pain, latest_pain
from marts.client_summary
where client_id = ?
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client(db: str, version: str, client_id: str) -> pd.DataFrame:
    """The client's summary row (empty frame for an unknown id)."""
    return _frame(db, CLIENT_SQL, [client_id])


CLIENT_VISITS_SQL = """
with baseline as (
    select client_id, min(visit_date) filter (where pain_pre is not null) as baseline_date
    from marts.client_progress
    where client_id = ?
    group by client_id
)
select
    visit_outcomes.visit_id,
    visit_outcomes.visit_date,
    visit_outcomes.visit_number,
    visit_outcomes.therapist,
    visit_outcomes.duration_min,
    visit_outcomes.pressure,
    visit_outcomes.pain_region,
    visit_outcomes.techniques,
    visit_outcomes.technique_set,
    visit_outcomes.n_techniques,
    visit_outcomes.pain_pre,
    visit_outcomes.pain_post,
    visit_outcomes.pain_change,
    visit_outcomes.carryover_change,
    visit_outcomes.days_since_previous,
    client_progress.baseline_pain,
    baseline.baseline_date,
    client_progress.change_from_baseline,
    visit_outcomes.client_feedback,
    visit_outcomes.homecare
from marts.visit_outcomes as visit_outcomes
inner join marts.client_progress as client_progress on client_progress.visit_id = visit_outcomes.visit_id
left join baseline on baseline.client_id = visit_outcomes.client_id
where visit_outcomes.client_id = ?
  and visit_outcomes.visit_date between ? and ?
order by visit_outcomes.visit_date, visit_outcomes.visit_number
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client_visits(db: str, version: str, client_id: str, start: dt.date | None = None,
                  end: dt.date | None = None) -> pd.DataFrame:
    """The client's visits in the date range, with baseline pain (one row per visit)."""
    df = _frame(db, CLIENT_VISITS_SQL, [client_id, client_id, *_dates(start, end)])
    df["techniques"] = df["techniques"].map(lambda ts: list(ts) if ts is not None else [])
    return df


SELF_REPORTS_SQL = """
select reported_at, report_date, pain, region, did_homecare, pgic, note,
       last_visit_number, days_since_last_visit
from marts.self_reports
where client_id = ? and report_date between ? and ?
order by reported_at
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client_self_reports(db: str, version: str, client_id: str, start: dt.date | None = None,
                        end: dt.date | None = None) -> pd.DataFrame:
    """The client's between-visit pain reports in the date range."""
    return _frame(db, SELF_REPORTS_SQL, [client_id, *_dates(start, end)])


ROM_SQL = """
select
    visit_outcomes.visit_id,
    visit_outcomes.visit_date,
    visit_outcomes.visit_number,
    rom_changes.joint,
    rom_changes.movement,
    rom_changes.side,
    rom_changes.degrees_pre,
    rom_changes.degrees_post,
    rom_changes.degrees_change,
    rom_changes.instrument,
    rom_changes.measured_by
from marts.rom_changes as rom_changes
inner join marts.visit_outcomes as visit_outcomes on visit_outcomes.visit_id = rom_changes.visit_id
where visit_outcomes.client_id = ? and visit_outcomes.visit_date between ? and ?
order by rom_changes.joint, rom_changes.movement, rom_changes.side, visit_outcomes.visit_date
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client_rom(db: str, version: str, client_id: str, start: dt.date | None = None,
               end: dt.date | None = None) -> pd.DataFrame:
    """The client's ROM readings, one row per visit × joint × movement × side (pre and post)."""
    return _frame(db, ROM_SQL, [client_id, *_dates(start, end)])


TRIGGER_POINTS_SQL = """
select visit_id, visit_date, visit_number, muscle, side, referral_region, tenderness, released
from marts.trigger_points
where client_id = ? and visit_date between ? and ?
order by visit_date, muscle, side
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client_trigger_points(db: str, version: str, client_id: str, start: dt.date | None = None,
                          end: dt.date | None = None) -> pd.DataFrame:
    """Trigger points found in the client's visits in the date range."""
    return _frame(db, TRIGGER_POINTS_SQL, [client_id, *_dates(start, end)])


OUTCOME_MEASURES_SQL = """
select *
from marts.outcome_measures
where client_id = ? and taken_on between ? and ?
order by taken_on, instrument
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client_outcome_scores(db: str, version: str, client_id: str, start: dt.date | None = None,
                          end: dt.date | None = None) -> pd.DataFrame:
    """The client's questionnaires, scored (``pipelines.questionnaires.score_frame``).

    Rows that cannot be scored keep ``score`` NaN and say why in ``reason``.
    """
    raw = _frame(db, OUTCOME_MEASURES_SQL, [client_id, *_dates(start, end)])
    if raw.empty:
        return pd.DataFrame(columns=["client_id", "taken_on", "instrument", "score", "scorable", "reason"])
    return score_frame(raw, errors="mark")


# ---------------------------------------------------------------------------
# Practice
# ---------------------------------------------------------------------------

PROGRESS_SQL = """
select client_id, visit_number, visit_date, baseline_pain, pain_pre
from marts.client_progress
where visit_number <= ?
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def practice_progress(db: str, version: str, max_visit: int) -> pd.DataFrame:
    """Every client's pain at visits 1 … ``max_visit`` with their baseline."""
    return _frame(db, PROGRESS_SQL, [max_visit])


WEEKLY_SQL = """
select week_start, n_visits, n_clients_seen, n_first_visits, mean_pain_change
from marts.practice_weekly
order by week_start
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def practice_weekly(db: str, version: str) -> pd.DataFrame:
    """Visits per calendar week (weeks without visits included as zeros)."""
    return _frame(db, WEEKLY_SQL)


RELIEF_SQL = """
select visit_id, client_id, visit_date, visit_number, pain_pre, pain_post, pain_change
from marts.visit_outcomes
where pain_change is not null
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def practice_relief(db: str, version: str) -> pd.DataFrame:
    """Every visit with both pain scores (immediate change = post − pre)."""
    return _frame(db, RELIEF_SQL)


def database_label(db: str) -> str:
    """"demo.duckdb, updated 14:03" for the sidebar."""
    path = Path(db)
    try:
        stamp = dt.datetime.fromtimestamp(max(os.path.getmtime(p) for p in (path, Path(f"{path}.wal"))
                                              if p.exists()))
    except ValueError:
        return f"{path.name} (not found)"
    return f"{path.name}, updated {stamp:%d %b %Y %H:%M}"
