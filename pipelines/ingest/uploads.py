"""A file uploaded in the dashboard, as the import engine needs it: on disk under its own name (the kind
can be read from it), counted the way the import counts rows."""

from __future__ import annotations

import tempfile
from pathlib import Path


def save_upload(name: str, data: bytes) -> Path:
    """``data`` written to a new temporary folder as ``name`` (its last part only: an upload's name is
    never a path).  The caller removes the folder (``path.parent``) when the run ends, imported or not,
    so no copy of a client file outlives it."""
    folder = Path(tempfile.mkdtemp(prefix="knotwork-upload-"))
    path = folder / Path(name).name
    path.write_bytes(data)
    return path


def count_data_rows(path: Path) -> int:
    """Rows below the header line, blank ones included (at least 1): the import skips blank rows, so the
    difference from its count is the number of blank rows the page says it will skip."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        # Imported here, as in readers.py: openpyxl takes ~1 s to import on a busy machine and only an
        # XLSX upload needs it.
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        try:
            return max((wb.worksheets[0].max_row or 1) - 1, 1)
        finally:
            wb.close()
    with open(path, "rb") as fh:
        return max(sum(1 for _ in fh) - 1, 1)
