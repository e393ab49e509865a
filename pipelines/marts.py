"""Rebuild the marts from core.

Marts are plain tables, rebuilt inside the same transaction as the write that
changed core, so a reader never sees core and marts disagree.  Each mart is one
``SELECT`` in ``sql/marts/<name>.sql``, named by its grain.

Only the marts that depend (directly or through other marts) on the core tables
a write touched are rebuilt; dependencies are read from the SQL itself
(``core.<table>`` and ``marts.<name>`` references), so a new mart needs no
bookkeeping beyond its place in ``MART_ORDER``.
"""

from __future__ import annotations

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


def marts_to_rebuild(changed: set[str] | None) -> list[str]:
    if changed is None:
        return list(MART_ORDER)
    return [m for m in MART_ORDER if mart_sources(m) & changed]


def rebuild_marts(con: duckdb.DuckDBPyConnection, changed: set[str] | None = None) -> list[str]:
    """Rebuild the marts that read any of the ``changed`` core tables (all when None, or when one is missing)."""
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
    names = list(MART_ORDER) if not set(MART_ORDER) <= existing else marts_to_rebuild(changed)
    for name in names:
        con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {mart_sql(name)}")
    return names
