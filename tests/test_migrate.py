"""A database made by an older Knotwork keeps every row when this version opens it.

Older databases are built the way an older Knotwork left them: only the first migrations
applied (``migrate(upto=…)``), then filled with the committed sample practice's raw and core
rows — and, at version 3, audit rows in the old shape (no actor) and a share link — with the
sequences advanced as the old imports and edits advanced them.  The current code then opens
them (``knotwork init`` / ``write_connection``).  The dashboard, which only reads, must say
"run knotwork init" on such a file instead of showing a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.importer import ingest_file
from pipelines.warehouse.audit import read_log
from pipelines.warehouse.db import write_connection
from pipelines.warehouse.migrate import available_migrations, migrate, pending_migrations
from tests.sharing_helpers import app_test, page_text
from tests.test_backup import every_table

OLD_AUDIT = [  # (action, kind, key, before, after) as migration 0003's writer stored them
    (
        "update",
        "clients",
        "C0002",
        {"client_id": "C0002", "notes": None},
        {"client_id": "C0002", "notes": "tight traps"},
    ),
    ("delete", "visits", "C0004-20260301", {"visit_id": "C0004-20260301", "client_id": "C0004"}, None),
    ("insert", "outcome_measures", "C0005|2026-03-02|NDI", None, {"client_id": "C0005", "total_score": 12}),
]


def old_database(path: Path, upto: str, source: Path) -> Path:
    """A database at schema ``upto`` holding ``source``'s raw and core rows."""
    con = duckdb.connect(str(path))
    try:
        migrate(con, upto=upto)
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(source)])
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema IN ('raw', 'core') AND table_type = 'BASE TABLE' ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            # Only the columns the old table has: a later migration may have added some.
            cols = ", ".join(f'"{r[0]}"' for r in con.execute(f"DESCRIBE {schema}.{table}").fetchall())
            if (schema, table) == ("raw", "rows") and upto < "0014":
                # Before 0014 a raw row was a JSON object of header -> cell text, as the old importer wrote it.
                con.execute(
                    "INSERT INTO raw.rows SELECT r.file_hash, r.line, to_json(map(f.headers, r.cells)) "
                    "FROM src.raw.rows r JOIN src.raw.files f ON f.file_hash = r.file_hash"
                )
                continue
            con.execute(f"INSERT INTO {schema}.{table} ({cols}) SELECT {cols} FROM src.{schema}.{table}")
        con.execute("DETACH src")
        # The old imports advanced the import-id sequence; so must this copy.
        n = con.execute("SELECT coalesce(max(import_id), 0) FROM raw.imports").fetchone()[0]
        con.execute("SELECT nextval('raw.import_id_seq') FROM range(?)", [n]).fetchall()
        if upto >= "0002":
            con.execute(
                "INSERT INTO meta.secrets VALUES ('share_pepper', ?, TIMESTAMP '2026-03-01 09:00')", ["ab" * 32]
            )
            con.execute(
                "INSERT INTO meta.share_links (link_id, client_id, token_hash, token_prefix, created_at, expires_at) "
                "VALUES (nextval('meta.share_link_id_seq'), 'C0003', ?, 'Abc12xYz', TIMESTAMP '2026-03-01 09:00', "
                "TIMESTAMP '2026-03-15 09:00')",
                ["cd" * 32],
            )
        if upto >= "0003":
            for action, kind, key, before, after in OLD_AUDIT:
                con.execute(
                    'INSERT INTO meta.audit (audit_id, "at", action, kind, key, before, after) '
                    "VALUES (nextval('meta.audit_id_seq'), TIMESTAMP '2026-03-02 10:00', ?, ?, ?, ?, ?)",
                    [action, kind, key, json.dumps(before) if before else None, json.dumps(after) if after else None],
                )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


RAW_CELLS = "SELECT file_hash, line, cells FROM raw.rows ORDER BY file_hash, line"


