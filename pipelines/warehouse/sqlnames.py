"""Quoting for the few places SQL text must hold a name or a path instead of a bound parameter.

Values always travel as bound parameters (``?``).  DuckDB cannot bind an identifier (a column named
by a file's header, a table from the catalog) or the path of ``EXPORT DATABASE`` / ``COPY … TO``, so
those are written into the statement, and only through these two functions: whatever the name holds
(quotes, spaces, semicolons, line breaks, any Unicode) it stays one name or one string.
"""

from __future__ import annotations

import os


def quote_identifier(name: str) -> str:
    """``name`` as one SQL identifier: in double quotes, each double quote inside doubled."""
    text = str(name)
    if "\x00" in text:
        raise ValueError("an SQL name cannot hold a NUL character")
    return '"' + text.replace('"', '""') + '"'


def quote_literal(text: str | os.PathLike) -> str:
    """``text`` (or a path) as one SQL string literal: in single quotes, each single quote inside doubled."""
    value = os.fspath(text) if isinstance(text, os.PathLike) else str(text)
    if "\x00" in value:
        raise ValueError("an SQL string cannot hold a NUL character")
    return "'" + value.replace("'", "''") + "'"
