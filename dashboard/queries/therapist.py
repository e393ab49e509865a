"""Every database read the dashboard makes: parameterised SQL over the marts, cached.

How reading works:

* Each cached function opens a short-lived, hardened, read-only connection with
  :func:`pipelines.warehouse.db.read_connection`, runs its query batch with bound ``?`` parameters and
  closes it.  No connection outlives a query batch or is shared across sessions or
  reruns, so ``knotwork ingest`` into the same file is never blocked by the dashboard.
  The client page is one batch (:func:`load_client_page`: one connection, all of the
  client's rows); its per-table functions narrow that cached batch to the chosen dates.
* Practice-wide pages get aggregates, never every visit: at 2.5 million visits shipping
  rows to pandas took seconds (benchmarks/RESULTS.md), a ``GROUP BY`` in DuckDB milliseconds.
* Results are cached with ``st.cache_data`` by plain arguments only: the database path,
  its :func:`pipelines.warehouse.db.data_version` token (changes when the file changes, so an import
  shows up on the next rerun) and, for client data, the ``client_id``.  Caches are global
  across sessions, which is why ``client_id`` is always an argument, never hidden state.
* A lock held by a writer for longer than the retry window raises
  :class:`pipelines.warehouse.db.DatabaseBusy`; the entry point shows "data is being updated".
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from types import MappingProxyType

import pandas as pd
import streamlit as st

from pipelines.clinical.questionnaires import score_frame
from pipelines.clinical.settings import load_settings, settings_path_for
from pipelines.warehouse.db import data_version, read_connection, resolve_db_path

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


def _in_dates(frame: pd.DataFrame, column: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """Rows whose ``column`` (a date) lies in [start, end], either bound optional.

    The client page reads all of a client's rows once (:func:`client_page`) and narrows them
    here, so moving the date picker costs no database round trip."""
    if start is None and end is None:
        return frame.reset_index(drop=True)
    dates = pd.to_datetime(frame[column])
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= dates >= pd.Timestamp(start)
    if end is not None:
        keep &= dates <= pd.Timestamp(end)
    return frame[keep].reset_index(drop=True)


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


# Held once per data version (st.cache_resource), not copied: at network size this frame is
# 100,000 rows, and st.cache_data's pickled copy cost ~70 ms on every rerun of every page.
@st.cache_resource(ttl=TTL, max_entries=4, show_spinner=False)
def _clients_shared(db: str, version: str) -> pd.DataFrame:
    return _frame(db, CLIENTS_SQL)


def clients(db: str, version: str) -> pd.DataFrame:
    """One row per client (``marts.client_summary``), ordered by name.

    A shallow copy of the shared frame: under pandas' copy-on-write a caller that changes it
    changes only its copy, never what other sessions see."""
    return _clients_shared(db, version).copy(deep=False)


@st.cache_resource(ttl=TTL, max_entries=4, show_spinner=False)
def _client_labels(db: str, version: str) -> dict[str, str]:
    shared = _clients_shared(db, version)
    return dict(zip(shared["client_id"], shared["display_name"] + " (" + shared["client_id"] + ")"))


def client_labels(db: str, version: str) -> MappingProxyType:
    """``{client_id: "Name (client_id)"}`` for pickers, built once per data version (read-only)."""
    return MappingProxyType(_client_labels(db, version))


CLIENT_SQL = """
select client_id, display_name, status, primary_complaint, complaint_region, intake_date, n_visits,
       first_visit_date, last_visit_date, baseline_pain, latest_pain
from marts.client_summary
where client_id = ?
"""


def client(db: str, version: str, client_id: str) -> pd.DataFrame:
    """The client's summary row (empty frame for an unknown id)."""
    return client_page(db, version, client_id)["summary"]


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
  and client_progress.client_id = ?
order by visit_outcomes.visit_date, visit_outcomes.visit_number
"""


def client_visits(
    db: str, version: str, client_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """The client's visits in the date range, with baseline pain (one row per visit)."""
    return _in_dates(client_page(db, version, client_id)["visits"], "visit_date", start, end)


SELF_REPORTS_SQL = """
select reported_at, report_date, pain, region, did_homecare, pgic, note,
       last_visit_number, days_since_last_visit
from marts.self_reports
where client_id = ?
order by reported_at
"""


