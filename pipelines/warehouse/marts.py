"""Keep the marts in step with core, inside the same transaction as the write that changed core.

Marts are plain tables, so a reader never sees core and marts disagree.  Each mart is one
``SELECT`` in ``sql/marts/<name>.sql``, named by its grain.

Two ways to bring a mart up to date, one SQL text for both:

* **Refresh (incremental)**: a write that knows which clients it touched (a check-in, a saved
  visit, an import of a few rows) replaces only those clients' rows.  The mart's own SQL runs
  with every ``core.<table>`` / ``marts.<name>`` it reads narrowed to those clients
  (:data:`CLIENT_SCOPE`), and its output replaces the clients' old rows.  This is exact because
  no client-grain mart mixes clients: every window, join and aggregate is within one client.
  Practice-level marts (``practice_weekly``, one row per week) are refreshed for the weeks in
  which the touched clients' visit rows changed (:data:`WEEK_SCOPE`).
* **Rebuild (full)**: ``CREATE OR REPLACE`` from the whole of core, stored sorted by client.
  Used when a mart is missing, when it was built by other SQL or before the latest migration
  (its fingerprint, kept as the table comment, differs), when the caller does not say which
  clients it touched, and when a write touches so many clients that one pass over everything is
  cheaper than narrowing (:data:`INCREMENTAL_MAX_SHARE`; it also restores the client sort order
  that small refreshes, appended at the end, slowly wear down).

Only the marts that depend (directly or through other marts) on the core tables a write touched
are brought up to date; dependencies are read from the SQL itself (``core.<table>`` and
``marts.<name>`` references), so a new mart needs no bookkeeping beyond its place in
``MART_ORDER``.  A mart without a ``client_id`` column is always rebuilt unless it is listed in
:data:`WEEK_GRAIN`; a mart with one whose rows depend on *other* clients' rows (a rank within the
practice, say) must be listed in :data:`PRACTICE_WIDE`, or a refresh would leave the other
clients' rows stale (``tests/test_marts_incremental.py`` compares every mart with a rebuild).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources

import duckdb

# Order matters: later marts read earlier ones.
MART_ORDER = (
    "rom_changes",
    "visit_outcomes",
    "client_progress",
    "technique_use",
    "client_summary",
    "self_reports",
    "trigger_points",
    "outcome_measures",
    "practice_weekly",
)

# Marts with one row per calendar week (``week_start``), practice-wide; every other mart has a
# ``client_id`` column and each client's rows depend on that client's core rows only.
WEEK_GRAIN = frozenset({"practice_weekly"})

# Marts with a client_id whose rows also depend on other clients' rows: always rebuilt.
PRACTICE_WIDE: frozenset[str] = frozenset()

# A write touching more than this share of the practice's clients rebuilds instead of refreshing:
# narrowing every source to most of the practice costs more than reading it whole (an initial
# import, a full visits export re-imported).
INCREMENTAL_MAX_SHARE = 0.2

_REF = re.compile(r"\b(core|marts)\.([a-z_]+)\b")
_COMMENT = re.compile(r"--[^\n]*")

_IN_SCOPE = "client_id IN (SELECT client_id FROM temp._kw_scope_clients)"
_VISIT_IN_SCOPE = "visit_id IN (SELECT visit_id FROM temp._kw_scope_visits)"
# How each relation a client-grain mart reads is narrowed to the touched clients.  ROM and
# trigger points name their visit, not their client: the touched clients' visit ids are looked up
# once per refresh (one pass over core.visits) rather than once per mart that reads them.
CLIENT_SCOPE = {"core.rom": _VISIT_IN_SCOPE, "core.trigger_points": _VISIT_IN_SCOPE}
CLIENT_SCOPE_DEFAULT = _IN_SCOPE
# A week-grain mart reads the visits on the days of the touched weeks, plus the practice's first
# and last visit day so its calendar (first to last week) stays the whole practice's; only the
# touched weeks' rows and weeks new to the calendar are kept from its output.  (A semi-join on a
# small set of days: at 2.4 million visits, 0.8 s as a per-row date_trunc with OR, on a busy machine.)
WEEK_SCOPE = "visit_date IN (SELECT day FROM temp._kw_scope_days)"
_SCOPE_DAYS = """
    CREATE OR REPLACE TEMP TABLE _kw_scope_days AS
    SELECT CAST(week_start + to_days(CAST(d AS INTEGER)) AS DATE) AS day FROM temp._kw_scope_weeks, range(7) AS t(d)
    UNION SELECT min(visit_date) FROM marts.visit_outcomes
    UNION SELECT max(visit_date) FROM marts.visit_outcomes"""
# The weeks whose visits changed: the weeks of the touched clients' visit rows that differ before
# and after the refresh (a new latest visit changes its own week and the previous visit's, not the
# client's whole history).  A week whose visit rows are all unchanged keeps its weekly row.  The
# client's rows (hundreds at most) are compared in Python: the same comparison as SQL EXCEPT ALL
# both ways took 0.3-0.5 s of each saved visit on a busy machine, most of it query overhead.
_SCOPE_VISITS = f"SELECT * FROM marts.visit_outcomes WHERE {_IN_SCOPE}"
_SCOPE_WEEKS = "CREATE OR REPLACE TEMP TABLE _kw_scope_weeks AS SELECT unnest(?::DATE[]) AS week_start"
_LATEST_MIGRATION = "SELECT max(name) FROM meta.migrations"
_MART_COMMENTS = "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'"
_PER_CLIENT_MARTS = "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'marts' AND column_name = 'client_id'"


@cache
def mart_sql(name: str) -> str:
    return resources.files("pipelines.sql.marts").joinpath(f"{name}.sql").read_text(encoding="utf-8")


@cache
def mart_sources(name: str) -> frozenset[str]:
    """Core tables a mart reads, directly or through the marts it reads."""
    sources: set[str] = set()
    for schema, table in _REF.findall(mart_sql(name)):
        if schema == "core":
            sources.add(table)
        elif table != name:
            sources |= mart_sources(table)
    return frozenset(sources)


@cache
def mart_fingerprint(name: str, schema: str | None = None) -> str:
    """Hash of the mart's SQL and of the latest migration it was built after (``schema``)."""
    text = mart_sql(name) if schema is None else f"{mart_sql(name)}\n-- after {schema}"
    return "knotwork-mart " + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@cache
