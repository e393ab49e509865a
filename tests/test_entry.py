"""Data entry through pipelines.entry.forms: the import's rules, one transaction, audit, marts at once."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from pipelines.clinical.outcomes import outcome_summary, score_and_classify
from pipelines.entry import forms as E
from pipelines.ingest.importer import ingest_file
from tests.conftest import write_csv

CLIENTS = """
client_id,display_name,complaint_region,intake_date
C01,Ann B,neck,2026-01-05
C02,Bob K,low back,2026-01-06
"""

DAY = dt.date(2026, 3, 14)


@pytest.fixture
def practice(tmp_path, db):
    ingest_file(write_csv(tmp_path, "clients.csv", CLIENTS), db=db)
    return db


def rows(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def good_visit(**changes) -> E.VisitEntry:
    entry = E.VisitEntry(
        client_id="C01",
        visit_date=DAY,
        techniques=["trigger_point", "Myofascial Release"],
        pressure=3,
        pain_pre=7,
        pain_post=4.5,
        pain_region="neck",
        therapist="Sam",
        duration_min=60,
        rom=[{"joint": "cervical", "movement": "rotation", "side": "left", "degrees_pre": 55, "degrees_post": 65}],
        trigger_points=[
            {"muscle": "upper trap", "side": "L", "referral_region": "head", "tenderness": 7, "released": "partial"}
        ],
    )
    for k, v in changes.items():
        setattr(entry, k, v)
    return entry


def test_a_logged_visit_is_in_core_and_the_marts_at_once_with_a_derived_id(practice):
    saved = E.save_visit(good_visit(), db=practice)
    assert (saved.action, saved.key) == ("insert", "C01-20260314")
    assert rows(practice, "SELECT visit_id, pain_pre, pain_post, techniques, pressure FROM core.visits") == [
        ("C01-20260314", 7.0, 4.5, ["myofascial_release", "trigger_point"], 3)
    ]
    assert rows(practice, "SELECT client_id, visit_number, baseline_pain, pain_pre FROM marts.client_progress") == [
        ("C01", 1, 7.0, 7.0)
    ]
    assert rows(practice, "SELECT joint, movement, side, degrees_pre, degrees_post FROM marts.rom_changes") == [
        ("cervical", "rotation", "left", 55.0, 65.0)
    ]
    assert rows(practice, "SELECT muscle, side, tenderness, released FROM core.trigger_points") == [
        ("upper_trapezius", "left", 7.0, "partial")
    ]
    # A second visit the same day gets -2, like the import's derived ids.
    assert E.save_visit(good_visit(pain_pre=5), db=practice).key == "C01-20260314-2"


@pytest.mark.parametrize(
    "changes,field,text",
    [
        ({"pain_pre": 12}, "pain_pre", "Pain before: 12 is outside 0–10"),
        ({"pain_post": 4.3}, "pain_post", "Pain after: 4.3 must be a whole or half point"),
        ({"pressure": 9}, "pressure", "Pressure: 9 is outside 1–5"),
        ({"visit_date": dt.date.today() + dt.timedelta(days=3)}, "visit_date", "is in the future"),
        ({"visit_date": None}, "visit_date", "Date is required"),
        ({"techniques": ["trigger_point", "myofacial relase"]}, "techniques", "did you mean"),
        ({"client_id": "C99"}, "client_id", "C99 is not a known client"),
        (
            {"rom": [{"joint": "cervical", "movement": "rotation", "side": "left", "degrees_pre": 900}]},
            "rom",
            "ROM row 1, degrees before: 900 is not plausible for cervical rotation",
        ),
        # (An unknown joint or movement is a practice term, never an error; a side must be one of four.)
        (
            {"rom": [{"joint": "neck", "movement": "rotation", "side": "up", "degrees_pre": 40}]},
            "rom",
            "ROM row 1, side",
        ),
        (
            {"trigger_points": [{"muscle": "scm", "tenderness": 11}]},
            "trigger_points",
            "Trigger point row 1, tenderness: 11 is outside 0–10",
        ),
    ],
)
def test_each_invalid_value_is_refused_naming_its_field_and_nothing_is_stored(practice, changes, field, text):
    with pytest.raises(E.EntryError) as caught:
        E.save_visit(good_visit(**changes), db=practice)
    problems = caught.value.problems
    assert any(p.field == field and text in p.message for p in problems), [str(p) for p in problems]
    assert rows(practice, "SELECT count(*) FROM core.visits") == [(0,)]
    assert rows(practice, "SELECT count(*) FROM core.rom") == [(0,)]
    assert rows(practice, "SELECT count(*) FROM marts.visit_outcomes") == [(0,)]
    assert rows(practice, "SELECT count(*) FROM meta.audit WHERE action <> 'import'") == [
        (0,)
    ]  # the fixture's imports are audited too


def test_a_new_technique_is_accepted_with_its_closest_match_and_joins_the_vocabulary(practice):
    saved = E.save_visit(good_visit(techniques=["kinesio taping"]), db=practice)
    assert any("kinesio taping" in w.message and "closest known" in w.message for w in saved.warnings)
    assert rows(practice, "SELECT vocabulary, value FROM core.vocabulary_extensions") == [
        ("technique", "kinesio_taping")
    ]
    # Known from now on: the next visit with it has no warning.
    again = E.save_visit(good_visit(visit_date=DAY + dt.timedelta(days=7), techniques=["Kinesio taping"]), db=practice)
    assert again.warnings == []


def test_edit_and_delete_leave_audit_rows_with_before_and_after(practice):
    vid = E.save_visit(good_visit(), db=practice).key
    entry = E.load_visit(vid, db=practice)
    assert entry.rom == [
        {
            "joint": "cervical",
            "movement": "rotation",
            "side": "left",
            "degrees_pre": 55.0,
            "degrees_post": 65.0,
            "instrument": None,
        }
    ]
    entry.pain_post = 3
    entry.rom[0]["degrees_post"] = 70
    assert E.save_visit(entry, db=practice, visit_id=vid).action == "update"
    assert rows(practice, "SELECT pain_post FROM marts.visit_outcomes") == [(3.0,)]
    assert rows(practice, "SELECT degrees_post FROM marts.rom_changes") == [(70.0,)]

    E.delete_visit(vid, db=practice)
    for table in ("core.visits", "core.rom", "core.trigger_points", "marts.visit_outcomes", "marts.client_progress"):
        assert rows(practice, f"SELECT count(*) FROM {table}") == [(0,)], table

    audit = rows(
        practice, "SELECT action, kind, key, before, after FROM meta.audit WHERE action <> 'import' ORDER BY audit_id"
    )
    assert [(a, k, key) for a, k, key, _, _ in audit] == [
        ("insert", "visits", vid),
        ("update", "visits", vid),
        ("delete", "visits", vid),
    ]
    insert, update, delete = audit
    assert insert[3] is None and json.loads(insert[4])["pain_post"] == 4.5
    assert json.loads(update[3])["pain_post"] == 4.5 and json.loads(update[4])["pain_post"] == 3.0
    kept = {r["timing"]: r["degrees"] for r in json.loads(delete[3])["rom"]}
    assert kept == {"pre": 55.0, "post": 70.0} and delete[4] is None
    assert len(E.audit_log(practice, kind="visits", key=vid)) == 3


def test_a_visit_cannot_be_edited_onto_another_client_or_after_deletion(practice):
    vid = E.save_visit(good_visit(), db=practice).key
    with pytest.raises(E.EntryError, match="belongs to C01"):
        E.save_visit(good_visit(client_id="C02"), db=practice, visit_id=vid)
    E.delete_visit(vid, db=practice)
    with pytest.raises(E.EntryError, match="no longer exists"):
        E.save_visit(good_visit(), db=practice, visit_id=vid)


def test_a_rom_row_without_degrees_is_not_saved_and_says_so(practice):
    rom = [
        {"joint": "cervical", "movement": "rotation", "side": "left", "degrees_pre": 50},
        {"joint": "cervical", "movement": "flexion", "side": "none"},
    ]
    saved = E.save_visit(good_visit(rom=rom), db=practice)
    assert [w.message for w in saved.warnings if w.field == "rom"] == [
        "ROM rows without degrees were not saved: row 2 (cervical flexion)"
    ]
    assert rows(practice, "SELECT movement, timing FROM core.rom") == [("rotation", "pre")]


def test_duplicate_rom_rows_are_refused(practice):
    rom = [
        {"joint": "cervical", "movement": "rotation", "side": "left", "degrees_pre": 50},
        {"joint": "neck", "movement": "rot", "side": "L", "degrees_pre": 55},
    ]
    with pytest.raises(E.EntryError, match="already measured in row 1"):
        E.save_visit(good_visit(rom=rom), db=practice)


def test_clients_are_added_and_edited_with_audit(practice):
    assert E.next_client_id(practice) == "C03"
    saved = E.save_client(
        E.ClientEntry("C03", "Cleo D", 1985, "f", "Jaw pain", "jaw", "2026-03-01", "active"), db=practice
    )
    assert saved.action == "insert"
    assert rows(practice, "SELECT sex, complaint_region, status FROM core.clients WHERE client_id = 'C03'") == [
        ("female", "head", "active")
    ]
    with pytest.raises(E.EntryError, match="already taken"):
        E.save_client(E.ClientEntry("C03", "Someone else"), db=practice)
    with pytest.raises(E.EntryError, match="Status: 'gone' is not one of"):
        E.save_client(E.ClientEntry("C03", "Cleo D", status="gone"), db=practice, editing=True)
    edited = E.load_client("C03", db=practice)
    edited.status = "referred out"
    E.save_client(edited, db=practice, editing=True)
    assert rows(practice, "SELECT status FROM core.clients WHERE client_id = 'C03'") == [("referred_out",)]
    assert rows(practice, "SELECT status FROM marts.client_summary WHERE client_id = 'C03'") in (
        [("referred_out",)],
        [],
    )
    audit = rows(
        practice,
        "SELECT action, before, after FROM meta.audit WHERE kind = 'clients' AND action <> 'import' ORDER BY audit_id",
    )
    assert [a for a, _, _ in audit] == ["insert", "update"]
    assert json.loads(audit[1][1])["status"] == "active" and json.loads(audit[1][2])["status"] == "referred_out"


def test_a_questionnaire_entered_item_by_item_is_scored_and_audited(practice):
    items = [2, 2, 1, 2, 1, 2, 2, 2, 2, None]  # NDI, item 10 skipped: 16 / 45 x 100 = 35.56 %
    saved = E.save_questionnaire(E.QuestionnaireEntry("C01", DAY, "NDI", items), db=practice)
    assert saved.score.score == pytest.approx(35.555, abs=0.01) and saved.score.prorated
    assert any("prorated" in w.message for w in saved.warnings)
    with pytest.raises(E.EntryError, match="Item 3: item_3 7 is outside 0–5|Item 3: 7 is outside 0–5"):
        E.save_questionnaire(E.QuestionnaireEntry("C01", DAY, "NDI", [1, 1, 7]), db=practice)
    # Same client, day and instrument: replaces (like a corrected import row), audited as an update.
    E.save_questionnaire(E.QuestionnaireEntry("C01", DAY, "NDI", [1] * 10), db=practice)
    assert rows(practice, "SELECT count(*), sum(item_1) FROM core.outcome_measures") == [(1, 1.0)]
    assert [
        r[0] for r in rows(practice, "SELECT action FROM meta.audit WHERE action <> 'import' ORDER BY audit_id")
    ] == ["insert", "update"]
    E.delete_questionnaire("C01", DAY, "NDI", db=practice)
    assert rows(practice, "SELECT count(*) FROM marts.outcome_measures") == [(0,)]


def test_imported_questionnaires_are_scored_and_classified_end_to_end(tmp_path, practice):
    items = ",".join(f"item_{i}" for i in range(1, 21))
    path = write_csv(
        tmp_path,
        "outcome_measures.csv",
        f"""
