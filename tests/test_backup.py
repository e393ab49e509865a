"""Backup to Parquet and restore into a new file give back every row."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipelines.backup import backup, restore
from tests.test_ingest import snapshot


def test_backup_then_restore_round_trips_every_table(sample_db_copy, tmp_path):
    folder = backup(sample_db_copy, tmp_path / "backup")
    assert (folder / "schema.sql").exists()
    assert list(folder.glob("*.parquet"))
    restored = restore(folder, tmp_path / "restored.duckdb")
    assert snapshot(restored) == snapshot(sample_db_copy)


def test_restore_refuses_to_overwrite_and_backup_refuses_a_full_folder(sample_db_copy, tmp_path):
    folder = backup(sample_db_copy, tmp_path / "b")
    with pytest.raises(FileExistsError):
        restore(folder, sample_db_copy)
    with pytest.raises(FileExistsError):
        backup(sample_db_copy, folder)


def test_cli_backup_and_restore(sample_db_copy, tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "knotwork", *a], capture_output=True, text=True)
    assert run("backup", str(tmp_path / "bk"), "--db", str(sample_db_copy)).returncode == 0
    assert run("restore", str(tmp_path / "bk"), "--db", str(tmp_path / "new.duckdb")).returncode == 0
    assert snapshot(tmp_path / "new.duckdb") == snapshot(sample_db_copy)
    bad = run("restore", str(tmp_path / "nothing"), "--db", str(tmp_path / "x.duckdb"))
    assert bad.returncode == 1 and "not a Knotwork backup" in bad.stderr
