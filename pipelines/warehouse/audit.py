"""The practice's audit log (``meta.audit``): what changed or left the record, when, and who.

Audited actions (``action`` column):

* ``insert`` / ``update`` / ``delete`` of a client, visit or questionnaire from the app's forms
  (``pipelines.entry.forms``), with the record before and after as JSON;
* ``import`` of a file (``pipelines.ingest.importer``), key = the import id, ``after`` = its counts;
* ``export`` of a client's progress report (HTML or PDF; CLI, sharing page, client's link);
* ``share`` / ``revoke`` of a private link: key = the link id.  **A token never goes in the
  log**, not even its visible prefix: the log is shown on screen and downloaded as CSV;
* ``backup`` / ``restore`` of the whole database, key = the folder;
* ``password`` set or removed (never the password or its hash).

**Actor.** Knotwork has one practice password and no personal accounts, so the log can say
*where* a change came from, not which therapist made it:

* ``"<os user> (command line)"`` for ``knotwork …`` commands (:func:`cli_actor`);
* ``"therapist (dashboard)"`` for the therapist pages (:data:`DASHBOARD`);
* ``"client via share link"`` for what a client does through their link (:data:`CLIENT_LINK`);
* ``"<os user> (Python)"`` when the functions are called from Python code (notebooks, scripts).

**Same transaction.** :func:`record` takes the caller's connection, so a change and its audit
row commit or roll back together (forms, imports, links, restore).

**Read-only operations** (a report export, a password change, which lives in the settings file)
have no transaction of their own: :func:`record_soon` opens a short write (bounded wait).  If an
import holds the database longer than that, the export still happens — the therapist asked for
the file and it is made from data already read — and the row is queued in a small file beside the
database (``<db>.audit-pending.jsonl``), to be written with its original time by the next
``record_soon``, backup or visit to the Records page.  The caller is told it was queued (the CLI
prints a note).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.warehouse.db import DatabaseBusy, read_connection, resolve_db_path, write_connection
from pipelines.warehouse.transaction import transaction

if TYPE_CHECKING:  # pandas only for the annotation: the CLI imports this module and starts faster without it
    import pandas as pd

DASHBOARD = "therapist (dashboard)"
CLIENT_LINK = "client via share link"
PENDING_SUFFIX = ".audit-pending.jsonl"
SHORT_WRITE_S = 3.0  # how long an export waits for the database before queueing its audit row

# Words for the Records page.
ACTION_WORDS = {
    "insert": "added",
    "update": "edited",
    "delete": "deleted",
    "import": "imported a file",
    "export": "exported a report",
    "share": "made a private link",
    "revoke": "ended a private link",
    "backup": "backed up the database",
    "restore": "restored the database",
    "password": "changed the password",
}
KIND_WORDS = {
    "clients": "client",
    "visits": "visit",
    "outcome_measures": "questionnaire",
    "rom": "ROM readings",
    "self_reports": "pain check-ins",
    "trigger_points": "trigger points",
    "report": "progress report",
    "share_link": "private link",
    "database": "whole database",
    "password": "therapist password",
}

INSERT_SQL = """
insert into meta.audit (audit_id, "at", action, kind, key, before, after, actor, client_id, detail)
values (nextval('meta.audit_id_seq'), coalesce(?, now()), ?, ?, ?, ?, ?, ?, ?, ?)
"""


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): still say where it came from
        return "unknown user"


def cli_actor() -> str:
    return f"{_os_user()} (command line)"


def _in_streamlit_run() -> bool:
    # Only look, never import: pipelines must not pull Streamlit into the CLI.
    if "streamlit" not in sys.modules:
        return False
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        return get_script_run_ctx(suppress_warning=True) is not None
    except Exception:
        return False


def default_actor() -> str:
    """Who is acting when the caller did not say: a therapist page, else Python code."""
    return DASHBOARD if _in_streamlit_run() else f"{_os_user()} (Python)"


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def _row(
    action: str,
    kind: str,
    key: Any,
    before: Any,
    after: Any,
    actor: str | None,
    client_id: str | None,
    detail: str | None,
    at: dt.datetime | None = None,
) -> list:
    return [
        at,
        action,
        kind,
        "" if key is None else str(key),
        _json(before),
        _json(after),
        actor or default_actor(),
        client_id,
        detail,
    ]


def record(
    con,
    action: str,
    kind: str,
    key: Any,
    *,
    before: Any = None,
    after: Any = None,
    actor: str | None = None,
    client_id: str | None = None,
    detail: str | None = None,
) -> None:
    """One audit row, on the caller's connection (inside the caller's transaction)."""
    con.execute(INSERT_SQL, _row(action, kind, key, before, after, actor, client_id, detail))


# ---------------------------------------------------------------------------
# Short writes for read-only operations, with a queue when the database is busy
# ---------------------------------------------------------------------------


def pending_path(db=None) -> Path:
    path = resolve_db_path(db)
    return path.with_name(path.name + PENDING_SUFFIX)


def _queue(db, row: list) -> None:
    row = list(row)
    row[0] = row[0] or dt.datetime.now()  # keep the time it happened, not the time it is written
    with open(pending_path(db), "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")


def pending_count(db=None) -> int:
    try:
        with open(pending_path(db), encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())
    except FileNotFoundError:
        return 0


def _take_pending(db) -> tuple[Path | None, list[list]]:
    """Move the queue aside (atomic rename: two processes never write the same rows) and read it."""
    src = pending_path(db)
    if not src.exists():
        return None, []
    taken = src.with_name(f"{src.name}.{os.getpid()}")
    try:
        os.replace(src, taken)
    except FileNotFoundError:
        return None, []
    rows = []
    for line in taken.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            row[0] = dt.datetime.fromisoformat(row[0]) if row[0] else None
            rows.append(row)
    return taken, rows


def give_back_pending(db, taken: Path | None) -> None:
    if taken is None:
        return
    with open(pending_path(db), "a", encoding="utf-8") as fh:
        fh.write(taken.read_text(encoding="utf-8"))
    taken.unlink()


def flush_pending(con, db) -> tuple[Path | None, int]:
    """Write queued rows on ``con`` (the caller commits); returns the taken queue file and how
    many rows.  After the commit call :func:`done_pending`, on failure :func:`give_back_pending`."""
    taken, rows = _take_pending(db)
    for row in rows:
        con.execute(INSERT_SQL, row)
    return taken, len(rows)


def done_pending(taken: Path | None) -> None:
    if taken is not None:
        taken.unlink(missing_ok=True)


def record_soon(
    db,
    action: str,
    kind: str,
    key: Any,
    *,
    before: Any = None,
    after: Any = None,
    actor: str | None = None,
    client_id: str | None = None,
    detail: str | None = None,
    timeout_s: float = SHORT_WRITE_S,
) -> bool:
    """Write one row now in its own short transaction (queued rows first).  True = written;
    False = the database stayed busy for ``timeout_s`` and the row waits in the queue."""
    row = _row(action, kind, key, before, after, actor, client_id, detail, at=dt.datetime.now())
    return write_now(db, [row], timeout_s)


def write_now(db, rows: list[list], timeout_s: float = SHORT_WRITE_S) -> bool:
    """Write queued rows and ``rows`` (``[]`` = just empty the queue) in one short transaction."""
    taken = None
    try:
        with write_connection(db, timeout_s=timeout_s) as con:
            try:
                with transaction(con):
                    taken, _ = flush_pending(con, db)
                    for row in rows:
                        con.execute(INSERT_SQL, row)
            except BaseException:  # after the rollback: the queued rows go back to the queue
                give_back_pending(db, taken)
                taken = None
                raise
        done_pending(taken)
        return True
    except DatabaseBusy:
        for row in rows:
            _queue(db, row)
        return False


def write_pending_if_free(db, timeout_s: float = 1.0) -> bool:
    """Write the queued rows if the database is free within ``timeout_s`` (the Records page asks on each
    visit: its log should hold them).  True = some were written; nothing queued or still busy = False."""
    return bool(pending_count(db)) and write_now(db, [], timeout_s=timeout_s)


# ---------------------------------------------------------------------------
# Reading the log
# ---------------------------------------------------------------------------

LOG_SQL = """
select audit_id, "at", actor, action, kind, key, client_id, detail,
       cast(before as varchar) as before, cast(after as varchar) as after
