"""The one transaction helper and the one quoting helper, on real DuckDB files.

Hostile names are what a practice's own files can hold: a CSV header with quotes or a semicolon, a
folder named after a person ("O'Neil"), Unicode anywhere."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.warehouse.backup import backup, restore
from pipelines.warehouse.sqlnames import quote_identifier, quote_literal
from pipelines.warehouse.transaction import transaction

HOSTILE = ['pain "now"', "with space", "semi; DROP TABLE t; --", "it's", "Ünïcødé 痛み 😀", '"', "a\nb"]


def _count(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def table_db(tmp_path):
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (x INTEGER)")
    yield path, con
    con.close()


def test_a_transaction_keeps_everything_or_nothing(table_db):
    path, con = table_db
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1), (2)")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 2

    with pytest.raises(ValueError, match="half way"):
        with transaction(con):
            con.execute("INSERT INTO t VALUES (3)")
            raise ValueError("half way")
    with pytest.raises(KeyboardInterrupt):  # an interrupt rolls back too
        with transaction(con):
            con.execute("INSERT INTO t VALUES (4)")
            raise KeyboardInterrupt
    with pytest.raises(duckdb.Error):  # a failing statement: the whole change goes
        with transaction(con):
            con.execute("INSERT INTO t VALUES (5)")
            con.execute("INSERT INTO t VALUES ('not a number')")
    with transaction(con) as tx:  # ended early on purpose: no error, nothing kept
        con.execute("INSERT INTO t VALUES (6)")
        tx.rollback()
    assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchone()[0] == [1, 2]
    with transaction(con):  # and the connection is usable afterwards
        con.execute("INSERT INTO t VALUES (7)")
    con.close()
    assert _count(path) == 3  # what is on disk


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_stays_one_column(tmp_path, name):
    con = duckdb.connect(str(tmp_path / "q.duckdb"))
    try:
        con.execute(f"CREATE TABLE t ({quote_identifier(name)} VARCHAR, other VARCHAR)")
        con.execute("INSERT INTO t VALUES (?, ?)", ["value", "untouched"])
        assert [r[0] for r in con.execute("DESCRIBE t").fetchall()] == [name, "other"]
        assert con.execute(f"SELECT {quote_identifier(name)} FROM t").fetchone()[0] == "value"
        assert con.execute(f"SELECT {quote_literal(name)}").fetchone()[0] == name
    finally:
        con.close()


def test_a_hostile_path_stays_one_path(tmp_path):
    folder = tmp_path / "O'Neil; -- practice 痛み"
    folder.mkdir()
    target = folder / "it's here.csv"
    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT 42 AS answer) TO {quote_literal(target)} (HEADER)")
        assert con.execute("SELECT answer FROM read_csv(?)", [str(target)]).fetchone()[0] == 42
    finally:
        con.close()
    with pytest.raises(ValueError):
        quote_literal("a\x00b")
    with pytest.raises(ValueError):
        quote_identifier("a\x00b")


def test_a_backup_into_a_folder_with_a_quote_in_its_name_restores(sample_db_copy, tmp_path):
    folder = backup(sample_db_copy, tmp_path / "backups" / "Dr O'Neil's practice")
    restored = restore(folder, tmp_path / "restored.duckdb")
    con = duckdb.connect(str(restored), read_only=True)
    original = duckdb.connect(str(sample_db_copy), read_only=True)
    try:
        count = "SELECT count(*) FROM core.visits"
        assert con.execute(count).fetchone()[0] == original.execute(count).fetchone()[0] > 0
    finally:
        con.close()
        original.close()
