"""Column mappings: the built-in Google Forms profile, saved profiles, suggestions, safe CSV."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from pipelines.exports.safe_csv import neutralise_cell, neutralise_frame, to_csv_bytes
from pipelines.ingest.importer import ingest_file
from pipelines.ingest.mappings import (
    MappingProblem,
    MappingProfile,
    guess_kind,
    list_profiles,
    load_mapping,
    load_profile,
    mapping_from_choices,
    preview,
    profiles_for,
    save_profile,
    suggest_mapping,
)
from tests.conftest import ROOT, SAMPLE, write_csv

FORMS = SAMPLE / "forms" / "google_forms_checkins.csv"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "knotwork", *args], capture_output=True, text=True, cwd=ROOT)


def form_rows() -> list[dict]:
    with open(FORMS, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_sample_form_export_looks_like_google_forms():
    rows = form_rows()
    assert 25 <= len(rows) <= 40
    assert list(rows[0])[:2] == ["Timestamp", "Your client code"]
    # US month/day timestamps, some of which can only be month-first (day > 12).
    assert all(len(r["Timestamp"].split("/")) == 3 for r in rows)
    assert any(int(r["Timestamp"].split("/")[1]) > 12 for r in rows)


def test_google_forms_export_loads_every_row_with_its_saved_mapping_and_reimport_changes_nothing(tmp_path):
    db = tmp_path / "forms.duckdb"
    proc = cli("ingest", str(SAMPLE / "clients.csv"), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    n_rows = len(form_rows())

    proc = cli("ingest", str(FORMS), "--mapping", "google_forms_checkin", "--db", str(db), "--json")
    assert proc.returncode == 0, proc.stderr
    (rep,) = json.loads(proc.stdout)["files"]
    assert rep["kind"] == "self_reports"
    assert (rep["rows_read"], rep["inserted"], rep["rejected"]) == (n_rows, n_rows, 0), rep["rejects"]

    proc = cli("ingest", str(FORMS), "--mapping", "google_forms_checkin", "--db", str(db), "--json")
    (again,) = json.loads(proc.stdout)["files"]
    assert (again["inserted"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, n_rows, 0)

    con = duckdb.connect(str(db), read_only=True)
    try:
        # "10/14/2026 …" is month/day: read as 14 October, with the clock time kept.
        got = con.execute(
            "SELECT reported_at, pain, region, did_homecare, note FROM core.self_reports "
            "WHERE client_id = 'C0031' ORDER BY reported_at LIMIT 1"
        ).fetchone()
        first = next(r for r in form_rows() if r["Your client code"].strip() == "C0031")
        month, day, rest = first["Timestamp"].split("/")
        assert (got[0].month, got[0].day) == (int(month), int(day))
        assert got[0].strftime("%H:%M:%S") == pd.Timestamp(first["Timestamp"]).strftime("%H:%M:%S")
        assert got[1] == float(first["How bad is your pain right now? (0 = no pain, 10 = worst imaginable)"])
        assert got[2] == "neck"
        assert got[3] is (first["Did you do your home exercises since your last visit?"] == "Yes")
        mapping_used = con.execute("SELECT DISTINCT mapping FROM raw.imports WHERE kind = 'self_reports'").fetchall()
        assert mapping_used == [("google_forms_checkin",)]
    finally:
        con.close()


def test_without_the_mapping_the_form_is_read_by_its_plain_headers_and_says_so(tmp_path, sample_db_copy):
    """The command line matches question-text headers as the Import page suggests them, and
    names every column it matched; the result is the mapping's."""
    with_mapping = tmp_path / "m.duckdb"
    shutil.copy(sample_db_copy, with_mapping)
    proc = cli("ingest", str(FORMS), "--db", str(sample_db_copy), "--json")
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)["files"][0]
    assert rep["kind"] == "self_reports"
    matched = next(n for n in rep["notes"] if n.startswith("columns read by their plain names"))
    assert "'Your client code' as client_id" in matched and "'Timestamp' as reported_at" in matched
    assert cli("ingest", str(FORMS), "--db", str(with_mapping), "--mapping", "google_forms_checkin").returncode == 0
    sql = "SELECT client_id, reported_at, pain, region, did_homecare FROM core.self_reports ORDER BY ALL"
    with (
        duckdb.connect(str(sample_db_copy), read_only=True) as a,
        duckdb.connect(str(with_mapping), read_only=True) as b,
    ):
        assert a.execute(sql).fetchall() == b.execute(sql).fetchall()


