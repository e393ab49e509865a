"""Portable backup and restore (Parquet), readable by other tools and DuckDB versions.

A raw copy of the database file is not portable (files written by DuckDB 2.x cannot
be read by 1.x, engineering.md §1.4) and misses anything still in the WAL; an
``EXPORT DATABASE`` is both portable and complete.
"""

from __future__ import annotations

from pathlib import Path



from pipelines.db import WRITE_CONFIG, _connect_with_retry, resolve_db_path, write_connection


def backup(db, folder: str | Path) -> Path:
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty; choose a new folder for the backup")
    folder.mkdir(parents=True, exist_ok=True)
    with write_connection(db) as con:  # read-write: EXPORT checkpoints first, so nothing in the WAL is missed
        con.execute("CHECKPOINT")
        con.execute(f"EXPORT DATABASE '{_sql_path(folder)}' (FORMAT parquet)")
    return folder


def restore(folder: str | Path, db) -> Path:
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
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return target


def _sql_path(path: Path) -> str:
    # EXPORT/IMPORT take a literal, not a parameter; escape the quote character.
    return str(path.resolve()).replace("'", "''")