def mart_readers(name: str) -> frozenset[str]:
    """Marts that read ``name``, directly or through other marts."""
    direct = {m for m in MART_ORDER if m != name and ("marts", name) in _REF.findall(mart_sql(m))}
    out = set(direct)
    for m in direct:
        out |= mart_readers(m)
    return frozenset(out)


@cache
def scoped_sql(name: str) -> str:
    """The mart's SQL with each relation it reads narrowed (see the module docstring)."""

    def narrow(match: re.Match) -> str:
        relation = match.group(0)
        where = WEEK_SCOPE if name in WEEK_GRAIN else CLIENT_SCOPE.get(relation, CLIENT_SCOPE_DEFAULT)
        return f"(SELECT * FROM {relation} WHERE {where})"

    return _REF.sub(narrow, _COMMENT.sub("", mart_sql(name)))


def marts_to_rebuild(changed: set[str] | None, stale: set[str] = frozenset()) -> list[str]:
    if changed is None:
        return list(MART_ORDER)
    wanted = set(stale).union(*(mart_readers(m) for m in stale)) if stale else set()
    return [m for m in MART_ORDER if mart_sources(m) & changed or m in wanted]


def rebuild_marts(
    con: duckdb.DuckDBPyConnection, changed: set[str] | None = None, clients: Iterable[str] | None = None
) -> list[str]:
    """Bring up to date the marts that read any of the ``changed`` core tables (all when None).

    With ``clients`` (the ids whose core rows this write inserted, changed or deleted, before and
    after: a visit moved to another client names both) those marts are refreshed for these
    clients only; without it, or where a mart is missing or stale, they are rebuilt.  Returns the
    marts touched, in order."""
    schema = con.execute(_LATEST_MIGRATION).fetchone()[0]
    existing = dict(con.execute(_MART_COMMENTS).fetchall())
    stale = {m for m in MART_ORDER if m in existing and existing[m] != mart_fingerprint(m, schema)}
    if not set(MART_ORDER) <= set(existing):
        names, full = list(MART_ORDER), set(MART_ORDER)
    else:
        names = marts_to_rebuild(changed, stale)
        full = set(stale).union(*(mart_readers(m) for m in stale)) if stale else set()
    scope = None if clients is None else sorted(set(clients))
    if scope is not None and len(scope) > INCREMENTAL_MAX_SHARE * _client_count(con):
        scope = None
    if scope is None:
        full = set(names)
    else:  # what cannot be narrowed to clients or weeks is rebuilt
        per_client = {r[0] for r in con.execute(_PER_CLIENT_MARTS).fetchall()} - PRACTICE_WIDE
        full |= {m for m in names if m not in per_client and m not in WEEK_GRAIN}
    refreshed = [m for m in names if m not in full]
    weeks = any(m in WEEK_GRAIN for m in refreshed)
    old_visits = Counter()
    if refreshed:
        _open_scope(con, scope, visits=any(_VISIT_IN_SCOPE in scoped_sql(m) for m in refreshed))
        if weeks:
            old_visits = _scope_visit_rows(con)
    for name in names:
        if name in full:
            con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {mart_sql(name)}")
            # Literal, not a bound parameter: DuckDB's COMMENT ON takes no parameters; the value is a hex digest.
            con.execute(f"COMMENT ON TABLE marts.{name} IS '{mart_fingerprint(name, schema)}'")
        elif name in WEEK_GRAIN:
            _refresh_weeks(con, name)
        else:
            con.execute(f"DELETE FROM marts.{name} WHERE {_IN_SCOPE}")
            con.execute(f"INSERT INTO marts.{name} BY NAME {scoped_sql(name)}")
        if name == "visit_outcomes" and weeks:
            changed = (old_visits - (new := _scope_visit_rows(con))) + (new - old_visits)
            con.execute(_SCOPE_WEEKS, [sorted({week for week, _ in changed if week is not None})])
    if refreshed:
        con.execute("DROP TABLE temp._kw_scope_clients")
        con.execute("DROP TABLE IF EXISTS temp._kw_scope_visits")
        if weeks:
            con.execute("DROP TABLE temp._kw_scope_weeks")
    return names


