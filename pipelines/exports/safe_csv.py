"""CSV files the app writes for download, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula ("CSV injection", OWASP); so is one whose first
non-blank character is one of those (import options may trim leading spaces) or its full-width
form (``＝``, read as ``=`` by Excel in CJK locales).  Rejected rows
carry whatever text a file or a form held (``=HYPERLINK(...)`` in a note, say), so every CSV
Knotwork offers for download goes through :func:`to_csv_bytes`, which prefixes such text
cells, and header names, with a single quote.  Numbers stay numbers: ``-3`` in a numeric
column is not a formula; the same characters in a text column are quoted.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Full-width equals, plus, minus and at: Excel in CJK locales reads them as the ASCII ones.
FULL_WIDTH_PREFIXES = ("\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_cell(value: Any) -> Any:
    """``'=1+1'`` -> ``"'=1+1"`` (also ``' =1+1'``, ``'＝1+1'``); anything not text is returned unchanged."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES + FULL_WIDTH_PREFIXES)
    ):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and every column name neutralised."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
            continue
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        out[col] = series.map(neutralise_cell).astype(object)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with a BOM, so Excel reads the accents right), formulas neutralised.

    Rows end in CRLF (RFC 4180): the csv writer then quotes every cell holding a CR or LF.  With
    pandas' default ``\n`` a cell holding a lone CR was written unquoted, and a spreadsheet split
    the row there -- a second row that could start with ``=`` and bypass the neutralising.
    """
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
