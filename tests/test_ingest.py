"""The import pipeline: nothing lost, idempotent, all-or-nothing, referential checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest
from openpyxl import Workbook

from pipelines.ingest.importer import ingest_file, ingest_files
from pipelines.ingest.readers import FileProblem
from tests.conftest import ROOT, write_csv

CLIENTS = """
client_id,display_name,birth_year,sex,primary_complaint,complaint_region,intake_date,status
C1,Ann B,1980,F,Neck pain,neck,2026-01-05,active
C2,Bob K,1975,m,Low back pain,lower back,2026-01-06,active
"""

VISITS = """
visit_id,client_id,visit_date,pressure,pain_pre,pain_post,techniques
V1,C1,2026-01-05,3,7,4,TrP;Myofascial Release;breath work
V2,C1,2026-01-12,3,6,3.5,trigger point therapy;stretching
V3,C2,2026-01-06,4,8,5,ischemic compression
"""


def snapshot(db) -> dict:
    """Every row of every core and mart table, sorted: what a user could ever see."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('core', 'marts') ORDER BY 1"
        ).fetchall()
        out = {}
        for (name,) in tables:
            cols = [
                r[0]
                for r in con.execute(f"DESCRIBE {name}").fetchall()
                if r[0] not in ("updated_at", "source_import", "source_line")
            ]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {name}").fetchall()
            out[name] = sorted(map(repr, rows))
        return out
    finally:
        con.close()


def load_basic(tmp_path, db):
    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=db)
    return ingest_file(write_csv(tmp_path, "visits.csv", VISITS), db=db)


def test_every_row_is_accounted_for_and_aliases_resolve(tmp_path, db):
    rep = load_basic(tmp_path, db)
    assert (rep.rows_read, rep.inserted, rep.rejected) == (3, 3, 0)
    con = duckdb.connect(str(db), read_only=True)
    techniques = dict(con.execute("SELECT visit_id, techniques FROM core.visits").fetchall())
    assert techniques == {
        "V1": ["breathwork", "myofascial_release", "trigger_point"],
        "V2": ["stretching", "trigger_point"],
        "V3": ["trigger_point"],
    }
    assert con.execute("SELECT complaint_region FROM core.clients WHERE client_id = 'C2'").fetchone() == ("low_back",)


def test_soft_tissue_release_is_a_known_technique_by_its_common_names(tmp_path, db):
    """ "STR", "pin and stretch" (not split on "and") and "soft tissue release" are one technique,
    never a new practice term."""
    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=db)
    rep = ingest_file(
        write_csv(
            tmp_path,
            "visits.csv",
            """
visit_id,client_id,visit_date,techniques
V1,C1,2026-01-05,TrP + STR
V2,C1,2026-01-12,pin and stretch; MFR
V3,C2,2026-01-06,Soft tissue release
""",
        ),
        db=db,
    )
    assert (rep.rows_read, rep.inserted, rep.rejected) == (3, 3, 0)
    con = duckdb.connect(str(db), read_only=True)
    assert dict(con.execute("SELECT visit_id, techniques FROM core.visits").fetchall()) == {
        "V1": ["soft_tissue_release", "trigger_point"],
        "V2": ["myofascial_release", "soft_tissue_release"],
        "V3": ["soft_tissue_release"],
    }
    assert con.execute("SELECT count(*) FROM core.vocabulary_extensions").fetchone() == (0,)


def test_reimport_changes_nothing(tmp_path, db):
    load_basic(tmp_path, db)
    before = snapshot(db)
    rep = ingest_file(tmp_path / "visits.csv", db=db)
    assert (rep.inserted, rep.updated, rep.unchanged, rep.rejected) == (0, 0, 3, 0)
    rep = ingest_file(tmp_path / "clients.csv", db=db)
    assert (rep.inserted, rep.updated, rep.unchanged, rep.rejected) == (0, 0, 2, 0)
    assert snapshot(db) == before


