"""Rebuild the marts from core.

Marts are plain tables, rebuilt inside the same transaction as the write that
changed core, so a reader never sees core and marts disagree.  Each mart is one
``SELECT`` in ``sql/marts/<name>.sql``, named by its grain.

Only the marts that depend (directly or through other marts) on the core tables
a write touched are rebuilt; dependencies are read from the SQL itself
(``core.<table>`` and ``marts.<name>`` references), so a new mart needs no
bookkeeping beyond its place in ``MART_ORDER``.

Each mart table carries a fingerprint of the SQL that built it (as its table comment); a
mart built by older SQL (a Knotwork upgrade changed its columns or sort order) is rebuilt,
with the marts that read it, at the next write, whatever that write changed.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources

import duckdb

# Order matters: later marts read earlier ones.
MART_ORDER = ("rom_changes", "visit_outcomes", "client_progress", "technique_use", "client_summary",
              "self_reports", "trigger_points", "outcome_measures", "practice_weekly")

_REF = re.compile(r"\b(core|marts)\.([a-z_]+)\b")


@lru_cache(maxsize=None)
def mart_sql(name: str) -> str:
    return resources.files("pipelines.sql.marts").joinpath(f"{name}.sql").read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def mart_sources(name: str) -> frozenset[str]:
    """Core tables a mart reads, directly or through the marts it reads."""
    sources: set[str] = set()
    for schema, table in _REF.findall(mart_sql(name)):
        if schema == "core":
            sources.add(table)
        elif table != name:
            sources |= mart_sources(table)
    return frozenset(sources)


@lru_cache(maxsize=None)
def mart_fingerprint(name: str) -> str:
    return "knotwork-mart " + hashlib.sha256(mart_sql(name).encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=None)
def mart_readers(name: str) -> frozenset[str]:
    """Marts that read ``name``, directly or through other marts."""
    direct = {m for m in MART_ORDER if m != name and ("marts", name) in _REF.findall(mart_sql(m))}
    out = set(direct)
    for m in direct:
        out |= mart_readers(m)
    return frozenset(out)


def marts_to_rebuild(changed: set[str] | None, stale: set[str] = frozenset()) -> list[str]:
    if changed is None:
        return list(MART_ORDER)
    wanted = set(stale).union(*(mart_readers(m) for m in stale)) if stale else set()
    return [m for m in MART_ORDER if mart_sources(m) & changed or m in wanted]


def rebuild_marts(con: duckdb.DuckDBPyConnection, changed: set[str] | None = None) -> list[str]:
    """Rebuild the marts that read any of the ``changed`` core tables (all when None, or when one is missing)."""
    existing = dict(con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall())
    stale = {m for m in MART_ORDER if m in existing and existing[m] != mart_fingerprint(m)}
    names = list(MART_ORDER) if not set(MART_ORDER) <= set(existing) else marts_to_rebuild(changed, stale)
    for name in names:
        con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {mart_sql(name)}")
        # Literal, not a bound parameter: DuckDB's COMMENT ON takes no parameters; the value is a hex digest.
        con.execute(f"COMMENT ON TABLE marts.{name} IS '{mart_fingerprint(name)}'")
    return names
