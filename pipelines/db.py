"""Where the database lives and how every process opens it.

DuckDB allows one read-write process *or* many read-only processes, never
both (reference/engineering.md §1).  Knotwork's pattern:

* **Readers** (dashboard, reports, ``knotwork techniques``) open a short-lived
  read-only connection per query batch and close it at once (~20 ms).  They never
  hold a connection between reruns, so they never block an import for longer
  than one query.
* **Writers** (``knotwork ingest``, forms in the app) open read-write only for
  the duration of one file's transaction, then ``CHECKPOINT`` and close.
* Both sides retry a lock conflict with a bounded back-off; a reader that
  still cannot get in raises :class:`DatabaseBusy`, which the dashboard shows
  as "data is being updated" instead of a traceback.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from pathlib import Path
from typing import Iterator

import duckdb

ENV_VAR = "KNOTWORK_DB"

# Locked down: no file reads beyond the database, no extension downloads.
# (engineering.md §1.5; verified to still open and query the main file.)
HARDENED_READ_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
# Writers need external access for nothing either: files are read in Python.
WRITE_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


WRITER_MEMORY_LIMIT = os.environ.get("KNOTWORK_WRITER_MEMORY", "4GB")


class DatabaseBusy(RuntimeError):
    """Another process holds the write lock for longer than we are willing to wait."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "knotwork"


def default_db_path() -> Path:
    """``$KNOTWORK_DB`` if set, else ``~/.local/share/knotwork/knotwork.duckdb``.

    Never inside the installed package.
    """
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else default_data_dir() / "knotwork.duckdb"


def resolve_db_path(db: str | os.PathLike | None) -> Path:
    return Path(db).expanduser() if db else default_db_path()


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return ("lock" in text and ("conflict" in text or "could not set" in text)) or "different configuration" in text


def _connect_with_retry(path: Path, read_only: bool, config: dict, timeout_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=dict(config))
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                if _is_lock_error(exc):
                    raise DatabaseBusy(f"the database {path} is in use by another process; try again shortly") from exc
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)


@contextlib.contextmanager
def read_connection(db: str | os.PathLike | None = None, timeout_s: float = 5.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived, hardened, read-only connection.  Use it for one batch of queries."""
    path = resolve_db_path(db)
    if not path.exists():
        raise FileNotFoundError(f"no Knotwork database at {path}; create one with `knotwork init` or `knotwork demo`")
    con = _connect_with_retry(path, True, HARDENED_READ_CONFIG, timeout_s)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def write_connection(db: str | os.PathLike | None = None, timeout_s: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection, migrated to the current schema; checkpointed and closed on exit."""
    from pipelines.migrate import migrate  # local import: migrate uses this module

    path = resolve_db_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_with_retry(path, False, WRITE_CONFIG, timeout_s)
    try:
        with contextlib.suppress(duckdb.Error):  # in Jupyter this setting wants ipywidgets; harmless to skip
            con.execute("SET enable_progress_bar = false")  # it would print into the CLI's own output
        # DuckDB's default (80 % of RAM) let a 29-million-row import peak at 12.9 GB; the
        # importer's temp tables spill to disk instead (benchmarks/RESULTS.md).
        con.execute("SET memory_limit = ?", [WRITER_MEMORY_LIMIT])
        migrate(con)
        yield con
        with contextlib.suppress(duckdb.Error):
            con.execute("CHECKPOINT")
    finally:
        con.close()


def data_version(db: str | os.PathLike | None = None) -> str:
    """A cheap token that changes whenever the database file changes (cache key for readers)."""
    path = resolve_db_path(db)
    parts = []
    for p in (path, Path(str(path) + ".wal")):
        try:
            st = p.stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        except FileNotFoundError:
            parts.append("-")
    return "|".join(parts)
