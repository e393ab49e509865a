"""Files hold health records: owner-only modes, no half-written backups or databases, one clear line
when the disk is full, read-only or forbidden.

The disk cases use a real tiny tmpfs when this machine lets the test mount one (root in a
container usually may); the simulated ENOSPC test runs everywhere.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from knotwork import cli
from pipelines.warehouse import backup as backup_mod
from tests.test_backup import audit_rows


def knotwork(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KNOTWORK_DB"}
    return subprocess.run([sys.executable, "-m", "knotwork", *args], capture_output=True, text=True, env=env)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_folder_backups_and_key_are_owner_only(tmp_path):
    before = os.umask(0o022)  # what a login shell usually has: the command line must not rely on it
    try:
        data = tmp_path / "practice"
        db = data / "k.duckdb"
        assert knotwork("init", "--db", str(db)).returncode == 0
    finally:
        os.umask(before)
    assert mode(data) == 0o700 and mode(db) == 0o600
    r = knotwork("backup", str(data / "backups" / "b1"), "--db", str(db))
    assert r.returncode == 0, r.stderr
    folder = data / "backups" / "b1"
    assert mode(data / "backups") == 0o700 and mode(folder) == 0o700
    assert {mode(f) for f in folder.iterdir()} == {0o600}
    assert mode(data / backup_mod.KEY_FILENAME) == 0o600
    r = knotwork("restore", str(folder), "--db", str(data / "restored.duckdb"))
    assert r.returncode == 0, r.stderr
    assert mode(data / "restored.duckdb") == 0o600


def test_a_failed_backup_leaves_no_folder_and_says_one_line(sample_db_copy, tmp_path, monkeypatch, capsys):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "bk" / "manifest.json"))

    monkeypatch.setattr(backup_mod, "_write_manifest", disk_full)
    code = cli.main(["backup", str(tmp_path / "bk"), "--db", str(sample_db_copy)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: the disk is full (writing ")
    assert not (tmp_path / "bk").exists()
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []
    assert audit_rows(sample_db_copy, "backup") == []  # no record of a backup that does not exist


def test_a_failed_restore_leaves_no_database(sample_db_copy, tmp_path, monkeypatch, capsys):
    folder = backup_mod.backup(sample_db_copy, tmp_path / "bk")

    def disk_full(con):
        raise duckdb.IOException('Could not write file "/x/restored.duckdb": No space left on device')

    monkeypatch.setattr(backup_mod, "_advance_sequences", disk_full)
    code = cli.main(["restore", str(folder), "--db", str(tmp_path / "restored.duckdb")])
    err = capsys.readouterr().err
    assert (
        code == 1
        and err == "error: the disk is full (writing /x/restored.duckdb). Fix that and run the command again.\n"
    )
    assert [p.name for p in tmp_path.iterdir() if "restored" in p.name] == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (real ENOSPC), unmounted afterwards; skipped where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_backup_to_a_full_disk_and_restore_on_a_read_only_disk(sample_db_copy, tiny_disk):
    r = knotwork("backup", str(tiny_disk / "bk"), "--db", str(sample_db_copy))
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("error: the disk is full")
    assert list(tiny_disk.iterdir()) == []  # the partial folder was removed

    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    folder = backup_mod.backup(sample_db_copy, sample_db_copy.parent / "bk")
    r = knotwork(
        "restore", str(folder), "--db", str(tiny_disk / "r.duckdb"), "--key", str(backup_mod.key_path(sample_db_copy))
    )
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("error: the disk is read-only")
