"""Leaving Knotwork: every core table written back in the data contract's CSV format.

One ``<kind>.csv`` per kind (clients, visits, rom, self_reports, trigger_points,
outcome_measures), with exactly the contract's columns (``pipelines.ingest.contract.KINDS``),
so ``knotwork ingest`` of the folder into an empty database gives the same practice, and any
other tool can read it.  Values are written as the importer reads them: lists ``;``-separated,
yes/no for booleans, ISO dates and times, numbers without a trailing ``.0``.

The files are the import format, byte-exact: a note that starts with ``=`` stays as it is
(the spreadsheet-safe downloads in ``safe_csv`` would change it and break the round trip), so
open them in a spreadsheet with care.  Not in the contract and so not exported: where a
self-report came from (import / link / form), import provenance and the audit log (a Parquet
backup keeps those).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

from pipelines.ingest.contract import KINDS
from pipelines.warehouse.db import read_connection

ORDER = ("clients", "visits", "rom", "self_reports", "trigger_points", "outcome_measures")
# One query per kind, its names taken from the contract (fixed identifiers, no values).
EXPORT_SQL = {
    name: f"select {', '.join(KINDS[name].columns)} from core.{name} order by {', '.join(KINDS[name].key)}"
    for name in ORDER
}


def cell(value) -> str:
    """One value as the importer reads it back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ";".join(cell(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def export_practice(db, folder) -> dict[str, int]:
    """Write every kind to ``folder/<kind>.csv``; returns rows written per kind."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    with read_connection(db) as con:
        for name in ORDER:
            rows = con.execute(EXPORT_SQL[name]).fetchall()
            with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh, lineterminator="\r\n")
                writer.writerow(KINDS[name].columns)
                writer.writerows([cell(v) for v in row] for row in rows)
            counts[name] = len(rows)
    return counts
