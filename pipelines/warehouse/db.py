"""Where the database lives and how every process opens it.

DuckDB allows one read-write process *or* many read-only processes, never
both.  Knotwork's pattern:

* **Readers** (dashboard, reports, ``knotwork techniques``) open a short-lived
  read-only connection per query batch and close it at once (~20 ms).  They never
  hold a connection between reruns, so they never block an import for longer
  than one query.
* **Writers** (``knotwork ingest``, forms in the app) open read-write only for
  the duration of one file's transaction, then ``CHECKPOINT`` and close.
* Both sides retry a lock conflict with a bounded back-off; a reader that
  still cannot get in raises :class:`DatabaseBusy`, which the dashboard shows
  as "data is being updated" instead of a traceback.

Waiting, in numbers (the bounds are named constants below, each with its reason):
a page read waits :data:`READ_WAIT_S`, a form's save :data:`FORM_WAIT_S`, an import
:data:`IMPORT_WAIT_S` (inside :func:`import_waits`, which the CLI and the Import page use and
which also names the import for the "being updated" message).

Inside one process (the Streamlit server: the Import page and forms write while other
sessions' threads read) DuckDB refuses a read-only connection next to a read-write one
("different configuration",).  So in-process writers take turns on a
per-file lock, and while one of them holds the file, readers of this process *join* its
database instance with the writer's configuration inside a ``READ ONLY`` transaction: they
keep reading the last committed data (snapshot isolation) instead of waiting for the import.
While a writer of this process is still waiting for the file, new readers stand back so a
stream of short reads cannot starve it.

A writer leaves a small note beside the file (``<db>.writing``: pid, what, since when, and the
data version before it started) while it holds the lock.  Readers use it to name the import
in the "being updated" message, and :func:`data_version` returns the version it recorded, so
pages cached before the import keep showing the last committed data while it runs.  A note
left by a killed writer is ignored (pid no longer alive, or alive but started at another time).
The reads of one page run share one wait budget (:func:`start_read_budget`).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

ENV_VAR = "KNOTWORK_DB"

# Locked down: no file reads beyond the database, no extension downloads.
# (; verified to still open and query the main file.)
HARDENED_READ_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
# Writers need external access for nothing either: files are read in Python.
WRITE_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


WRITER_MEMORY_LIMIT = os.environ.get("KNOTWORK_WRITER_MEMORY", "4GB")


# --- How long each kind of access waits for the file (seconds) ----------------------------------
# A page read: long enough to ride out a form's save or a small import (well under a second, a
# clinic-size file ~10 s is the exception), short enough that the page says "updating" soon
# instead of looking frozen; the dashboard then retries by itself (dashboard/streamlit_app.py).
READ_WAIT_S = 5.0
# A form's Save / a client's Send: someone is looking at a spinner.  After this the form says
# "not saved yet, try again" and keeps everything typed.
FORM_WAIT_S = 15.0
# An import waiting for another import: a network-size practice (29 M rows) holds the lock for
# ~6.6 minutes (benchmarks/RESULTS.md), so wait more than twice that before giving up.
IMPORT_WAIT_S = 15 * 60.0
# Back-off between attempts: short at first (a page read takes ~20 ms), capped so a writer
# still catches the gaps between many readers' short connections.
_FIRST_DELAY_S = 0.02
_MAX_DELAY_S = 0.25


class DatabaseBusy(RuntimeError):
    """Another writer holds the database for longer than we are willing to wait.

    ``activity`` says who, when known ("an import of visits.csv, started 14:03")."""

    def __init__(self, message: str, activity: str | None = None):
        super().__init__(message)
        self.activity = activity


@dataclass(frozen=True)
class _WaitPolicy:
    timeout_s: float | None  # None: FORM_WAIT_S, read when the write starts
    notice: Callable[[str], None] | None
    label: str


# Context-local, so the CLI's or one Streamlit session's import policy never leaks into another
# thread (a new thread starts with the default: a form's bound).
_DEFAULT_POLICY = _WaitPolicy(None, None, "a change made in the app")
_policy: contextvars.ContextVar[_WaitPolicy] = contextvars.ContextVar("knotwork_write_wait", default=_DEFAULT_POLICY)  # noqa: B039 (never mutated)


# A page makes many short reads; during an import of several files each one could wait its
# whole READ_WAIT_S between two files' transactions and the page would hang for a minute.  A
# budget shared by the reads of one page run bounds the run's total waiting instead; once spent,
# the next conflict is DatabaseBusy at once ("being updated", and the page retries by itself).
_read_budget: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("knotwork_read_budget", default=None)


def start_read_budget(seconds: float | None = None) -> None:
    """Reads from here on (in this thread/context) share ``seconds`` (default READ_WAIT_S) of waiting."""
    _read_budget.set([READ_WAIT_S if seconds is None else seconds])


@contextlib.contextmanager
def import_waits(
    label: str, notice: Callable[[str], None] | None = None, timeout_s: float | None = None
) -> Iterator[None]:
    """Writes inside this block are an import: they wait up to ``timeout_s`` (default
    :data:`IMPORT_WAIT_S`) for another writer, call ``notice(message)`` once when they have to
    wait, and tell readers who is writing."""
    token = _policy.set(_WaitPolicy(IMPORT_WAIT_S if timeout_s is None else timeout_s, notice, label))
    try:
        yield
    finally:
        _policy.reset(token)


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
    """Another connection has the file: another process's lock, or in this process an instance
    with another configuration, or one still closing ("Unique file handle conflict … already
    attached", seen when a writer opens as the last reader of this process closes)."""
    text = str(exc).lower()
    return (
        ("lock" in text and ("conflict" in text or "could not set" in text))
        or "different configuration" in text
        or "file handle conflict" in text
    )


# --- In-process writers (the Streamlit server) ---------------------------------------------------
_state = threading.Lock()
_turns: dict[str, threading.Lock] = {}  # one writer of this process per file at a time
_active: dict[str, int] = {}  # writers of this process holding the file open
_waiting: dict[str, int] = {}  # writers of this process waiting for it


def _key(path: Path) -> str:
    return str(path.resolve())


def _bump(table: dict[str, int], key: str, by: int) -> None:
    with _state:
        table[key] = table.get(key, 0) + by
        if table[key] <= 0:
            del table[key]


def _activity_path(path: Path) -> Path:
    return Path(str(path) + ".writing")


def _process_started(pid: int) -> str:
    """When process ``pid`` started (Linux /proc; "" elsewhere): with the pid, it tells a live
    writer from an unrelated process that later got the pid of a writer killed mid-import."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _note_activity(path: Path, label: str) -> None:
    """Who holds the write lock, and the data version before it started (best effort, never fatal).

    Readers use it for the "being updated" message and as their cache key while the writer
    works (:func:`data_version`)."""
    pid = os.getpid()
    with contextlib.suppress(OSError):
        _activity_path(path).write_text(
            json.dumps(
                {
                    "pid": pid,
                    "pid_started": _process_started(pid),
                    "label": label,
                    "version": _file_version(path),
                    "started": dt.datetime.now().isoformat(timespec="seconds"),
                }
            )
        )


def _live_note(path: Path) -> dict | None:
    try:
        info = json.loads(_activity_path(path).read_text())
        pid = int(info["pid"])
        os.kill(pid, 0)  # a writer killed mid-import leaves its note behind: ignore it
        if _process_started(pid) != info.get("pid_started", ""):
            return None  # ...even when its pid has been given to another process since
        return info
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current_activity(db: str | os.PathLike | None = None) -> str | None:
    """ "an import of visits.csv, started 14:03" while a live writer holds the file, else None."""
    info = _live_note(resolve_db_path(db))
    try:
        return f"{info['label']}, started {dt.datetime.fromisoformat(info['started']):%H:%M}" if info else None
    except (KeyError, ValueError, TypeError):
        return None


def _connect_with_retry(
    path: Path,
    read_only: bool,
    config: dict,
    timeout_s: float,
    on_wait: Callable[[], None] | None = None,
    join_writer: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Connect, retrying lock conflicts with back-off until ``timeout_s``, then DatabaseBusy.

    ``join_writer`` (readers only): while a writer of this process holds the file, connect to its
    instance instead (see the module docstring); while one waits for it, stand back."""
    deadline = time.monotonic() + timeout_s
    delay = _FIRST_DELAY_S
    key = _key(path)
    while True:
        try:
            if join_writer and _active.get(key):
                return duckdb.connect(str(path), read_only=False, config=dict(WRITE_CONFIG))
            if join_writer and _waiting.get(key):
                raise _StandBack()
            return duckdb.connect(str(path), read_only=read_only, config=dict(config))
        except (duckdb.Error, _StandBack) as exc:
            if not (isinstance(exc, _StandBack) or _is_lock_error(exc)):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"the database {path} is busy: another import or change is writing to it; try again shortly",
                    current_activity(path),
                ) from None
            if on_wait is not None:
                on_wait()
                on_wait = None
            time.sleep(min(delay * (1 + random.random()), max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, _MAX_DELAY_S)


class _StandBack(Exception):
    """A writer of this process is waiting for the file: readers let it in first."""


@contextlib.contextmanager
def read_connection(
    db: str | os.PathLike | None = None, timeout_s: float = READ_WAIT_S
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived, hardened, read-only connection.  Use it for one batch of queries.

    While a writer of this process holds the file it is a connection to the writer's instance in
    a READ ONLY transaction (writes refused, last committed data visible)."""
    path = resolve_db_path(db)
    if not path.exists():
        raise FileNotFoundError(f"no Knotwork database at {path}; create one with `knotwork init` or `knotwork demo`")
    budget = _read_budget.get()
    started = time.monotonic()
    try:
        con = _connect_with_retry(
            path,
            True,
            HARDENED_READ_CONFIG,
            timeout_s if budget is None else min(timeout_s, budget[0]),
            join_writer=True,
        )
    finally:
        if budget is not None:  # only the waiting counts, not an uncontended open (~20 ms)
            budget[0] = max(budget[0] - max(time.monotonic() - started - 0.1, 0.0), 0.0)
    try:
        if not _is_read_only(con):
            con.execute("BEGIN TRANSACTION READ ONLY")
        yield con
    finally:
        con.close()  # a joined reader's transaction is rolled back: it never wrote anything


def _is_read_only(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        return bool(con.execute("SELECT current_setting('access_mode') = 'read_only'").fetchone()[0])
    except duckdb.Error:
        return False


@contextlib.contextmanager
def write_connection(
    db: str | os.PathLike | None = None, timeout_s: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection, migrated to the current schema; checkpointed and closed on exit.

    Waits :data:`FORM_WAIT_S` for the file (or, inside :func:`import_waits`, the import's bound),
    then raises :class:`DatabaseBusy`; nothing has been written then."""
    from pipelines.warehouse.migrate import migrate  # local import: migrate uses this module

    policy = _policy.get()
    timeout = timeout_s if timeout_s is not None else policy.timeout_s if policy.timeout_s is not None else FORM_WAIT_S
    deadline = time.monotonic() + timeout
    path = resolve_db_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = _key(path)
    notice = policy.notice
    waited = False

    def on_wait() -> None:
        nonlocal waited
        if not waited and notice is not None:
            who = current_activity(path)
            notice(
                f"waiting for another import to finish ({who})…"
                if who and "import" in who
                else "waiting for another import or change to finish…"
            )
        waited = True

    with _state:
        turn = _turns.setdefault(key, threading.Lock())
    _bump(_waiting, key, 1)
    try:
        if not turn.acquire(blocking=False):
            on_wait()
            if not turn.acquire(timeout=max(deadline - time.monotonic(), 0)):
                raise DatabaseBusy(
                    f"the database {path} is busy: another import or change is writing to it; try again shortly",
                    current_activity(path),
                )
        try:
            con = _connect_with_retry(path, False, WRITE_CONFIG, max(deadline - time.monotonic(), 0), on_wait)
        except BaseException:
            turn.release()
            raise
    finally:
        _bump(_waiting, key, -1)
    _bump(_active, key, 1)
    try:
        _note_activity(path, policy.label)
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
        _bump(_active, key, -1)
        with contextlib.suppress(OSError):
            _activity_path(path).unlink()
        con.close()
        turn.release()


def data_version(db: str | os.PathLike | None = None) -> str:
    """A cheap token that changes whenever the committed data changes (cache key for readers).

    File mtime and size of the database and its WAL, so a change that only reached the WAL counts,
    and so does a checkpoint.  While a writer holds the file, the version from before it started
    (its note): the data readers may see is still that one (they read the last committed state),
    and pages cached at it keep showing while the import runs instead of waiting for the lock."""
    path = resolve_db_path(db)
    note = _live_note(path)
    if note and note.get("version"):
        return str(note["version"])
    return _file_version(path)


def _file_version(path: Path) -> str:
    parts = []
    for p in (path, Path(str(path) + ".wal")):
        try:
            st = p.stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        except FileNotFoundError:
            parts.append("-")
    return "|".join(parts)