def test_unknown_mapping_name_is_one_line_with_a_suggestion(tmp_path):
    proc = cli("ingest", str(FORMS), "--mapping", "google_form_checkin", "--db", str(tmp_path / "x.duckdb"))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "did you mean 'google_forms_checkin'" in proc.stderr


def test_mapping_carries_kind_and_date_order_and_ambiguous_dates_follow_it(tmp_path, db):
    ingest_file(SAMPLE / "clients.csv", db=db)
    # Every date here is ambiguous (both parts <= 12): only the mapping's month_first says 3 May.
    path = write_csv(
        tmp_path,
        "export.csv",
        """
Timestamp,Your client code,"How bad is your pain right now? (0 = no pain, 10 = worst imaginable)"
5/3/2026 9:15:00,C0002,6
""",
    )
    rename = load_mapping("google_forms_checkin", db=db)
    assert (rename.kind, rename.day_first) == ("self_reports", False)
    rep = ingest_file(path, db=db, rename=rename, mapping_name=rename.name)
    assert (rep.kind, rep.inserted, rep.rejected) == ("self_reports", 1, 0)
    assert any("month/day" in n and "mapping" in n for n in rep.notes), rep.notes
    con = duckdb.connect(str(db), read_only=True)
    when = con.execute(
        "SELECT reported_at FROM core.self_reports WHERE client_id = 'C0002' AND pain = 6 "
        "AND reported_at::DATE = DATE '2026-05-03'"
    ).fetchall()
    con.close()
    assert len(when) == 1


def test_a_saved_practice_profile_round_trips_and_is_found_for_a_matching_file(tmp_path, db):
    headers = ["Date", "Client", "Pain before", "Pain after", "What we did"]
    profile = MappingProfile(
        "old_sheet",
        {
            "Date": "visit_date",
            "Client": "client_id",
            "Pain before": "pain_pre",
            "Pain after": "pain_post",
            "What we did": "techniques",
        },
        kind="visits",
        date_order="day_first",
        description="my old spreadsheet",
    )
    path = save_profile(profile, db=db)
    assert path.parent == db.parent / "mappings"
    loaded = load_profile("old_sheet", db=db)
    assert (loaded.columns, loaded.kind, loaded.date_order, loaded.builtin) == (
        profile.columns,
        "visits",
        "day_first",
        False,
    )
    assert [p.name for p in profiles_for(headers + ["Extra"], db=db)] == ["old_sheet"]
    assert profiles_for(headers[:3], db=db) == []
    names = {p.name: p.builtin for p in list_profiles(db)}
    assert names == {"google_forms_checkin": True, "old_sheet": False}

    ingest_file(write_csv(tmp_path, "clients.csv", "client_id,display_name\nC1,Ann\n"), db=db)
    sheet = write_csv(
        tmp_path, "sheet.csv", "Date,Client,Pain before,Pain after,What we did\n03/04/2026,C1,7,4,TrP; stretching\n"
    )
    rep = ingest_file(sheet, db=db, rename=load_mapping("old_sheet", db=db), mapping_name="old_sheet")
    assert (rep.kind, rep.inserted, rep.rejected) == ("visits", 1, 0)
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT visit_id, visit_date, techniques FROM core.visits").fetchone()
    con.close()
    assert str(row[1]) == "2026-04-03"  # day/month, as the profile says
    assert row[0] == "C1-20260403" and row[2] == ["stretching", "trigger_point"]


@pytest.mark.parametrize(
    "columns,message",
    [
        ({"A": "client_id", "B": "client_id"}, "both 'A' and 'B' map to 'client_id'"),
        ({"A": "pain_level"}, "not a column of a self_reports file"),
    ],
)
def test_a_broken_profile_is_refused_with_a_reason(db, columns, message):
    with pytest.raises(MappingProblem, match=message):
        save_profile(MappingProfile("bad", columns, kind="self_reports"), db=db)


def test_two_file_columns_mapped_onto_one_contract_column_is_a_file_problem(tmp_path, db):
    path = write_csv(tmp_path, "x.csv", "client,client_id,display_name\nC1,C1,Ann\n")
    with pytest.raises(Exception, match="both be read as 'client_id'"):
        ingest_file(path, db=db, kind="clients", rename={"client": "client_id"})
    with pytest.raises(MappingProblem):
        mapping_from_choices({"client": "client_id", "Client code": "client_id"})
    # Leaving the second one unmapped moves it out of the way instead.
    rename = mapping_from_choices({"client": "client_id", "client_id": None, "display_name": "display_name"})
    rep = ingest_file(path, db=db, kind="clients", rename=rename)
    assert (rep.inserted, rep.rejected) == (1, 0)


