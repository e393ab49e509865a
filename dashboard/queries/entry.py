"""Reads for the data-entry pages (Log a visit, Clients, Import), cached like ``dashboard.queries.therapist``.

Every function takes the database path and its :func:`pipelines.warehouse.db.data_version` token as
plain arguments, so a write (a saved visit, an import) changes the token and the next rerun
reads fresh data; client data always has ``client_id`` in the key.  Each read opens a
short-lived read-only connection (``pipelines.warehouse.db.read_connection``) and closes it.
Form prefills (the visit being edited) are read uncached through ``pipelines.entry.forms``.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from pipelines.ingest.vocab import MUSCLES, REGIONS, TECHNIQUES
from pipelines.warehouse.db import read_connection

TTL = "1h"


def _frame(db: str, sql: str, params: list | None = None) -> pd.DataFrame:
    with read_connection(db) as con:
        return con.execute(sql, params or []).df()


VOCAB_SQL = """
select vocabulary, value
from core.vocabulary_extensions
order by vocabulary, value
"""


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def vocabulary_options(db: str, version: str) -> dict[str, list[str]]:
    """Canonical names for the form pickers: the built-in lists plus the practice's own entries."""
    extra = _frame(db, VOCAB_SQL)
    out = {}
    for name, voc in (("technique", TECHNIQUES), ("muscle", MUSCLES), ("region", REGIONS)):
        own = [v for v in extra.loc[extra["vocabulary"] == name, "value"] if v not in voc.entries]
        out[name] = list(voc.canonical_names) + sorted(own)
    return out


CLIENT_VISITS_SQL = """
select visit_id, visit_date, pain_pre, pain_post, techniques
from core.visits
where client_id = ?
order by visit_date desc, visit_id desc
limit 60
"""


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def client_recent_visits(db: str, version: str, client_id: str) -> pd.DataFrame:
    """The client's latest visits, newest first (to pick one to edit or delete)."""
    df = _frame(db, CLIENT_VISITS_SQL, [client_id])
    df["techniques"] = df["techniques"].map(lambda ts: list(ts) if ts is not None else [])
    return df


CLIENTS_SQL = """
select c.client_id, c.display_name, c.status, c.primary_complaint, c.complaint_region, c.intake_date,
       c.birth_year, c.sex, c.notes, v.n_visits, v.last_visit
from core.clients c
left join (select client_id, count(*) as n_visits, max(visit_date) as last_visit
           from core.visits group by client_id) v on v.client_id = c.client_id
order by c.display_name, c.client_id
"""


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def all_clients(db: str, version: str) -> pd.DataFrame:
    """Every client with their visit count and last visit (the Clients page table)."""
    return _frame(db, CLIENTS_SQL)


AUDIT_SQL = """
select audit_id, "at", actor, action, kind, key, cast(before as varchar) as before, cast(after as varchar) as after
from meta.audit
where kind = ? and (key = ? or key like ? escape '\\')
order by audit_id desc
limit 50
"""


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def audit_for(db: str, version: str, kind: str, key: str) -> pd.DataFrame:
    """Audit rows of one client or visit (questionnaire keys start with ``client_id|``), newest first."""
    try:
        return _frame(
            db, AUDIT_SQL, [kind, key, key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "|%"]
        )
    except duckdb.CatalogException:  # a database from before migrations 0003/0004 has no audit (or no actor) yet
        return pd.DataFrame(columns=["audit_id", "at", "actor", "action", "kind", "key", "before", "after"])


IMPORTS_SQL = """
select import_id, started_at, path, kind, mapping, rows_read, inserted, updated, unchanged, rejected
from raw.imports
order by import_id desc
limit 30
"""


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def recent_imports(db: str, version: str) -> pd.DataFrame:
    """The latest import runs, newest first."""
    return _frame(db, IMPORTS_SQL)


REJECTS_SQL = """
select line, column_name as "column", value, reason
from raw.rejects
where import_id = ?
order by line, column_name nulls first
"""


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def import_rejects(db: str, version: str, import_id: int) -> pd.DataFrame:
    """Every rejected row of one import: line, column, offending value, reason."""
    return _frame(db, REJECTS_SQL, [int(import_id)])


QUESTIONNAIRES_SQL = """
select taken_on, instrument
from core.outcome_measures
where client_id = ?
order by taken_on desc, instrument
"""


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def client_questionnaires(db: str, version: str, client_id: str) -> pd.DataFrame:
    """The client's stored questionnaires (date, instrument), newest first."""
    return _frame(db, QUESTIONNAIRES_SQL, [client_id])


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def audit_log(
    db: str,
    version: str,
    actions: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
    client_id: str | None = None,
    since=None,
    until=None,
    limit: int = 5000,
) -> pd.DataFrame:
    """The practice audit log for the Records page, newest first, filtered (pipelines.warehouse.audit.read_log)."""
    from pipelines.warehouse.audit import read_log

    return read_log(db, list(actions) or None, list(kinds) or None, client_id, since, until, limit)


AUDIT_FACETS_SQL = """
select action, kind, count(*) as n, min("at")::date as first_day, max("at")::date as last_day
from meta.audit
group by action, kind
"""


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def audit_facets(db: str, version: str) -> pd.DataFrame:
    """Which actions and kinds the log holds (the Records page's filter choices) and its date span."""
    return _frame(db, AUDIT_FACETS_SQL)