def test_corrected_file_updates_exactly_the_corrected_rows(tmp_path, db):
    load_basic(tmp_path, db)
    corrected = VISITS.replace("V2,C1,2026-01-12,3,6,3.5", "V2,C1,2026-01-12,3,6,2.5")
    rep = ingest_file(write_csv(tmp_path, "visits_fixed.csv", corrected), db=db)
    assert (rep.inserted, rep.updated, rep.unchanged) == (0, 1, 2)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT pain_post, pain_change FROM marts.visit_outcomes WHERE visit_id = 'V2'").fetchone() == (
        2.5,
        -3.5,
    )
    assert con.execute("SELECT count(*) FROM core.visits").fetchone() == (3,)


def test_reordered_columns_and_header_spelling_load_the_same(tmp_path, db):
    load_basic(tmp_path, db)
    before = snapshot(db)
    reordered = """
Techniques ; Pain Post;PAIN_PRE;Visit Date;Client ID;Visit ID;pressure
trp ; MFR; Breathwork;4;7;05/01/2026;C1;V1;3
Trigger Point Therapy, Stretching;3,5;6;12/01/2026;C1;V2;3
Ischaemic Compression;5;8;06/01/2026;C2;V3;4
"""
    # semicolon-delimited, decimal comma, day/month dates settled by "12/01" being unambiguous? No:
    # 12/01 is ambiguous, so the practice default (day/month) applies and is stated in the notes.
    rep = ingest_file(
        write_csv(
            tmp_path, "visits_reordered.csv", reordered.replace("trp ; MFR; Breathwork", "trp , MFR , Breathwork")
        ),
        db=db,
    )
    assert rep.rejected == 0, rep.rejects
    assert (rep.unchanged, rep.updated) == (3, 0)
    assert any("day/month" in n for n in rep.notes)
    assert snapshot(db) == before


def test_visit_for_unknown_client_is_rejected_then_loads_after_the_client_arrives(tmp_path, db):
    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=db)
    visits = VISITS + "V9,C9,2026-02-01,2,5,3,swedish\n"
    rep = ingest_file(write_csv(tmp_path, "visits.csv", visits), db=db)
    assert rep.rejected == 1
    assert rep.rejects[0].line == 5 and rep.rejects[0].column == "client_id"
    assert "C9 is not a known client" in rep.rejects[0].reason
    ingest_file(write_csv(tmp_path, "more_clients.csv", "client_id,display_name\nC9,Cat N\n"), db=db)
    rep = ingest_file(tmp_path / "visits.csv", db=db)
    assert (rep.inserted, rep.unchanged, rep.rejected) == (1, 3, 0)


def test_rom_for_unknown_visit_waits_for_its_parent(tmp_path, db):
    load_basic(tmp_path, db)
    rom = write_csv(
        tmp_path,
        "rom.csv",
        "visit_id,joint,movement,side,timing,degrees\nV1,cervical,rotation,left,pre,50\nV7,neck,rotation,left,pre,52\n",
    )
    rep = ingest_file(rom, db=db)
    assert (rep.inserted, rep.rejected) == (1, 1)
    assert "V7 is not a known visit" in rep.rejects[0].reason


def test_rom_and_trigger_points_can_name_the_visit_by_client_and_date(tmp_path, db):
    load_basic(tmp_path, db)
    rom = write_csv(
        tmp_path,
        "rom.csv",
        "client_id,visit_date,joint,movement,side,timing,degrees\n"
        "C1,2026-01-05,Neck,Rot,L,before,50\nC1,2026-01-05,cervical,rotation,left,after,58\n"
        "C1,2026-03-01,cervical,rotation,left,pre,50\n",
    )
    rep = ingest_file(rom, db=db)
    assert (rep.inserted, rep.rejected) == (2, 1)
    assert "no visit of client C1 on 2026-03-01" in rep.rejects[0].reason
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT degrees_pre, degrees_post, degrees_change FROM marts.rom_changes").fetchall() == [
            (50.0, 58.0, 8.0)
        ]
    tp = write_csv(
        tmp_path,
        "trigger_points.csv",
        "client_id,visit_date,muscle,side,referral_region,tenderness,released\n"
        "C1,2026-01-05,Upper Trap,R,temple,7,partial\n",
    )
    rep = ingest_file(tp, db=db)
    assert rep.inserted == 1
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT visit_id, muscle, side, referral_region FROM core.trigger_points").fetchall() == [
        ("V1", "upper_trapezius", "right", "temple")
    ]  # a fine zone of head (pipelines/ingest/anatomy.toml)