def client_self_reports(
    db: str, version: str, client_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """The client's between-visit pain reports in the date range."""
    return _in_dates(client_page(db, version, client_id)["self_reports"], "report_date", start, end)


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
where rom_changes.client_id = ? and visit_outcomes.client_id = ?
order by rom_changes.joint, rom_changes.movement, rom_changes.side, visit_outcomes.visit_date
"""


def client_rom(
    db: str, version: str, client_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """The client's ROM readings, one row per visit × joint × movement × side (pre and post)."""
    return _in_dates(client_page(db, version, client_id)["rom"], "visit_date", start, end)


TRIGGER_POINTS_SQL = """
select visit_id, visit_date, visit_number, muscle, side, referral_region, tenderness, released
from marts.trigger_points
where client_id = ?
order by visit_date, muscle, side
"""


def client_trigger_points(
    db: str, version: str, client_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """Trigger points found in the client's visits in the date range."""
    return _in_dates(client_page(db, version, client_id)["trigger_points"], "visit_date", start, end)


OUTCOME_MEASURES_SQL = """
select *
from marts.outcome_measures
where client_id = ?
order by taken_on, instrument
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client_outcome_scores(
    db: str, version: str, client_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """The client's questionnaires, scored (``pipelines.clinical.questionnaires.score_frame``).

    Rows that cannot be scored keep ``score`` NaN and say why in ``reason``.
    """
    raw = _in_dates(client_page(db, version, client_id)["outcome_measures"], "taken_on", start, end)
    if raw.empty:
        return pd.DataFrame(columns=["client_id", "taken_on", "instrument", "score", "scorable", "reason"])
    return score_frame(raw, errors="mark")


# One batch per client: every read above in a single short-lived connection.
CLIENT_PAGE_SQL = {  # name -> (sql, how many times the client id is bound)
    "summary": (CLIENT_SQL, 1),
    "visits": (CLIENT_VISITS_SQL, 3),
    "self_reports": (SELF_REPORTS_SQL, 1),
    "rom": (ROM_SQL, 2),
    "trigger_points": (TRIGGER_POINTS_SQL, 1),
    "outcome_measures": (OUTCOME_MEASURES_SQL, 1),
}


def load_client_page(db: str, client_id: str) -> dict[str, pd.DataFrame]:
    """All of one client's rows the client page shows, read in one connection (not cached).

    Every mart read here is stored sorted by ``client_id`` (``pipelines/sql/marts``), so each
    ``client_id = ?`` filter skips the row groups of other clients via DuckDB's min/max zone
    maps instead of scanning the practice: the cost stays flat from 40 to 100,000 clients.
    ``benchmarks/run.py`` times this function as ``queries.client_ms``.
    """
    with read_connection(db) as con:
        out = {name: con.execute(sql, [client_id] * n).df() for name, (sql, n) in CLIENT_PAGE_SQL.items()}
    out["visits"]["techniques"] = out["visits"]["techniques"].map(lambda ts: list(ts) if ts is not None else [])
    return out


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def client_page(db: str, version: str, client_id: str) -> dict[str, pd.DataFrame]:
    """:func:`load_client_page`, cached by plain arguments: path, data version, client id."""
    return load_client_page(db, client_id)


# ---------------------------------------------------------------------------
# Practice
# ---------------------------------------------------------------------------

PROGRESS_COUNTS_SQL = """
select visit_number, baseline_pain, pain_pre, count(*) as n_rows
from marts.client_progress
where visit_number between 1 and ?
  and pain_pre is not null and baseline_pain is not null
group by all
order by all
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def practice_progress_counts(db: str, version: str, max_visit: int) -> pd.DataFrame:
    """How many clients had each (visit k, baseline pain, pain before visit k): one row per
    combination (a few thousand at most, pain being scored in half points) instead of one per
    client and visit; :func:`dashboard.metrics.improvement_by_visit` weighs them by ``n_rows``.
    ``client_progress`` has one row per client and visit number, so rows are clients."""
    return _frame(db, PROGRESS_COUNTS_SQL, [max_visit])


WEEKLY_SQL = """
select week_start, n_visits, n_clients_seen, n_first_visits, mean_pain_change
from marts.practice_weekly
order by week_start
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def practice_weekly(db: str, version: str) -> pd.DataFrame:
    """Visits per calendar week (weeks without visits included as zeros)."""
    return _frame(db, WEEKLY_SQL)


RELIEF_COUNTS_SQL = """
select pain_change, count(*) as n_visits
from marts.visit_outcomes
where pain_change is not null
group by pain_change
order by pain_change
"""


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def practice_relief_counts(db: str, version: str) -> pd.DataFrame:
    """Number of visits per immediate pain change (post − pre), for the practice histogram."""
    return _frame(db, RELIEF_COUNTS_SQL)


def database_label(db: str) -> str:
    """ "demo.duckdb, updated 14:03" for the sidebar."""
    path = Path(db)
    try:
        stamp = dt.datetime.fromtimestamp(max(os.path.getmtime(p) for p in (path, Path(f"{path}.wal")) if p.exists()))
    except ValueError:
        return f"{path.name} (not found)"
    return f"{path.name}, updated {stamp:%d %b %Y %H:%M}"