def _client_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM core.clients").fetchone()[0]


def _open_scope(con: duckdb.DuckDBPyConnection, clients: list[str], visits: bool) -> None:
    """The touched clients as a temp table (one bound list) and, when a mart narrows by visit, their
    visit ids as core holds them now (after the write)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _kw_scope_clients AS SELECT unnest(?::VARCHAR[]) AS client_id", [clients])
    if visits:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _kw_scope_visits AS SELECT visit_id FROM core.visits WHERE {_IN_SCOPE}"
        )


def _scope_visit_rows(con: duckdb.DuckDBPyConnection) -> Counter:
    """The touched clients' ``marts.visit_outcomes`` rows, each keyed by its visit week (Monday,
    as ``date_trunc('week', ...)``), counted (a multiset, as EXCEPT ALL compares)."""
    rows = Counter()
    cursor = con.execute(_SCOPE_VISITS)
    at = [d[0] for d in cursor.description].index("visit_date")
    for row in cursor.fetchall():
        day = row[at]
        week = None if day is None else day - dt.timedelta(days=day.weekday())
        rows[(week, _hashable(row))] += 1
    return rows


def _hashable(value):
    """A fetched value with its lists and structs (Python lists and dicts) made comparable as keys."""
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value


def _refresh_weeks(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Replace the touched weeks' rows, drop weeks now outside the practice's calendar, add weeks
    new to it (the scoped SQL computes the calendar from the practice's first and last visit)."""
    con.execute(_SCOPE_DAYS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _kw_week_rows AS {scoped_sql(name)}")
    con.execute(f"""
        DELETE FROM marts.{name}
        WHERE week_start IN (SELECT week_start FROM temp._kw_scope_weeks)
           OR week_start NOT IN (SELECT week_start FROM temp._kw_week_rows)""")
    con.execute(f"""
        INSERT INTO marts.{name} BY NAME
        SELECT * FROM temp._kw_week_rows
        WHERE week_start IN (SELECT week_start FROM temp._kw_scope_weeks)
           OR week_start NOT IN (SELECT week_start FROM marts.{name})
        ORDER BY week_start""")
    con.execute("DROP TABLE temp._kw_week_rows")
    con.execute("DROP TABLE temp._kw_scope_days")
