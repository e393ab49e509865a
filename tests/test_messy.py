"""The committed messy files: each bad row is rejected with its own specific reason, the rest load."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.ingest.importer import ingest_file
from tests.conftest import MESSY

# line -> (column, reason) for every bad row of data/sample/messy/*.csv.  Terms no vocabulary knows
# ('myofacial relase', 'nek', 'elbo', 'twisting') are not errors: an unknown term never costs its
# row; it is kept as the practice's own term and flagged with its closest entry (NEW_TERMS).
EXPECTED = {
    "visits_messy.csv": {
        3: ("visit_id", "Visit is empty"),
        4: ("client_id", "Client is empty"),
        5: ("client_id", "Client C9999 is not a known client; import the clients file first"),
        6: ("visit_date", "Date 'next tuesday' is not a date (write it like 2026-03-14)"),
        7: ("visit_date", "Date 2099-05-01 is in the future"),
        8: ("visit_date", "Date 1899-12-31 is before 1900"),
        9: ("pain_pre", "Pain before 12 is outside 0–10"),
        10: ("pain_post", "Pain after -1 is outside 0–10"),
        11: ("pain_pre", "Pain before 6.3 must be a whole or half point"),
        12: ("pain_pre", "Pain before 'seven' is not a number"),
        13: ("pressure", "Pressure 0 is outside 1–5"),
        14: ("pressure", "Pressure 2.5 must be a whole number"),
        15: ("duration_min", "Duration 'an hour' is not a number"),
        18: (None, "the row has fewer cells than the header; a delimiter or quote is probably missing"),
        19: (None, "the row has more cells than the header (1 extra); a value probably contains an unquoted delimiter"),
        20: (None, "duplicate of line 21 (same visit_id); the later row is kept"),
    },
    "rom_messy.csv": {
        3: ("degrees", "Degrees 900 is not plausible for shoulder flexion (allowed -30–270°)"),
        4: ("degrees", "Degrees -45 is not plausible for shoulder abduction (allowed -30–270°)"),
        8: ("side", "Side 'up' is not one of: left, right, bilateral, none"),
        9: ("timing", "Timing 'during' is not one of: pre, post"),
        10: ("degrees", "Degrees is empty"),
        11: ("visit_id", "Visit V99999 is not a known visit; import the visits file first"),
    },
    "self_reports_messy.csv": {
        3: ("pain", "Pain 11 is outside 0–10"),
        4: ("reported_at", "Date 'not a time' is not a date (write it like 2026-03-14)"),
        5: ("did_homecare", "Did home care 'maybe' is not one of: yes, no"),
        6: ("pgic", "PGIC 9 is outside 1–7"),
        7: ("client_id", "Client C9999 is not a known client; import the clients file first"),
    },
    "trigger_points_messy.csv": {
        3: ("tenderness", "Tenderness 14 is outside 0–10"),
        4: ("released", "Released 'sort of' is not one of: yes, partial, no"),
        5: ("visit_id", "Visit V99999 is not a known visit; import the visits file first"),
    },
    "outcome_measures_messy.csv": {
        3: ("item_3", "Item 3 7 is outside 0–5 for NDI"),
        4: ("item_11", "Item 11 is not part of NDI (10 items)"),
        5: ("instrument", "Instrument 'SF-36' is not one of: NDI, ODI, PSFS, QuickDASH, LEFS"),
        6: ("total_score", "no item answers and no total_score"),
    },
    "clients_messy.csv": {
        3: ("display_name", "Name is empty"),
        4: ("birth_year", "Birth year 2090 is in the future"),
        5: ("status", "Status 'on holiday' is not one of: active, discharged, referred_out"),
    },
}


NEW_TERMS = {
    "visits_messy.csv": {
        ("region", "nek", "neck"),
        ("technique", "myofacial_relase", "myofascial_release"),
        ("technique", "reflexology", "nerve_mobilization"),
    },
    "rom_messy.csv": {("joint", "elbo", "elbow"), ("movement", "twisting", "rotation")},
}


@pytest.mark.parametrize("name", EXPECTED)
def test_each_bad_row_is_rejected_with_its_reason(sample_db_copy, name):
    rep = ingest_file(MESSY / name, db=sample_db_copy)
    got = {r.line: (r.column, r.reason) for r in rep.rejects}
    assert got == EXPECTED[name]
    assert rep.rejected == len(EXPECTED[name])
    assert rep.inserted + rep.updated + rep.unchanged + rep.rejected == rep.rows_read
    assert rep.inserted == rep.rows_read - rep.rejected  # the good rows are new, none overwrite the sample
    assert {(t["vocabulary"], t["term"], t["suggestion"]) for t in rep.new_terms} == NEW_TERMS.get(name, set())


def test_rejects_are_kept_in_the_database(sample_db_copy):
    rep = ingest_file(MESSY / "visits_messy.csv", db=sample_db_copy)
    con = duckdb.connect(str(sample_db_copy), read_only=True)
    stored = con.execute(
        "SELECT line, column_name, value, reason FROM raw.rejects WHERE import_id = ? ORDER BY line", [rep.import_id]
    ).fetchall()
    assert [(r[0], r[1], r[3]) for r in stored] == [
        (ln, c, reason) for ln, (c, reason) in sorted(EXPECTED["visits_messy.csv"].items())
    ]
    assert ("9", "12") == (str(stored[6][0]), stored[6][2])


def test_messy_visits_keep_the_good_rows_and_flag_the_new_terms(sample_db_copy):
    rep = ingest_file(MESSY / "visits_messy.csv", db=sample_db_copy)
    assert rep.inserted == 6
    assert [w["line"] for w in rep.warnings] == [16, 17, 22]
    con = duckdb.connect(str(sample_db_copy), read_only=True)
    rows = dict(con.execute("SELECT visit_id, pain_post FROM core.visits WHERE visit_id LIKE 'M0%'").fetchall())
    assert rows == {"M001": 4.0, "M015": 4.0, "M016": 4.0, "M019": 3.0, "M021": 4.0, "M022": 4.0}
    assert (
        con.execute("SELECT visit_date FROM core.visits WHERE visit_id = 'M001'").fetchone()[0].isoformat()
        == "2026-03-02"
    )
