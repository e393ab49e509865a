"""The import's fast path (pipelines/ingest/fast_import.py) gives exactly the Python validator's answers.

The SQL predicate may only ever say "clean" for a row the validator accepts with no reject and
no warning, and then with the very same typed values; everything else goes to the validator.
Checked three ways: a property test on generated awkward cells, whole imports of the sample and
messy files through both paths (same database afterwards, same report), and line numbers of
files the fast path reads or hands back to the Python reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

import pipelines.ingest.importer as ingest
from pipelines.ingest.contract import KINDS
from pipelines.ingest.fast_import import FastStage, load_source
from pipelines.ingest.readers import open_table
from pipelines.ingest.validate import FIELDS, validate_chunk
from tests.conftest import MESSY, SAMPLE, SAMPLE_ORDER, write_csv

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SPACES = [" ", "\t", "\u00a0", "\u3000", "\u2003", "\x1f", "\u0085", "\u200b"]
NUMBERS = [
    "5",
    "7.5",
    "7,5",
    "0",
    "10",
    "10.5",
    "11",
    "-1",
    "-0",
    "0.25",
    "3.",
    ".5",
    "0005",
    "1e1",
    "+5",
    "1,000",
    "٣",
    "inf",
    "nan",
    "12345678",
    "2.0000001",
    "1975",
    "1899",
    "2999",
    "60",
    "4",
    "abc",
]
DATES = [
    "2026-03-14",
    "2026-02-30",
    "2026-3-4",
    "14/03/2026",
    "03/04/2026",
    "2026/03/14",
    "20260314",
    "1899-12-31",
    "1900-01-01",
    "2999-01-01",
    "2026-03-14T10:00",
    "14 Mar 2026",
    "0001-01-01",
]
STAMPS = [
    "2026-03-14T08:30:00",
    "2026-03-14 08:30",
    "2026-03-14",
    "2026-03-14T24:00:00",
    "2026-03-14T08:30:00Z",
    "2026-03-14T08:30:00.5",
    "2026-03-14T08:60",
    "3/14/2026 8:30:00 PM",
    "2999-03-14T08:30:00",
    "1899-03-14T08:30:00",
]


def _vocab_values(spec) -> list[str]:
    names = spec.vocab.canonical_names
    aliases = [a for al in spec.vocab.entries.values() for a in al]
    return (
        names[:6]
        + aliases[:6]
        + [n.upper() for n in names[:2]]
        + [n.replace("_", " ") for n in names[:2]]
        + ["myofacial relase", "zzz new entry", "Nacken", "cerv1cal"]
    )


def _good(spec) -> st.SearchStrategy[str]:
    """Values the validator accepts, written the plain way most files write them."""
    if spec.kind == "number":
        lo = 0 if spec.lo is None else int(spec.lo)
        hi = (lo + 10) if spec.hi is None else int(spec.hi)
        whole = st.integers(lo, hi).map(str)
        if spec.step == 0.5:
            return st.one_of(whole, st.integers(2 * lo, 2 * hi).map(lambda h: f"{h / 2:.1f}"))
        return whole
    if spec.kind == "date":
        return st.dates(dt.date(1900, 1, 1), dt.date.today()).map(dt.date.isoformat)
    if spec.kind == "timestamp":
        return st.datetimes(dt.datetime(1900, 1, 1), dt.datetime.combine(dt.date.today(), dt.time(0))).map(
            lambda d: d.replace(microsecond=0).isoformat()
        )
    if spec.kind == "vocab":
        return st.sampled_from(spec.vocab.canonical_names)
    if spec.kind == "vocab_list":
        return st.lists(st.sampled_from(spec.vocab.canonical_names), max_size=3).map(";".join)
    return st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=10)


def _cell(spec) -> st.SearchStrategy[str]:
    if spec.kind == "number":
        # Near the bounds, with 0-3 decimals and either decimal mark: off-step and out-of-range too.
        lo = -2 if spec.lo is None else spec.lo - 2
        hi = lo + 14 if spec.hi is None else spec.hi + 2
        near = st.builds(
            lambda x, k, mark: f"{x:.{k}f}".replace(".", mark),
            st.floats(lo, hi),
            st.integers(0, 3),
            st.sampled_from([".", ","]),
        )
        base = st.one_of(st.sampled_from(NUMBERS), near)
    elif spec.kind == "date":
        base = st.sampled_from(DATES)
    elif spec.kind == "timestamp":
        base = st.sampled_from(STAMPS)
    elif spec.kind == "vocab":
        base = st.sampled_from(_vocab_values(spec))
    elif spec.kind == "vocab_list":
        item = st.sampled_from(_vocab_values(spec) + [""])
        base = st.builds(
            lambda items, sep: sep.join(items),
            st.lists(item, max_size=4),
            st.sampled_from([";", ",", "|", " ; ", ";;", "; "]),
        )
    else:
        base = st.text(st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)), max_size=12)
    # Cells padded with ASCII or Unicode spaces, or empty, in every column.
    padded = st.builds(lambda s, a, b: a + s + b, base, st.sampled_from([""] + SPACES), st.sampled_from([""] + SPACES))
    return st.one_of(base, padded, st.just(""))


def _rows(kind: str) -> st.SearchStrategy[list[list[str]]]:
    cols = [c for c in KINDS[kind].columns if c in FIELDS[kind]]

    def cell(c):
        spec = FIELDS[kind][c]
        good = _good(spec)
        if c.startswith("item_"):
            # Items 1-5 answered 1-4 suit every questionnaire; later items blank.
            good = st.integers(1, 4).map(str) if int(c[5:]) <= 5 else st.just("")
        # About one awkward cell per row, so rows are often clean but for one thing.
        return st.integers(0, len(cols)).flatmap(lambda i: good if i else _cell(spec))

    row = st.tuples(*[cell(c) for c in cols]).map(list)
    return st.lists(row, min_size=1, max_size=25)


def _norm(value):
    """One comparable form for what pandas and DuckDB hand back (NaN/NaT/None alike)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (np.ndarray, list)):
        return [str(v) for v in value]
    if isinstance(value, (pd.Timestamp, np.datetime64, dt.datetime, dt.date)):
        return pd.Timestamp(value)
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, bool):
        return float(value)
    return value


