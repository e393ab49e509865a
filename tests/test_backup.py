"""Backup to Parquet and restore into a new file give back every row of every table.

The comparison covers every schema (raw, staging, core, marts, meta — the audit log and share
links included), not only what the pages show: a restored practice must be the same record.
The allowed differences: the restore's own row in the restored audit log, and the share links,
which a restore ends (with the link secret, which it drops) so no restored link works.

A backup is data, never code: a restore checks the signed manifest first and never runs the
backup's ``schema.sql``/``load.sql``; a changed file is refused and nothing from it is run.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from io import BytesIO

import duckdb
import pytest

from pipelines.sharing.links import create_link, resolve_token
from pipelines.warehouse.backup import (
    BackupRefused,
    backup,
    key_path,
    list_backups,
    new_backup_folder,
    restore,
    zip_backup,
)
from tests.test_ingest import snapshot

LINK_TABLES = ("meta.secrets", "meta.share_links")  # what a restore changes on purpose


def every_table(db, skip_restore_rows: bool = False) -> dict[str, list[str]]:
    """Every row of every table in every schema, sorted, as text.  ``skip_restore_rows`` leaves
    out what a restore changes on purpose: its own audit rows and the link tables."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
        out = {}
        for (name,) in tables:
            if skip_restore_rows and name in LINK_TABLES:
                continue
            where = " WHERE action <> 'restore'" if skip_restore_rows and name == "meta.audit" else ""
            out[name] = sorted(map(repr, con.execute(f"SELECT * FROM {name}{where}").fetchall()))
        return out
    finally:
        con.close()


def audit_rows(db, action: str | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT action, kind, key, actor, detail FROM meta.audit WHERE ? IS NULL OR action = ? ORDER BY audit_id",
            [action, action],
        ).fetchall()
    finally:
        con.close()


def test_backup_then_restore_round_trips_every_table(sample_db_copy, tmp_path):
    link = create_link("C0003", db=sample_db_copy)
    folder = backup(sample_db_copy, tmp_path / "backup", actor="anna (command line)")
    assert (folder / "schema.sql").exists() and (folder / "manifest.json").exists()
    assert list(folder.glob("*.parquet"))
    restored = restore(folder, tmp_path / "restored.duckdb", actor="anna (command line)")
    before, after = every_table(sample_db_copy, skip_restore_rows=True), every_table(restored, skip_restore_rows=True)
    assert set(after) == set(before)
    for name in before:
        assert after[name] == before[name], name
    assert snapshot(restored) == snapshot(sample_db_copy)
    # The backup holds the record of its own making; the restored file adds exactly its restore.
    assert [r[:2] for r in audit_rows(sample_db_copy, "backup")] == [("backup", "database")]
    assert audit_rows(restored, "restore") == [
        (
            "restore",
            "database",
            str(folder.resolve()),
            "anna (command line)",
            f"restored from {folder.resolve()} into restored.duckdb; 1 private links ended",
        )
    ]
    # The link still works on the original; in the restored file it is ended and its secret is gone.
    assert resolve_token(link.token, sample_db_copy) == "C0003"
    assert resolve_token(link.token, restored) is None
    con = duckdb.connect(str(restored), read_only=True)
    try:
        assert con.execute("SELECT count(*), count(*) FILTER (WHERE revoked) FROM meta.share_links").fetchone() == (
            1,
            1,
        )
        assert con.execute("SELECT count(*) FROM meta.secrets").fetchone()[0] == 0
    finally:
        con.close()
    new = create_link("C0003", db=restored)  # a new link after the restore works (a new secret)
    assert resolve_token(new.token, restored) == "C0003"


def test_restore_refuses_to_overwrite_and_backup_refuses_a_full_folder(sample_db_copy, tmp_path):
    folder = backup(sample_db_copy, tmp_path / "b")
    with pytest.raises(FileExistsError):
        restore(folder, sample_db_copy)
    with pytest.raises(FileExistsError):
        backup(sample_db_copy, folder)
    assert len(audit_rows(sample_db_copy, "backup")) == 1  # the refused backup left no row


@pytest.mark.slow
def test_cli_backup_and_restore(sample_db_copy, tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "knotwork", *a], capture_output=True, text=True)
    assert run("backup", str(tmp_path / "bk"), "--db", str(sample_db_copy)).returncode == 0
    assert run("restore", str(tmp_path / "bk"), "--db", str(tmp_path / "new.duckdb")).returncode == 0
    assert snapshot(tmp_path / "new.duckdb") == snapshot(sample_db_copy)
    assert every_table(tmp_path / "new.duckdb", skip_restore_rows=True) == every_table(
        sample_db_copy, skip_restore_rows=True
    )
    bad = run("restore", str(tmp_path / "nothing"), "--db", str(tmp_path / "x.duckdb"))
    assert bad.returncode == 1 and "not a Knotwork backup" in bad.stderr
    # Elsewhere, the key is named with --key; a wrong key is one line and exit 1.
    other = tmp_path / "elsewhere"
    assert (
        run(
            "restore", str(tmp_path / "bk"), "--db", str(other / "a.duckdb"), "--key", str(key_path(sample_db_copy))
        ).returncode
        == 0
    )
    (tmp_path / "wrong.key").write_text("ab" * 32)
    wrong = run("restore", str(tmp_path / "bk"), "--db", str(other / "b.duckdb"), "--key", str(tmp_path / "wrong.key"))
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1 and "backup key" in wrong.stderr
    assert not (other / "b.duckdb").exists()


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
    assert every_table(restored, skip_restore_rows=True) == every_table(sample_db_copy, skip_restore_rows=True)


