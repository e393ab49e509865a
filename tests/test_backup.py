"""Backup to Parquet and restore into a new file give back every row of every table.

The comparison covers every schema (raw, staging, core, marts, meta — the audit log and share
links included), not only what the pages show: a restored practice must be the same record.
The only allowed difference is the restore's own row in the restored audit log.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from io import BytesIO

import duckdb
import pytest

from pipelines.warehouse.backup import backup, list_backups, new_backup_folder, restore, zip_backup
from pipelines.sharing.links import create_link
from tests.test_ingest import snapshot


def every_table(db, skip_restore_rows: bool = False) -> dict[str, list[str]]:
    """Every row of every table in every schema, sorted, as text.  ``skip_restore_rows`` leaves
    out the audit rows a restore adds (the one expected difference)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                             "WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()
        out = {}
        for (name,) in tables:
            where = " WHERE action <> 'restore'" if skip_restore_rows and name == "meta.audit" else ""
            out[name] = sorted(map(repr, con.execute(f"SELECT * FROM {name}{where}").fetchall()))
        return out
    finally:
        con.close()


def audit_rows(db, action: str | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute('SELECT action, kind, key, actor, detail FROM meta.audit WHERE ? IS NULL OR action = ? '
                           "ORDER BY audit_id", [action, action]).fetchall()
    finally:
        con.close()


def test_backup_then_restore_round_trips_every_table(sample_db_copy, tmp_path):
    create_link("C0003", db=sample_db_copy)  # links and the pepper are part of the record too
    folder = backup(sample_db_copy, tmp_path / "backup", actor="anna (command line)")
    assert (folder / "schema.sql").exists()
    assert list(folder.glob("*.parquet"))
    restored = restore(folder, tmp_path / "restored.duckdb", actor="anna (command line)")
    before, after = every_table(sample_db_copy), every_table(restored, skip_restore_rows=True)
    assert set(after) == set(before)
    for name in before:
        assert after[name] == before[name], name
    assert snapshot(restored) == snapshot(sample_db_copy)
    # The backup holds the record of its own making; the restored file adds exactly its restore.
    assert [r[:2] for r in audit_rows(sample_db_copy, "backup")] == [("backup", "database")]
    assert audit_rows(restored, "restore") == [
        ("restore", "database", str(folder.resolve()), "anna (command line)",
         f"restored from {folder.resolve()} into restored.duckdb")]


def test_restore_refuses_to_overwrite_and_backup_refuses_a_full_folder(sample_db_copy, tmp_path):
    folder = backup(sample_db_copy, tmp_path / "b")
    with pytest.raises(FileExistsError):
        restore(folder, sample_db_copy)
    with pytest.raises(FileExistsError):
        backup(sample_db_copy, folder)
    assert len(audit_rows(sample_db_copy, "backup")) == 1  # the refused backup left no row


def test_cli_backup_and_restore(sample_db_copy, tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "knotwork", *a], capture_output=True, text=True)
    assert run("backup", str(tmp_path / "bk"), "--db", str(sample_db_copy)).returncode == 0
    assert run("restore", str(tmp_path / "bk"), "--db", str(tmp_path / "new.duckdb")).returncode == 0
    assert snapshot(tmp_path / "new.duckdb") == snapshot(sample_db_copy)
    assert every_table(tmp_path / "new.duckdb", skip_restore_rows=True) == every_table(sample_db_copy)
    bad = run("restore", str(tmp_path / "nothing"), "--db", str(tmp_path / "x.duckdb"))
    assert bad.returncode == 1 and "not a Knotwork backup" in bad.stderr


def test_backups_folder_beside_the_database_listed_newest_first_and_zipped_restorable(sample_db_copy, tmp_path):
    first = backup(sample_db_copy, new_backup_folder(sample_db_copy))
    second = backup(sample_db_copy, new_backup_folder(sample_db_copy))  # same second: gets a suffix
    assert first.parent == sample_db_copy.parent / "backups" and first != second
    assert first.name.startswith(f"{sample_db_copy.stem}-")
    listed = list_backups(sample_db_copy)
    assert [b.folder for b in listed] == [second, first]
    assert all(b.files >= 3 and b.size_bytes > 0 for b in listed)
    # Another database's backups in the same folder are not offered for this one.
    assert list_backups(tmp_path / "other.duckdb") == []

    with zipfile.ZipFile(BytesIO(zip_backup(second))) as zf:
        zf.extractall(tmp_path / "unzipped")
    restored = restore(tmp_path / "unzipped" / second.name, tmp_path / "from-zip.duckdb")
    assert every_table(restored, skip_restore_rows=True) == every_table(sample_db_copy)


def test_a_backup_made_by_an_older_version_restores_into_the_current_schema(sample_db, tmp_path):
    from tests.test_migrate import old_database

    old = old_database(tmp_path / "v3.duckdb", "0003_audit.sql", sample_db)
    con = duckdb.connect(str(old))
    try:  # an older Knotwork's backup: EXPORT without the migrations this version added
        con.execute(f"EXPORT DATABASE '{tmp_path / 'old-backup'}' (FORMAT parquet)")
        n_visits = con.execute("SELECT count(*) FROM core.visits").fetchone()[0]
    finally:
        con.close()
    restored = restore(tmp_path / "old-backup", tmp_path / "restored.duckdb")
    con = duckdb.connect(str(restored), read_only=True)
    try:
        assert "actor" in [r[0] for r in con.execute("DESCRIBE meta.audit").fetchall()]
        assert con.execute("SELECT count(*) FROM core.visits").fetchone()[0] == n_visits > 0
        assert con.execute("SELECT count(*) FROM meta.audit WHERE action = 'restore'").fetchone()[0] == 1
    finally:
        con.close()
