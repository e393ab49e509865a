"""Portable backup and restore (Parquet), readable by other tools and DuckDB versions.

A raw copy of the database file is not portable (files written by DuckDB 2.x cannot
be read by 1.x) and misses anything still in the WAL; an
``EXPORT DATABASE`` is both portable and complete.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.warehouse import audit
from pipelines.warehouse.db import WRITE_CONFIG, _connect_with_retry, resolve_db_path, write_connection
from pipelines.warehouse.migrate import migrate

BACKUPS_FOLDER = "backups"  # beside the database: <db folder>/backups/<db name>-<YYYYMMDD-HHMMSS>/


def backup(db, folder: str | Path, actor: str | None = None) -> Path:
    """Export the whole database to ``folder`` (new or empty), with its own audit row.

    The row is written in the same transaction as the export, so the backup contains the record
    of its own making; if the export fails, neither exists."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty; choose a new folder for the backup")
    folder.mkdir(parents=True, exist_ok=True)
    db_path = resolve_db_path(db)
    taken = None
    with write_connection(db) as con:  # read-write: EXPORT checkpoints first, so nothing in the WAL is missed
        con.execute("CHECKPOINT")
        con.execute("BEGIN TRANSACTION")
        try:
            taken, _ = audit.flush_pending(con, db_path)
            audit.record(con, "backup", "database", str(folder.resolve()), actor=actor,
                         detail=f"{db_path.name} backed up to {folder.resolve()}")
            con.execute(f"EXPORT DATABASE '{_sql_path(folder)}' (FORMAT parquet)")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            audit.give_back_pending(db_path, taken)
            raise
    audit.done_pending(taken)
    return folder


def restore(folder: str | Path, db, actor: str | None = None) -> Path:
    """Import a backup into a new database file, bring it to the current schema (a backup made
    by an older Knotwork is migrated like any older database) and audit the restore in it."""
    folder = Path(folder)
    if not (folder / "schema.sql").exists() or not (folder / "load.sql").exists():
        raise FileNotFoundError(f"{folder} is not a Knotwork backup (schema.sql and load.sql are missing)")
    target = resolve_db_path(db)
    if target.exists():
        raise FileExistsError(f"{target} already exists; restore into a new database path (--db) and switch to it")
    target.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_with_retry(target, False, WRITE_CONFIG, 30.0)
    try:
        con.execute(f"IMPORT DATABASE '{_sql_path(folder)}'")
        migrate(con)
        con.execute("BEGIN TRANSACTION")
        audit.record(con, "restore", "database", str(folder.resolve()), actor=actor,
                     detail=f"restored from {folder.resolve()} into {target.name}")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return target


# ---------------------------------------------------------------------------
# Backups folder (the Records page's "Back up now" and its list)
# ---------------------------------------------------------------------------

def backups_root(db=None) -> Path:
    return resolve_db_path(db).parent / BACKUPS_FOLDER


def new_backup_folder(db=None, now: dt.datetime | None = None) -> Path:
    """``<db folder>/backups/<db name>-<YYYYMMDD-HHMMSS>`` (a suffix if that second is taken)."""
    path = resolve_db_path(db)
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = backups_root(path) / f"{path.stem}-{stamp}"
    n = 2
    while folder.exists():
        folder = backups_root(path) / f"{path.stem}-{stamp}-{n}"
        n += 1
    return folder


@dataclass(frozen=True)
class BackupInfo:
    folder: Path
    made: dt.datetime
    files: int
    size_bytes: int


def list_backups(db=None) -> list[BackupInfo]:
    """This database's backups in the default folder, newest first (other databases' are skipped)."""
    path = resolve_db_path(db)
    root = backups_root(path)
    if not root.is_dir():
        return []
    out = []
    for folder in root.iterdir():
        if not folder.is_dir() or not folder.name.startswith(f"{path.stem}-") or not (folder / "load.sql").exists():
            continue
        files = [f for f in folder.iterdir() if f.is_file()]
        out.append(BackupInfo(folder, dt.datetime.fromtimestamp((folder / "load.sql").stat().st_mtime), len(files),
                              sum(f.stat().st_size for f in files)))
    return sorted(out, key=lambda b: b.made, reverse=True)


def zip_backup(folder: str | Path) -> bytes:
    """The backup folder as one zip (for a download); unzip it and ``knotwork restore`` the folder."""
    folder = Path(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            if f.is_file():
                zf.write(f, arcname=f"{folder.name}/{f.name}")
    return buf.getvalue()


def _sql_path(path: Path) -> str:
    # EXPORT/IMPORT take a literal, not a parameter; escape the quote character.
    return str(path.resolve()).replace("'", "''")
