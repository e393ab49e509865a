"""The practice's own terms: counted once, "same as" saved as an alias, merged later with history."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

from pipelines.ingest import terms as T
from pipelines.ingest.importer import ingest_file
from tests.conftest import ROOT, write_csv

CLIENTS = "client_id,display_name\nC1,Ann\nC2,Bob\n"
VISITS = (
    "visit_id,client_id,visit_date,techniques\n"
    "V1,C1,2026-01-05,kinesio tape + TrP\n"
    "V2,C1,2026-01-06,Kinesio-Tape\n"
    "V3,C2,2026-01-07,myofacial relase\n"
    "V4,C9,2026-01-08,gua sha and hot towels\n"
)  # unknown client: its terms are not added


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "t.duckdb"
    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=path)
    return path


@pytest.mark.slow
def test_the_command_line_prints_each_new_term_once_with_its_rows_and_suggestion(tmp_path, db):
    path = write_csv(tmp_path, "visits.csv", VISITS)
    proc = subprocess.run(
        [sys.executable, "-m", "knotwork", "ingest", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln.strip() for ln in proc.stdout.splitlines()]
    assert any(ln.startswith("new technique 'kinesio tape' (2 rows): kept as the practice's own term") for ln in lines)
    assert sum("kinesio" in ln for ln in lines) == 1
    assert any(ln.startswith("new technique 'myofacial relase' (1 row)") and "myofascial release" in ln for ln in lines)
    assert not any("hot towels" in ln for ln in lines if ln.startswith("new "))


def test_same_as_is_saved_as_an_alias_and_maps_the_next_import(tmp_path, db):
    path = write_csv(tmp_path, "visits.csv", VISITS)
    preview, _, n_rows = T.file_new_terms(path, "visits")
    assert n_rows == 4
    assert list(preview["term"])[:1] == ["kinesio_tape"] and list(preview["rows"])[:1] == [2]
    assert T.save_aliases(db, [("technique", "myofacial relase", "myofascial_release")], actor="test") == 1
    rep = ingest_file(path, db=db)
    assert [t["term"] for t in rep.new_terms] == ["kinesio_tape"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT techniques FROM core.visits WHERE visit_id = 'V3'").fetchone()[0] == [
            "myofascial_release"
        ]
        assert con.execute("SELECT value FROM core.vocabulary_extensions").fetchall() == [("kinesio_tape",)]


def test_a_kept_term_merged_later_updates_history_and_is_audited(tmp_path, db):
    ingest_file(write_csv(tmp_path, "visits.csv", VISITS), db=db)
    changed = T.merge_term(db, "technique", "myofacial_relase", "myofascial_release", actor="therapist (test)")
    assert changed == {"visits.techniques": 1}
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT techniques FROM core.visits WHERE visit_id = 'V3'").fetchone()[0] == [
            "myofascial_release"
        ]
        assert (
            con.execute(
                "SELECT count(*) FROM marts.visit_outcomes WHERE list_contains(techniques, 'myofacial_relase')"
            ).fetchone()[0]
            == 0
        )
        log = con.execute("SELECT actor, detail, before FROM meta.audit WHERE kind = 'vocabulary'").fetchall()
        terms = T.practice_terms(con)
    assert log[0][0] == "therapist (test)"
    assert log[0][1] == "technique 'myofacial_relase' merged into 'myofascial_release': 1 rows updated"
    assert json.loads(log[0][2])["rows"] == {"visits.techniques": 1}
    assert list(terms["term"]) == ["kinesio_tape"]
    # The spelling now maps by itself.
    rep = ingest_file(
        write_csv(
            tmp_path, "more.csv", "visit_id,client_id,visit_date,techniques\nV9,C2,2026-02-01,Myofacial Relase\n"
        ),
        db=db,
    )
    assert rep.new_terms == []


def test_a_merge_that_would_make_two_readings_one_is_refused(tmp_path, db):
    ingest_file(write_csv(tmp_path, "visits.csv", "visit_id,client_id,visit_date\nV1,C1,2026-01-05\n"), db=db)
    ingest_file(
        write_csv(
            tmp_path,
            "rom.csv",
            "visit_id,joint,movement,side,degrees\nV1,elbo,flexion,left,120\nV1,elbow,flexion,left,125\n",
        ),
        db=db,
    )
    with pytest.raises(T.TermProblem, match="visit V1 already has a rom row for 'elbow'"):
        T.merge_term(db, "joint", "elbo", "elbow", actor="test")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.rom").fetchone()[0] == 2
