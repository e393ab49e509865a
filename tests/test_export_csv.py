"""Leaving Knotwork: `knotwork export DIR` writes the contract's CSV files, and importing that
folder into an empty database gives the same practice (core tables compared row for row)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from pipelines.exports.contract_csv import cell, export_practice
from pipelines.ingest.contract import KINDS
from pipelines.ingest.importer import ingest_files
from pipelines.warehouse.db import read_connection, write_connection
from pipelines.warehouse.marts import rebuild_marts

# What the contract carries; provenance (source_import/line, updated_at), derived-id flags and a
# self-report's channel are not part of it.
COMPARE_SQL = {
    name: f"select {', '.join(kind.columns)} from core.{name} order by {', '.join(kind.key)}"
    for name, kind in KINDS.items()
}


def _tables(db) -> dict[str, list]:
    with read_connection(db) as con:
        return {name: con.execute(sql).fetchall() for name, sql in COMPARE_SQL.items()}


def _round_trip(src, tmp_path):
    folder = tmp_path / "export"
    counts = export_practice(src, folder)
    target = tmp_path / "empty.duckdb"
    reports = ingest_files(sorted(folder.glob("*.csv")), db=target)
    assert all(r.error is None and r.rejected == 0 for r in reports), [
        (r.path, r.error, r.rejects[:3]) for r in reports
    ]
    return counts, target


def test_export_then_import_gives_the_same_practice(sample_db, tmp_path):
    counts, target = _round_trip(sample_db, tmp_path)
    before, after = _tables(sample_db), _tables(target)
    assert counts == {k: len(v) for k, v in before.items()}
    assert all(counts[k] > 0 for k in counts)
    for name in KINDS:
        assert after[name] == before[name], name


def test_awkward_values_survive_the_round_trip(sample_db_copy, tmp_path):
    """Commas, quotes, line breaks, a leading '=', accents, half points and empty cells."""
    with write_connection(sample_db_copy) as con:
        con.execute(
            "UPDATE core.clients SET display_name = 'Zoë \"Zo\" Ün, Jr.', notes = '=1+1\nsecond line', "
            "birth_year = NULL WHERE client_id = 'C0001'"
        )
        con.execute(
            "UPDATE core.visits SET pain_pre = 6.5, pain_post = NULL, notes = 'a;b, \"c\"' "
            "WHERE visit_id = (SELECT min(visit_id) FROM core.visits WHERE client_id = 'C0001')"
        )
        rebuild_marts(con)
    _, target = _round_trip(sample_db_copy, tmp_path)
    assert _tables(target) == _tables(sample_db_copy)


def test_cells_are_written_as_the_importer_reads_them():
    assert cell(None) == "" and cell(float("nan")) == ""
    assert cell(7.0) == "7" and cell(6.5) == "6.5" and cell(-0.0) == "0"
    assert cell(["trigger_point", "swedish"]) == "trigger_point;swedish"
    assert cell(True) == "yes" and cell(False) == "no"
    assert cell(dt.date(2026, 3, 14)) == "2026-03-14"
    assert cell(dt.datetime(2026, 3, 14, 9, 5, 7)) == "2026-03-14T09:05:07"


@pytest.mark.slow
def test_cli_export_writes_one_file_per_kind(sample_db, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "knotwork", "export", str(tmp_path / "x"), "--db", str(sample_db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(f"{k}.csv" for k in KINDS)
    assert "40 clients" in out.stdout
    header = (tmp_path / "x" / "visits.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(KINDS["visits"].columns)
