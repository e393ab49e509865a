"""Rebuild the marts from core.

Marts are plain tables, rebuilt inside the same transaction as the write that
changed core, so a reader never sees core and marts disagree.  Each mart is one
``SELECT`` in ``sql/marts/<name>.sql``, named by its grain.
"""

from __future__ import annotations

from importlib import resources

import duckdb

# Order matters: later marts read earlier ones.
MART_ORDER = ("rom_changes", "visit_outcomes", "client_progress", "technique_use", "client_summary",
              "self_reports", "trigger_points", "outcome_measures", "practice_weekly")


def mart_sql(name: str) -> str:
    return resources.files("pipelines.sql.marts").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def rebuild_marts(con: duckdb.DuckDBPyConnection) -> None:
    for name in MART_ORDER:
        con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {mart_sql(name)}")