from meta.audit
where (?::varchar[] is null or list_contains(?::varchar[], action))
  and (?::varchar[] is null or list_contains(?::varchar[], kind))
  and (?::varchar is null or client_id = ?::varchar)
  and (?::date is null or "at" >= ?::date)
  and (?::date is null or "at" < ?::date + 1)
order by "at" desc, audit_id desc
limit ?
"""


def read_log(
    db=None,
    actions: list[str] | None = None,
    kinds: list[str] | None = None,
    client_id: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 5000,
) -> pd.DataFrame:
    """Audit rows, newest first, filtered by action(s), kind(s), client and date range (inclusive)."""
    actions = list(actions) if actions else None
    kinds = list(kinds) if kinds else None
    with read_connection(db) as con:
        return con.execute(
            LOG_SQL, [actions, actions, kinds, kinds, client_id, client_id, since, since, until, until, int(limit)]
        ).df()


def describe_change(before: str | None, after: str | None) -> str:
    """An edit in words: ``pain_post: 4 → 3; notes: (empty) → "tight"`` (only what changed)."""
    b = json.loads(before) if before else None
    a = json.loads(after) if after else None
    if not isinstance(b, dict) or not isinstance(a, dict):
        return ""
    parts = []
    for k in sorted(set(b) | set(a)):
        if k in ("updated_at",) or b.get(k) == a.get(k):
            continue
        parts.append(f"{k}: {_short(b.get(k))} → {_short(a.get(k))}")
    return "; ".join(parts) or "no field changed"


def describe_import(after: str) -> str:
    """An import's counts in words, leaving out the zeros that say nothing (rejected always shown)."""
    c = json.loads(after)
    parts = [f"{c.get('inserted', 0):,} new"]
    parts += [f"{c[k]:,} {k}" for k in ("updated", "unchanged") if c.get(k)]
    parts.append(f"{c.get('rejected', 0):,} rejected")
    return f"{Path(str(c.get('path', ''))).name}: {c.get('rows_read', 0):,} rows, " + ", ".join(parts)


def _short(value: Any, width: int = 60) -> str:
    if value is None or value == "" or value == []:
        return "(empty)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"