def test_visits_without_a_visit_id_column_get_derived_ids(tmp_path, db):
    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=db)
    rep = ingest_file(
        write_csv(
            tmp_path, "visits.csv", "client_id,visit_date,pain_pre\nC1,2026-01-05,7\nC1,2026-01-05,6\nC2,2026-01-06,5\n"
        ),
        db=db,
    )
    assert rep.inserted == 3
    assert any("derived" in n for n in rep.notes)
    con = duckdb.connect(str(db), read_only=True)
    assert sorted(r[0] for r in con.execute("SELECT visit_id FROM core.visits").fetchall()) == [
        "C1-20260105",
        "C1-20260105-2",
        "C2-20260106",
    ]
    con.close()
    again = ingest_file(tmp_path / "visits.csv", db=db)
    assert again.unchanged == 3


def test_empty_visit_id_cell_is_a_rejected_row(tmp_path, db):
    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=db)
    rep = ingest_file(
        write_csv(tmp_path, "visits.csv", "visit_id,client_id,visit_date\n,C1,2026-01-05\nV1,C1,2026-01-06\n"), db=db
    )
    assert (rep.inserted, rep.rejected) == (1, 1)
    assert rep.rejects[0].reason == "Visit is empty"


def test_unknown_terms_never_cost_a_row_even_when_they_look_like_a_typo(tmp_path, db):
    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=db)
    rep = ingest_file(
        write_csv(
            tmp_path,
            "visits.csv",
            "visit_id,client_id,visit_date,techniques\nV1,C1,2026-01-05,reflexology;TrP\n"
            "V2,C1,2026-01-06,myofacial relase\nV3,C9,2026-01-07,gua sha + cupping therapy\n",
        ),
        db=db,
    )
    assert (rep.inserted, rep.rejected) == (2, 1)  # V3: unknown client, the one real error
    assert [w["message"] for w in rep.warnings] == [
        "new technique 'reflexology' kept as the practice's own term (closest known: nerve mobilization); "
        "choose 'same as' on the Import page if it is",
        "new technique 'myofacial relase' kept as the practice's own term (closest known: myofascial release); "
        "choose 'same as' on the Import page if it is",
    ]
    assert rep.new_terms == [
        {
            "vocabulary": "technique",
            "term": "myofacial_relase",
            "spelling": "myofacial relase",
            "rows": 1,
            "suggestion": "myofascial_release",
        },
        {
            "vocabulary": "technique",
            "term": "reflexology",
            "spelling": "reflexology",
            "rows": 1,
            "suggestion": "nerve_mobilization",
        },
    ]
    con = duckdb.connect(str(db), read_only=True)
    assert sorted(con.execute("SELECT vocabulary, value FROM core.vocabulary_extensions").fetchall()) == [
        ("technique", "myofacial_relase"),
        ("technique", "reflexology"),
    ]
    assert con.execute("SELECT techniques FROM core.visits WHERE visit_id = 'V2'").fetchone()[0] == ["myofacial_relase"]