def _both_ways(tmp_path, kind: str, rows: list[list[str]]):
    cols = [c for c in KINDS[kind].columns if c in FIELDS[kind]]
    path = tmp_path / f"{kind}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols)
        writer.writerows(rows)
    table = open_table(path)
    present = set(table.columns) & set(FIELDS[kind])
    con = duckdb.connect()
    names = load_source(con, table)
    assert names is not None, "one physical line per row: the fast path must read this file"
    stage = FastStage(con, table, kind, names, None, present, {})
    stage.build()
    sql = con.execute("SELECT * FROM temp.incoming").df()
    chunk = next(table.chunks())
    py = validate_chunk(kind, chunk, day_first=True, vocabularies={}, present=present)
    return sql, py, chunk


@pytest.mark.parametrize("kind", list(KINDS))
def test_sql_clean_rows_are_exactly_what_the_validator_accepts(tmp_path_factory, kind):
    seen_clean = []

    # Each example is a real file read by DuckDB: 25 per kind (up to 25 rows each) keeps the six
    # kinds near a minute on 2 cores; HYPOTHESIS_PROFILE=slow runs the profile's many more.
    @settings(max_examples=25 if settings().max_examples <= 100 else settings().max_examples)
    @given(rows=_rows(kind))
    def check(rows):
        tmp = tmp_path_factory.mktemp(kind)
        sql, py, chunk = _both_ways(tmp, kind, rows)
        seen_clean.append(int(sql["_clean"].sum()))
        # Both read the same rows (blank rows skipped alike) on the same lines.
        assert sorted(sql["_line"]) == sorted(chunk["_line"])
        clean_lines = set(sql.loc[sql["_clean"], "_line"])
        flagged = set(py.rejects["_line"]) | set(py.warnings["_line"])
        assert not (clean_lines & flagged), py.rejects[py.rejects["_line"].isin(clean_lines)].to_dict("records")
        by_line = py.clean.set_index("_line")
        for _, row in sql[sql["_clean"]].iterrows():
            for col in by_line.columns:
                assert _norm(row[col]) == _norm(by_line.loc[row["_line"], col]), (row["_line"], col)

    check()
    assert sum(seen_clean) > 0, "no generated row was SQL-clean: the comparison above proved nothing"


def test_plain_values_take_the_fast_path(tmp_path):
    """Every row of the sample practice is certainly clean in SQL (else the fast path is idle)."""
    con = duckdb.connect()
    for name in SAMPLE_ORDER:
        table = open_table(SAMPLE / name)
        kind = name.removesuffix(".csv")
        names = load_source(con, table)
        stage = FastStage(con, table, kind, names, None, set(table.columns) & set(FIELDS[kind]), {})
        stage.build()
        total, clean = con.execute("SELECT count(*), count(*) FILTER (_clean) FROM temp.incoming").fetchone()
        assert total > 0 and clean == total, (name, total, clean)
        con.execute("DROP TABLE temp.src")


def _dump(db) -> dict:
    """Every table a user or the dashboard could read, minus clocks and run ids."""
    volatile = {
        "updated_at",
        "stored_at",
        "started_at",
        "finished_at",
        "import_id",
        "source_import",
        "first_import",
        "at",
        "id",
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'staging', 'core', 'marts') ORDER BY 1"
        ).fetchall()
        for (t,) in tables:
            cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] not in volatile]
            rows = con.execute(
                f"SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in cols)} FROM {t}"
            ).fetchall()
            out[t] = sorted(map(repr, rows))
        return out
    finally:
        con.close()


