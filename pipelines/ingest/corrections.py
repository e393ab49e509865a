"""Rejected rows corrected in the app and imported again, without editing the file.

The raw layer keeps every row of every file as it was written (``raw.rows``), so the rejected
rows of an import can be shown with their original columns, corrected cell by cell, and
imported as a small file with the same headers, kind and column mapping -- by the import
itself, so a corrected row is checked exactly like any other.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from pipelines.ingest.importer import FileReport, ingest_file
from pipelines.ingest.mappings import MappingProblem, load_mapping
from pipelines.warehouse.db import read_connection

IMPORT_SQL = """
SELECT i.path, i.kind, i.mapping, f.headers
FROM raw.imports i JOIN raw.files f ON f.file_hash = i.file_hash
WHERE i.import_id = ?
"""

REJECTED_ROWS_SQL = """
SELECT r.line, string_agg(j.reason, '; ' ORDER BY j.column_name NULLS FIRST) AS reason, r.cells
FROM raw.rejects j
JOIN raw.imports i ON i.import_id = j.import_id
JOIN raw.rows r ON r.file_hash = i.file_hash AND r.line = j.line
WHERE j.import_id = ?
GROUP BY r.line, r.cells
ORDER BY r.line
"""


def rejected_rows(db, import_id: int) -> pd.DataFrame:
    """The rejected rows of one import as written: ``line``, ``reason``, then the file's columns."""
    with read_connection(db) as con:
        found = con.execute(IMPORT_SQL, [int(import_id)]).fetchone()
        rows = con.execute(REJECTED_ROWS_SQL, [int(import_id)]).fetchall()
    headers = list(found[3]) if found else []
    records = []
    for line, reason, cells in rows:  # the cells are in the order of the file's headers
        records.append({"line": int(line), "reason": reason, **dict(zip(headers, cells))})
    return pd.DataFrame(records, columns=["line", "reason", *headers])


def reimport_corrected(db, import_id: int, edited: pd.DataFrame, actor: str) -> tuple[FileReport, dict[int, int]]:
    """Import the corrected rows (``edited``: as from :func:`rejected_rows`, cells changed) with the
    original import's kind and mapping.  Returns the report and {line in the corrected file:
    line in the original file}, so what is still wrong can be named by its own line."""
    with read_connection(db) as con:
        path, kind, mapping, headers = con.execute(IMPORT_SQL, [int(import_id)]).fetchone()
    rename = None
    if mapping:
        try:
            rename = load_mapping(mapping, db)
        except MappingProblem:  # the mapping was deleted since: plain headers as on the command line
            rename = None
    folder = Path(tempfile.mkdtemp(prefix="knotwork-corrected-"))
    target = folder / f"{Path(path).stem} (corrected rows of import {import_id}).csv"
    try:
        with open(target, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            for _, row in edited.iterrows():
                writer.writerow(["" if pd.isna(row.get(h)) else str(row.get(h)) for h in headers])
        report = ingest_file(target, db=db, kind=kind, rename=rename, mapping_name=mapping, actor=actor)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = {i + 2: int(original) for i, original in enumerate(edited["line"])}
    return report, lines