client_id,taken_on,instrument,{items},total_score
C01,2026-01-05,NDI,2,2,1,2,1,2,2,2,2,,,,,,,,,,,,
C01,2026-02-05,NDI,1,1,1,1,1,1,1,1,1,0,,,,,,,,,,,
C01,2026-03-05,NDI,1,1,1,1,1,1,1,1,,,,,,,,,,,,,
C02,2026-01-06,PSFS,3,4,2,,,,,,,,,,,,,,,,,,
C02,2026-03-06,PSFS,6,6,5,,,,,,,,,,,,,,,,,,
C02,2026-01-06,LEFS,,,,,,,,,,,,,,,,,,,,,40
C02,2026-03-06,LEFS,,,,,,,,,,,,,,,,,,,,,46
""",
    )
    rep = ingest_file(path, db=practice)
    assert (rep.inserted, rep.rejected) == (7, 0)
    con = duckdb.connect(str(practice), read_only=True)
    measures = con.execute("SELECT * FROM marts.outcome_measures").df()
    con.close()
    scored = score_and_classify(measures).set_index(["client_id", "instrument", "assessment"])
    # NDI: baseline 16/45 = 35.6 %; 9/50 = 18 % is 17.6 points better, short of the 20-point MCID.
    assert scored.loc[("C01", "NDI", 1), "score"] == pytest.approx(35.56, abs=0.01)
    assert scored.loc[("C01", "NDI", 1), "category"] is None
    assert scored.loc[("C01", "NDI", 2), "score"] == pytest.approx(18.0)
    assert scored.loc[("C01", "NDI", 2), "category"] == "unchanged"
    assert bool(scored.loc[("C01", "NDI", 2), "beyond_mdc"]) is True
    # Eight of ten answered: not scorable (NDI needs 9), and no verdict.
    assert not scored.loc[("C01", "NDI", 3), "scorable"] and scored.loc[("C01", "NDI", 3), "category"] is None
    # PSFS (higher is better): 3.0 -> 5.67 is +2.67 >= MCID 2: improved.
    assert scored.loc[("C02", "PSFS", 2), "improvement"] == pytest.approx(2.667, abs=0.01)
    assert scored.loc[("C02", "PSFS", 2), "category"] == "improved"
    # LEFS from totals only: +6 < MCID 9: unchanged.
    assert scored.loc[("C02", "LEFS", 2), "category"] == "unchanged"
    summary = outcome_summary(score_and_classify(measures)).set_index(["client_id", "instrument"])
    assert summary.loc[("C01", "NDI"), "n"] == 2 and summary.loc[("C01", "NDI"), "n_unscorable"] == 1
    assert "Young" in summary.loc[("C01", "NDI"), "mcid_source"]
    assert summary.loc[("C02", "PSFS"), "category"] == "improved"


@pytest.mark.parametrize("typed, scale, stored", [(24, "points", 48.0), (48, "percent", 48.0), (50, "points", 100.0)])
def test_an_ndi_total_typed_on_either_scale_is_stored_as_the_percentage(practice, typed, scale, stored):
    saved = E.save_questionnaire(E.QuestionnaireEntry("C01", DAY, "NDI", [], typed, scale), db=practice)
    assert saved.score.total_only and saved.score.score == pytest.approx(stored)
    assert rows(practice, "SELECT total_score FROM core.outcome_measures") == [(stored,)]
    # Scored like an imported total of the same percentage, so both paths agree.
    assert rows(practice, "SELECT total_score FROM marts.outcome_measures") == [(stored,)]


@pytest.mark.parametrize(
    "typed, scale, text",
    [
        (24, None, "Total score: is 24 on 0–50 points or 0–100 %? Choose the scale"),
        (60, "points", "Total score: 60 is outside 0–50 points"),
        (120, "percent", "Total score: 120 is outside 0–100 %"),
    ],
)
def test_an_ndi_total_without_its_scale_or_outside_it_is_refused(practice, typed, scale, text):
    with pytest.raises(E.EntryError) as refused:
        E.save_questionnaire(E.QuestionnaireEntry("C01", DAY, "NDI", [], typed, scale), db=practice)
    assert [(p.field, p.message) for p in refused.value.problems] == [("total_score", text)]
    assert rows(practice, "SELECT count(*) FROM core.outcome_measures") == [(0,)]


def test_an_imported_ndi_total_is_read_as_the_percentage(tmp_path, practice):
    """The contract's scale for an imported NDI total_score: per cent (docs/data-contract.md)."""
    path = write_csv(
        tmp_path, "outcome_measures.csv", "client_id,taken_on,instrument,total_score\nC01,2026-03-14,NDI,48\n"
    )
    assert ingest_file(path, db=practice).inserted == 1
    saved = E.save_questionnaire(E.QuestionnaireEntry("C02", DAY, "NDI", [], 24, "points"), db=practice)
    assert saved.score.score == pytest.approx(48.0)
    assert rows(practice, "SELECT client_id, total_score FROM core.outcome_measures ORDER BY client_id") == [
        ("C01", 48.0),
        ("C02", 48.0),
    ]
