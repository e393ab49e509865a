"""Ordered, recorded schema migrations.

Each file in ``sql/migrations`` is named ``NNNN_description.sql`` and runs once,
in order, inside one transaction with its row in ``meta.migrations``.  A
database made by an older Knotwork is brought up to date on the next write.
"""

from __future__ import annotations

from importlib import resources

import duckdb

from pipelines.warehouse.transaction import transaction

MIGRATIONS_PACKAGE = "pipelines.sql.migrations"


def available_migrations() -> list[tuple[str, str]]:
    files = resources.files(MIGRATIONS_PACKAGE)
    found = sorted((f.name, f.read_text(encoding="utf-8")) for f in files.iterdir() if f.name.endswith(".sql"))
    return found


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'meta' AND table_name = 'migrations'"
    ).fetchone()[0]
    if not exists:
        return []
    return [r[0] for r in con.execute("SELECT name FROM meta.migrations ORDER BY name").fetchall()]


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Migrations this code has that the database has not had (works on a read-only connection).

    The dashboard only reads, so it cannot bring an old database up to date itself; it uses
    this to say "run `knotwork init`" instead of failing on a missing column."""
    done = set(applied_migrations(con))
    return [name for name, _ in available_migrations() if name not in done]


def migrate(con: duckdb.DuckDBPyConnection, upto: str | None = None) -> list[str]:
    """Apply every migration not yet recorded; return the names applied now.

    ``upto`` (a file name such as ``0001_layers.sql``) stops after that migration: tests use it
    to build a database exactly as an older Knotwork left it."""
    done = set(applied_migrations(con))
    applied = []
    for name, sql in available_migrations():
        if upto is not None and name > upto:
            break
        if name in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO meta.migrations (name, applied_at) VALUES (?, now())", [name])
        applied.append(name)
    return applied
