"""SQL reads one way: keywords in capitals, names in lower case (the .sql files and the SQL in Python
constants already mostly did; this keeps them so).

Migrations are left as they ran: they are the applied history of every practice's database.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "pipelines" / "sql"
# Comments, string literals and quoted names are skipped; so is a word after "$" (a bound parameter),
# "." (a qualified name) or AS (an alias names an output column: its case is what the reader sees).
TOKEN = re.compile(r"""--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"(?:[^"]|"")*"|[$:.]?\b[A-Za-z_][A-Za-z0-9_]*""", re.S)


def _reserved() -> set[str]:
    rows = duckdb.sql("SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = 'reserved'").fetchall()
    return {name for (name,) in rows}


def lower_case_keywords(text: str, reserved: set[str]) -> list[str]:
    found = []
    for m in TOKEN.finditer(text):
        word = m.group(0)
        if word[0] in "-/'\"$:.":
            continue
        if word in reserved and not text[: m.start()].rstrip().lower().endswith(" as"):
            line = text.count("\n", 0, m.start()) + 1
            found.append(f"line {line}: {word}")
    return found


def test_sql_keywords_are_in_capitals():
    reserved = _reserved()
    files = [p for p in sorted(SQL_DIR.rglob("*.sql")) if "migrations" not in p.parts]
    assert len(files) > 20
    lower = {
        str(p.relative_to(ROOT)): hits for p in files if (hits := lower_case_keywords(p.read_text("utf-8"), reserved))
    }
    assert lower == {}


def test_the_check_finds_a_lower_case_keyword_and_skips_strings_comments_and_parameters():
    reserved = _reserved()
    assert lower_case_keywords("SELECT a from t", reserved) == ["line 1: from"]
    text = "SELECT 'select' AS x, \"from\" -- where\nFROM t WHERE w BETWEEN $window AND t.order"
    assert lower_case_keywords(text, reserved) == []