def test_a_backup_made_by_an_older_version_restores_into_the_current_schema(sample_db, tmp_path):
    from tests.test_migrate import old_database

    old = old_database(tmp_path / "v3.duckdb", "0003_audit.sql", sample_db)
    con = duckdb.connect(str(old))
    try:  # an older Knotwork's backup: EXPORT without the migrations this version added
        con.execute(f"EXPORT DATABASE '{tmp_path / 'old-backup'}' (FORMAT parquet)")
        n_visits = con.execute("SELECT count(*) FROM core.visits").fetchone()[0]
    finally:
        con.close()
    with pytest.raises(BackupRefused, match="no signed manifest"):  # unverifiable: only when asked
        restore(tmp_path / "old-backup", tmp_path / "restored.duckdb")
    restored = restore(tmp_path / "old-backup", tmp_path / "restored.duckdb", unsigned=True)
    con = duckdb.connect(str(restored), read_only=True)
    try:
        assert "actor" in [r[0] for r in con.execute("DESCRIBE meta.audit").fetchall()]
        assert con.execute("SELECT count(*) FROM core.visits").fetchone()[0] == n_visits > 0
        assert con.execute("SELECT count(*) FROM meta.audit WHERE action = 'restore'").fetchone()[0] == 1
    finally:
        con.close()


# --- a backup is data, never code ----------------------------------------------------------------

PLANTED = "COPY (SELECT 'owned' AS x) TO '{target}' (FORMAT csv);\n"


def test_a_planted_statement_in_schema_sql_is_never_run(sample_db_copy, tmp_path):
    """The reviewed attack: a line added to schema.sql wrote a file during restore."""
    folder = backup(sample_db_copy, tmp_path / "bk")
    target = tmp_path / "written-by-backup.txt"
    with open(folder / "schema.sql", "a", encoding="utf-8") as f:
        f.write(PLANTED.format(target=target))
    with pytest.raises(BackupRefused, match="schema.sql is missing or was changed"):
        restore(folder, tmp_path / "r.duckdb")
    assert not target.exists() and not (tmp_path / "r.duckdb").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r.duckdb")] == []  # no partial file


def test_an_unsigned_restore_runs_nothing_from_the_backup_either(sample_db_copy, tmp_path):
    folder = backup(sample_db_copy, tmp_path / "bk")
    (folder / "manifest.json").unlink()
    (folder / "manifest.sig").unlink()
    target = tmp_path / "written-by-backup.txt"
    for name in ("schema.sql", "load.sql"):
        with open(folder / name, "a", encoding="utf-8") as f:
            f.write(PLANTED.format(target=target))
    restored = restore(folder, tmp_path / "r.duckdb", unsigned=True)
    assert not target.exists()
    assert snapshot(restored) == snapshot(sample_db_copy)


def test_changed_data_or_a_changed_manifest_is_refused(sample_db_copy, tmp_path):
    create_link("C0003", db=sample_db_copy)
    folder = backup(sample_db_copy, tmp_path / "bk")
    # A planted share-link row: the data file rewritten (as an attacker with the backup could).
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * REPLACE (false AS revoked) FROM read_parquet('{folder / 'meta_share_links.parquet'}')"
            f" UNION ALL SELECT * REPLACE (99 AS link_id) FROM read_parquet('{folder / 'meta_share_links.parquet'}'))"
            f" TO '{tmp_path / 'planted.parquet'}' (FORMAT parquet)"
        )
    finally:
        con.close()
    (tmp_path / "planted.parquet").replace(folder / "meta_share_links.parquet")
    with pytest.raises(BackupRefused, match="meta_share_links.parquet is missing or was changed"):
        restore(folder, tmp_path / "r1.duckdb")
    # Re-hashing the file in the manifest does not help without the key.
    import hashlib
    import json

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["meta_share_links.parquet"] = hashlib.sha256(
        (folder / "meta_share_links.parquet").read_bytes()
    ).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    with pytest.raises(BackupRefused, match="does not match this practice's backup key"):
        restore(folder, tmp_path / "r2.duckdb")
    assert not (tmp_path / "r1.duckdb").exists() and not (tmp_path / "r2.duckdb").exists()


def test_the_backup_key_stays_outside_the_backup_and_owner_only(sample_db_copy, tmp_path):
    folder = backup(sample_db_copy, tmp_path / "bk")
    key = key_path(sample_db_copy)
    assert key.parent == sample_db_copy.parent and key.stat().st_mode & 0o777 == 0o600
    secret = key.read_text().strip()
    for f in folder.iterdir():
        assert secret.encode() not in f.read_bytes(), f.name
    with zipfile.ZipFile(BytesIO(zip_backup(folder))) as zf:
        assert all(key.name not in n for n in zf.namelist())
