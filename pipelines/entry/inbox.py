"""The therapist has seen a client's check-ins: stored, so the practice overview's inbox stays
right after a restart (``meta.checkins_seen``, migration 0005)."""

from __future__ import annotations

import datetime as dt

from pipelines.warehouse.db import write_connection

MARK_SEEN_SQL = """
insert into meta.checkins_seen (client_id, seen_through, seen_at) values (?, ?, now())
on conflict (client_id) do update
set seen_through = greatest(meta.checkins_seen.seen_through, excluded.seen_through), seen_at = excluded.seen_at
"""

# Opening a client's page must not wait long behind an import: the check-ins stay in the inbox
# and are marked the next time the page is opened.
MARK_WAIT_S = 1.0


def mark_checkins_seen(client_id: str, through: dt.datetime, db=None) -> None:
    """Record that the client's check-ins up to ``through`` (the newest shown) have been seen.

    Never moves backwards.  Raises ``pipelines.warehouse.db.DatabaseBusy`` when the database
    stays locked for :data:`MARK_WAIT_S`; nothing is written then."""
    with write_connection(db, timeout_s=MARK_WAIT_S) as con:
        con.execute(MARK_SEEN_SQL, [client_id, through])