def test_xlsx_import_matches_csv(tmp_path, db):
    import datetime as dt

    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=db)
    wb = Workbook()
    ws = wb.active
    ws.append(["Client ID", "Visit ID", "Visit Date", "Pain Pre", "Pain Post", "Techniques", "Pressure"])
    ws.append(["C1", "V1", dt.datetime(2026, 1, 5), 7, 4, "TrP;Myofascial Release;breath work", 3])
    ws.append(["C1", "V2", dt.datetime(2026, 1, 12), 6, 3.5, "trigger point therapy;stretching", 3])
    ws.append([None, None, None, None, None, None, None])
    ws.append(["C2", "V3", "2026-01-06", 8, 5, "ischemic compression", 4])
    wb.save(tmp_path / "visits.xlsx")
    rep = ingest_file(tmp_path / "visits.xlsx", db=db)
    assert (rep.rows_read, rep.inserted, rep.rejected) == (3, 3, 0)
    assert rep.warnings == []
    csv_db = tmp_path / "csv.duckdb"
    load_basic(tmp_path, csv_db)
    assert snapshot(db) == snapshot(csv_db)


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("notes.pdf", b"%PDF-1.4", "not a CSV or XLSX file"),
        ("visits.csv", b"", "the file is empty"),
        ("visits.csv", b"\n\n", "the file is empty"),
        ("visits.csv", b"visit_id,visit_date\nV1,2026-01-01\n", "required column 'client_id' is missing"),
        ("visits.csv", b"visit_id,client_id,visit_date\nV1,C1,\xff\xfe2026\n", "not UTF-8"),
        ("visits.xlsx", b"this is not a workbook", "cannot be opened as an XLSX workbook"),
    ],
)
def test_unreadable_file_gives_one_line_and_writes_nothing(tmp_path, db, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileProblem, match=message):
        ingest_file(path, db=db, kind="visits" if name.endswith(".pdf") else None)
    assert not db.exists()
    proc = subprocess.run(
        [sys.executable, "-m", "knotwork", "ingest", str(path), "--db", str(db)], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not db.exists()


@pytest.mark.slow
def test_cli_json_report_has_the_contract_fields(tmp_path, db):
    write_csv(tmp_path, "clients.csv", CLIENTS)
    visits = write_csv(tmp_path, "visits.csv", VISITS + "V4,C1,2026-01-20,9,5,4,swedish\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "knotwork",
            "ingest",
            str(tmp_path / "clients.csv"),
            str(visits),
            "--db",
            str(db),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(proc.stdout)
    files = report["files"]
    assert [f["kind"] for f in files] == ["clients", "visits"]
    v = files[1]
    assert {k: v[k] for k in ("path", "rows_read", "inserted", "updated", "unchanged", "rejected")} == {
        "path": str(visits),
        "rows_read": 4,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    assert v["rejects"] == [{"line": 5, "column": "pressure", "value": "9", "reason": "Pressure 9 is outside 1–5"}]


@pytest.mark.slow
def test_kill_mid_import_leaves_database_as_before_and_rerun_completes(tmp_path, db):
    """SIGKILL during a big import: nothing of that file is visible; the next run finishes the job."""
    load_basic(tmp_path, db)
    before = snapshot(db)
    lines = ["client_id,reported_at,pain,region,note"]
    for i in range(300_000):
        day = 1 + i % 28
        lines.append(
            f"C{1 + i % 2},2026-02-{day:02d} {i // 28 % 24:02d}:{i // 672 % 60:02d}:{i % 60:02d},{i % 11},neck,n{i}"
        )
    big = tmp_path / "self_reports.csv"
    big.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "knotwork", "ingest", str(big), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Wait until the importer holds the write lock (it is inside its transaction), then kill it.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            duckdb.connect(str(db), read_only=True).close()
        except duckdb.IOException:
            time.sleep(1.0)  # locked: the import is under way
            break
        time.sleep(0.05)
    else:
        pytest.fail("the importer never took the write lock")
    assert proc.poll() is None, "import finished before it could be killed; make the file bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert snapshot(db) == before
    rep = ingest_file(big, db=db)
    assert rep.inserted == rep.rows_read - rep.rejected
    con = duckdb.connect(str(db), read_only=True)
    n, distinct = con.execute(
        "SELECT count(*), count(DISTINCT (client_id, reported_at, region)) FROM core.self_reports"
    ).fetchone()
    assert n == distinct == rep.inserted