def query(db: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def old_columns(db: Path) -> dict[str, str]:
    """Each table's columns as the old version made them: a later migration may add columns."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            name: ", ".join(
                f'"{c}"'
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || table_name = ? "
                    "ORDER BY ordinal_position",
                    [name],
                ).fetchall()
            )
            for (name,) in con.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        }
    finally:
        con.close()


def rows_in(db: Path, name: str, columns: str) -> list[str]:
    """The rows of ``name`` in ``columns`` only, as every_table() shows them."""
    return sorted(map(repr, query(db, f"SELECT {columns} FROM {name}")))


def test_a_version_1_database_keeps_every_row_through_knotwork_init(sample_db, tmp_path):
    old = old_database(tmp_path / "v1.duckdb", "0001_layers.sql", sample_db)
    before, columns = every_table(old), old_columns(old)
    assert "meta.audit" not in before and "meta.share_links" not in before  # really version 1
    n_imports = len(before["raw.imports"])
    assert n_imports >= 6 and len(before["core.visits"]) > 400

    done = subprocess.run([sys.executable, "-m", "knotwork", "init", "--db", str(old)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    after = every_table(old)
    for name, rows in before.items():
        if name not in ("meta.migrations", "raw.rows"):
            assert rows_in(old, name, columns[name]) == rows, f"{name} changed"
    # The raw rows, stored as JSON objects by version 1, are the same cells, in header order.
    assert len(before["raw.rows"]) > 4000
    assert query(old, RAW_CELLS) == query(sample_db, RAW_CELLS)
    assert [r[0] for r in query(old, "SELECT name FROM meta.migrations ORDER BY name")] == [
        name for name, _ in available_migrations()
    ]
    # The new tables and columns exist; the marts are built from the old rows.
    assert {"meta.audit", "meta.share_links", "meta.secrets"} <= set(after)
    assert {"actor", "client_id", "detail"} <= {r[0] for r in query(old, "DESCRIBE meta.audit")}
    assert query(old, "SELECT count(*) FROM marts.client_summary") == query(old, "SELECT count(*) FROM core.clients")
    # Every earlier import is in the audit log, with its counts and an honest "not recorded" actor.
    log = read_log(old, actions=["import"]).sort_values("audit_id")
    imports = query(old, "SELECT import_id, kind, rows_read, rejected FROM raw.imports ORDER BY import_id")
    assert [(int(k), kind) for k, kind in zip(log["key"], log["kind"])] == [(i, kind) for i, kind, _, _ in imports]
    assert [json.loads(a)["rows_read"] for a in log["after"]] == [r for _, _, r, _ in imports]
    assert set(log["actor"]) == {"not recorded (imported before Knotwork kept who)"}

    # Work goes on: the next import gets a fresh id and its own audit row with who did it.
    new = tmp_path / "visits_new.csv"
    new.write_text("visit_id,client_id,visit_date,pain_pre,pain_post\nNEW-1,C0001,2026-11-02,6,3\n", encoding="utf-8")
    rep = ingest_file(new, db=old, actor="anna (command line)")
    assert (rep.rows_read, rep.inserted) == (1, 1)
    assert rep.import_id > max(i for i, *_ in imports)
    assert query(
        old, "SELECT actor, kind FROM meta.audit WHERE action = 'import' AND key = ?", [str(rep.import_id)]
    ) == [("anna (command line)", "visits")]


def test_a_version_3_database_keeps_its_audit_rows_and_links_when_opened(sample_db, tmp_path):
    old = old_database(tmp_path / "v3.duckdb", "0003_audit.sql", sample_db)
    before, columns = every_table(old), old_columns(old)
    old_audit = query(old, 'SELECT audit_id, "at", action, kind, key, before, after FROM meta.audit ORDER BY audit_id')
    assert len(old_audit) == len(OLD_AUDIT)

    with write_connection(old) as con:  # what every write (import, form, link) opens
        assert pending_migrations(con) == []

    for name, rows in before.items():
        if name not in ("meta.migrations", "meta.audit", "raw.rows"):
            assert rows_in(old, name, columns[name]) == rows, f"{name} changed"
    assert query(old, RAW_CELLS) == query(sample_db, RAW_CELLS)
    # The old rows are all there, unchanged, and now say who (as far as anyone knows) and which client.
    kept = query(
        old,
        'SELECT audit_id, "at", action, kind, key, before, after, actor, client_id FROM meta.audit '
        "WHERE action <> 'import' ORDER BY audit_id",
    )
    assert [r[:7] for r in kept] == old_audit
    assert {r[7] for r in kept} == {"therapist (dashboard; recorded before Knotwork kept who)"}
    assert [r[8] for r in kept] == ["C0002", "C0004", "C0005"]
    # Imports from before are copied in; new rows continue the old numbering.
    n_imports = query(old, "SELECT count(*) FROM raw.imports")[0][0]
    assert query(old, "SELECT count(*) FROM meta.audit WHERE action = 'import'")[0][0] == n_imports
    assert query(old, "SELECT min(audit_id) FROM meta.audit WHERE action = 'import'")[0][0] > max(
        r[0] for r in old_audit
    )
    assert query(old, "SELECT link_id, client_id, token_prefix FROM meta.share_links") == [(1, "C0003", "Abc12xYz")]


@pytest.mark.parametrize("upto", ["0001_layers.sql", "0003_audit.sql"])
def test_the_dashboard_on_a_not_yet_migrated_database_says_run_init(sample_db, tmp_path, monkeypatch, upto):
    old = old_database(tmp_path / "old.duckdb", upto, sample_db)
    before = every_table(old)
    for page in (None, "app_pages/records.py"):
        at = app_test(old, monkeypatch)
        if page:
            at.switch_page(page)
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        text = page_text(at)
        assert "older version of Knotwork" in text and f"knotwork init --db {old}" in text, text[:500]
    assert every_table(old) == before  # the dashboard only reads: the file is as the old version left it


def test_migrations_run_once_in_order(tmp_path):
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    try:
        names = [name for name, _ in available_migrations()]
        assert names == sorted(names) and names[:4] == [
            "0001_layers.sql",
            "0002_share_links.sql",
            "0003_audit.sql",
            "0004_audit_actor.sql",
        ]
        assert migrate(con, upto="0002_share_links.sql") == names[:2]
        assert pending_migrations(con) == names[2:]
        assert migrate(con) == names[2:]
        assert migrate(con) == []
    finally:
        con.close()