def _import_both_ways(tmp_path, monkeypatch, files):
    results = {}
    for fast in (True, False):
        monkeypatch.setattr(ingest, "FAST_PATH", fast)
        db = tmp_path / f"fast-{fast}.duckdb"
        reports = ingest.ingest_files(files, db=db)
        results[fast] = ([r.to_json() for r in reports], _dump(db))
    return results


def test_sample_and_messy_files_import_identically_both_ways(tmp_path, monkeypatch):
    files = [SAMPLE / f for f in SAMPLE_ORDER] + sorted(MESSY.glob("*.csv"))
    results = _import_both_ways(tmp_path, monkeypatch, files)
    fast_reports, fast_db = results[True]
    slow_reports, slow_db = results[False]
    assert fast_reports == slow_reports
    assert sum(r["rejected"] for r in fast_reports) > 10  # the messy rows were there to compare
    for table in slow_db:
        assert fast_db[table] == slow_db[table], table


def test_crlf_semicolon_and_day_month_evidence_match_the_python_reader(tmp_path, monkeypatch):
    clients = write_csv(tmp_path, "clients.csv", "client_id;display_name\nC1;Ann\nC2;Bob\n")
    text = (
        "visit_id;client_id;visit_date;pain_pre;pain_post;techniques\r\n"
        "V1;C1;2026-03-02;6,5;4;TrP\r\n"
        "V2;C1;03/04/2026;7;3,5;myofascial release\r\n"
        "V3;C2;25/03/2026;12;4;TrP\r\n"
        ";;;;;\r\n"
        "V4;C2; 2026-03-05 ;5;2;myofacial relase\r\n"
    )
    visits = tmp_path / "visits.csv"
    visits.write_bytes(text.encode("utf-8"))
    results = _import_both_ways(tmp_path, monkeypatch, [clients, visits])
    assert results[True] == results[False]
    report = results[True][0][1]
    assert report["rows_read"] == 4  # the blank row is skipped, not counted
    assert [(r["line"], r["column"]) for r in report["rejects"]] == [(4, "pain_pre")]
    assert [(w["line"], w["column"]) for w in report["warnings"]] == [(6, "techniques")]  # kept, a new term
    assert any("values in the file settle the order" in n for n in report["notes"])
    # 03/04/2026 was read day/month because 25/03/2026 settles the order.
    assert "datetime.date(2026, 4, 3)" in repr(results[True][1]["core.visits"])


def test_quoted_newline_and_blank_line_keep_exact_lines(tmp_path, monkeypatch, db):
    """Files with a row over two lines or a blank line go to the Python reader: lines stay exact."""
    write_csv(tmp_path, "clients.csv", "client_id,display_name\nC1,Ann\n")
    ingest.ingest_file(tmp_path / "clients.csv", db=db)
    visits = write_csv(
        tmp_path,
        "visits.csv",
        'visit_id,client_id,visit_date,pain_pre,notes\nV1,C1,2026-03-02,5,"two\nlines"\n\nV2,C1,2026-03-03,15,x\n',
    )
    report = ingest.ingest_file(visits, db=db)
    assert report.rows_read == 2
    assert [(r.line, r.column) for r in report.rejects] == [(5, "pain_pre")]


def test_duplicates_with_an_empty_key_part_keep_the_last_row(tmp_path, db):
    """An empty region is part of the self-report key like any value: the last row wins."""
    write_csv(tmp_path, "clients.csv", "client_id,display_name\nC1,Ann\n")
    ingest.ingest_file(tmp_path / "clients.csv", db=db)
    reports = write_csv(
        tmp_path,
        "self_reports.csv",
        "client_id,reported_at,pain,region\n"
        "C1,2026-03-02T08:00:00,5,\n"
        "C1,2026-03-02T08:00:00,6,neck\n"
        "C1,2026-03-02T08:00:00,4,\n"
        "C1,2026-03-02T08:00:00,3,\n",
    )
    report = ingest.ingest_file(reports, db=db)
    assert (report.rows_read, report.inserted, report.rejected) == (4, 2, 2)
    assert [(r.line, r.reason) for r in report.rejects] == [
        (2, "duplicate of line 5 (same client_id, reported_at, region); the later row is kept"),
        (4, "duplicate of line 5 (same client_id, reported_at, region); the later row is kept"),
    ]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert sorted(con.execute("SELECT region, pain FROM core.self_reports").fetchall(), key=repr) == sorted(
            [(None, 3.0), ("neck", 6.0)], key=repr
        )
    finally:
        con.close()