# ---------------------------------------------------------------------------
# Suggestions by name similarity
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header,expected",
    [
        ("Client ID", "client_id"),
        ("client", "client_id"),
        ("Client code", "client_id"),
        ("Patient ID", "client_id"),
        ("Cleint ID", "client_id"),
        ("Date", "visit_date"),
        ("Visit Date", "visit_date"),
        ("Date of visit", "visit_date"),
        ("Session date", "visit_date"),
        ("Pain before", "pain_pre"),
        ("Pain (pre)", "pain_pre"),
        ("PRE PAIN", "pain_pre"),
        ("Pain after", "pain_post"),
        ("pain_post", "pain_post"),
        ("Post-pain", "pain_post"),
        ("Pressure (1-5)", "pressure"),
        ("Depth", "pressure"),
        ("Techniques used", "techniques"),
        ("Modalities", "techniques"),
        ("Home care", "homecare"),
        ("Duration (min)", "duration_min"),
        ("Therapist", "therapist"),
        ("Comments", "notes"),
    ],
)
def test_suggestions_map_the_usual_visit_header_variants(header, expected):
    assert suggest_mapping([header], "visits")[header][0] == expected


def test_suggestions_map_google_forms_questions_and_variants():
    headers = [
        "Timestamp",
        "Your client code",
        "How bad is your pain right now? (0 = no pain, 10 = worst imaginable)",
        "Where is the pain?",
        "Did you do your home exercises since your last visit?",
        "Anything else you want to tell your therapist?",
        "Email Address",
    ]
    got = {h: t for h, (t, _) in suggest_mapping(headers, "self_reports").items()}
    assert got == {
        "Timestamp": "reported_at",
        "Your client code": "client_id",
        "How bad is your pain right now? (0 = no pain, 10 = worst imaginable)": "pain",
        "Where is the pain?": "region",
        "Did you do your home exercises since your last visit?": "did_homecare",
        "Anything else you want to tell your therapist?": "note",
        "Email Address": None,
    }
    # A reworded form still lands: "Rate your pain (0-10)", "Pain location", "Comments".
    other = suggest_mapping(
        ["Submitted at", "Client number", "Rate your pain (0-10)", "Pain location", "Comments"], "self_reports"
    )
    assert [t for t, _ in other.values()] == ["reported_at", "client_id", "pain", "region", "note"]
    assert guess_kind(headers) == "self_reports"


def test_each_contract_column_is_suggested_once_and_contract_files_are_detected_directly():
    got = suggest_mapping(["Pain", "Pain level", "pain score"], "self_reports")
    targets = [t for t, _ in got.values() if t]
    assert targets == ["pain"]
    assert guess_kind(["client_id", "visit_id", "visit_date", "pain_pre"]) == "visits"
    assert guess_kind(["foo", "bar"]) is None


def test_preview_flags_the_rows_the_import_would_reject(tmp_path, db):
    ingest_file(SAMPLE / "clients.csv", db=db)
    path = write_csv(
        tmp_path,
        "export.csv",
        """
Timestamp,Your client code,"How bad is your pain right now? (0 = no pain, 10 = worst imaginable)",Where is the pain?
10/14/2026 9:15:00,C0002,6,Neck
10/15/2026 9:15:00,C0002,12,Neck
10/16/2026 9:15:00,C9999,3,Neck
""",
    )
    rename = load_mapping("google_forms_checkin", db=db)
    pv = preview(path, "self_reports", rename, db=db)
    assert (pv.n_ok, pv.n_bad, pv.day_first, pv.missing) == (1, 2, False, [])
    problems = dict(zip(pv.rows["line"], pv.rows["problems"]))
    assert problems[2] == ""
    assert "Pain 12 is outside 0–10" in problems[3]
    assert "C9999 is not a known client" in problems[4]
    rep = ingest_file(path, db=db, rename=rename)
    assert sorted({r.line for r in rep.rejects}) == [3, 4]


# ---------------------------------------------------------------------------
# Spreadsheet formulas in the CSV files the app writes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (-3, -3),
        (None, None),
    ],
)
def test_formula_cells_are_neutralised(value, expected):
    assert neutralise_cell(value) == expected


def test_csv_download_has_no_cell_a_spreadsheet_would_run():
    frame = pd.DataFrame({"line": [2, 3], "value": ["=1+1", "fine"], "pain": [-1.0, 4.0], "=bad header": ["@x", "ok"]})
    safe = neutralise_frame(frame)
    assert list(safe.columns) == ["line", "value", "pain", "'=bad header"]
    assert safe["pain"].tolist() == [-1.0, 4.0]  # numbers stay numbers
    text = to_csv_bytes(frame).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)
    assert "'=1+1" in cells and "'@x" in cells
