"""A corpus of files written the way therapists keep them (tests/data/corpus/), each with its
expected outcome row by row in expected.json: plain-word headers, clients named by name, "7/10",
ranges, "TrP + MFR", a column per technique ticked with x / ✓ / TRUE, thoracic spine and TMJ
readings, semicolon files with decimal commas, extra columns.  Every row is accounted for, every
rejected row is a real error, and importing any file again changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.importer import ingest_file

CORPUS = Path(__file__).parent / "data" / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The whole corpus imported in order into one new database: (db, {file: report})."""
    db = tmp_path_factory.mktemp("corpus") / "corpus.duckdb"
    reports = {name: ingest_file(CORPUS / name, db=db, actor="test") for name in EXPECTED["order"]}
    return db, reports


def test_the_corpus_has_at_least_ten_files_besides_the_clients():
    assert len(EXPECTED["order"]) >= 11


@pytest.mark.parametrize("name", EXPECTED["order"])
def test_every_row_has_its_expected_outcome(imported, name):
    _, reports = imported
    rep, want = reports[name], EXPECTED["files"][name]
    assert rep.inserted + rep.updated + rep.unchanged + rep.rejected == rep.rows_read == len(want["rows"])
    reasons = {}
    for r in rep.rejects:
        reasons.setdefault(str(r.line), []).append(r.reason)
    got = {line: "rejected" if line in reasons else "kept" for line in want["rows"]}
    assert got == {line: "rejected" if o.startswith("rejected") else "kept" for line, o in want["rows"].items()}
    assert set(reasons) <= set(want["rows"])  # no reject on a line that is not a row of the file
    for line, outcome in want["rows"].items():
        if outcome.startswith("rejected: "):
            expected = outcome.removeprefix("rejected: ")
            assert any(expected in reason for reason in reasons[line]), (line, reasons[line])
    assert rep.inserted == sum(1 for o in want["rows"].values() if o == "loaded")
    assert rep.updated == sum(1 for o in want["rows"].values() if o == "updated")
    messages = {}
    for w in rep.warnings:
        messages.setdefault(str(w["line"]), []).append(w["message"])
    for line, text in want.get("warnings_contain", {}).items():
        assert any(text in m for m in messages.get(line, [])), (line, messages.get(line))
    for text in want.get("notes_contain", []):
        assert any(text in n for n in rep.notes), rep.notes
    owned = {"technique", "joint", "movement"}  # muscle and region lists grow elsewhere
    got_terms = [[t["vocabulary"], t["term"], t["rows"]] for t in rep.new_terms if t["vocabulary"] in owned]
    assert got_terms == want.get("new_terms", [])


def _stored(db, sql, params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchone()


@pytest.mark.parametrize("name", [n for n in EXPECTED["order"] if "techniques" in EXPECTED["files"][n]])
def test_technique_lists_are_read_as_written(imported, name):
    db, reports = imported
    import_id = reports[name].import_id
    for line, techniques in EXPECTED["files"][name]["techniques"].items():
        row = _stored(
            db, "SELECT techniques FROM core.visits WHERE source_import = ? AND source_line = ?", [import_id, int(line)]
        )
        assert row is not None and row[0] == techniques, (line, row)


@pytest.mark.parametrize("name", ["rom_thoracic.csv", "rom_tmj.csv"])
def test_thoracic_tmj_and_bilateral_readings_are_stored_as_such(imported, name):
    db, reports = imported
    for line, want in EXPECTED["files"][name]["stored"].items():
        row = _stored(
            db,
            "SELECT joint, movement, side FROM core.rom WHERE source_import = ? AND source_line = ?",
            [reports[name].import_id, int(line)],
        )
        assert list(row) == want


def test_clients_named_by_name_get_their_ids(imported):
    db, _ = imported
    with duckdb.connect(str(db), read_only=True) as con:
        ben = con.execute("SELECT count(*) FROM core.visits WHERE client_id = 'K02'").fetchone()[0]
        checkins = con.execute("SELECT client_id, pain FROM core.self_reports ORDER BY reported_at").fetchall()
    assert ben == 2 + 1 + 2 + 1  # own sheet (2, one written 'ben  ortiz'), XLSX log, separators (2), EU file
    assert checkins == [("K02", 4.0), ("K03", 5.0), ("K02", 3.0)]


@pytest.mark.parametrize("name", EXPECTED["order"])
def test_importing_again_changes_nothing(imported, name):
    db, reports = imported
    again = ingest_file(CORPUS / name, db=db, actor="test")
    first = reports[name]
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged == first.inserted + first.updated + first.unchanged
    assert again.rejected == first.rejected
