"""Data entry through the app (Log a visit, Clients, Import), driven with AppTest via the entry point.

Each test works on a private copy of the committed sample practice.  What is checked is what a
therapist would rely on: a saved visit is in client progress at once (the mart and the client
page's pain chart), a refused form says which field is wrong and stores nothing, edits and
deletes leave audit rows, and a Google Forms export imports with its saved mapping.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import SAMPLE

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
LOG = "app_pages/log_visit.py"
CLIENTS = "app_pages/clients.py"
IMPORT = "app_pages/import_data.py"
PROGRESS = "app_pages/client_progress.py"
CLIENT = "C0002"
TODAY = dt.date.today()


pytestmark = pytest.mark.usefixtures("clean_streamlit_caches")


@pytest.fixture
def db(sample_db_copy, monkeypatch) -> Path:
    monkeypatch.setenv("KNOTWORK_DB", str(sample_db_copy))
    return sample_db_copy


def sql(db: Path, query: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def open_page(page: str, client: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page)
    if client is not None:
        at.query_params["client"] = client
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def log_page(client: str = CLIENT) -> AppTest:
    at = open_page(LOG)
    at.selectbox(key="lv_client").set_value(client)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def gen(at: AppTest) -> int:
    return at.session_state["lv_gen"]


def fill_visit(
    at: AppTest,
    pain_pre=6.5,
    pain_post=3.5,
    pressure=3,
    techniques=("trigger_point", "stretching"),
    day: dt.date = TODAY,
) -> None:
    g = gen(at)
    at.date_input(key=f"lv_date_{g}").set_value(day)
    at.number_input(key=f"lv_pain_pre_{g}").set_value(pain_pre)
    at.number_input(key=f"lv_pain_post_{g}").set_value(pain_post)
    at.number_input(key=f"lv_pressure_{g}").set_value(pressure)
    at.multiselect(key=f"lv_techniques_{g}").set_value(list(techniques))


def add_row(at: AppTest, kind: str = "rom", client: str = CLIENT, **values) -> None:
    """Add a row of other ROM movements ("rom") or trigger points ("tp") with its add button, and fill it in."""
    prefix = f"lv_{gen(at)}_{client}"
    at.button(key=f"{prefix}_{kind}_add").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    row_id = at.session_state[f"{prefix}_{kind}_ids"][-1]
    for field, value in values.items():
        key = f"{prefix}_{kind}_{row_id}_{field}"
        if field.startswith("degrees") or field == "tenderness":
            at.number_input(key=key).set_value(value)
        else:
            at.selectbox(key=key).set_value(value)


def save(at: AppTest) -> AppTest:
    at.button(key="lv_save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def decode(values) -> list:
    """Plotly 7 writes numeric arrays as base64 typed arrays (docs/engineering.md §3)."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def pain_points(at: AppTest) -> dict[str, float]:
    """Date -> pain before the visit, read from the client page's pain chart."""
    out = {}
    for el in at.get("plotly_chart"):
        fig = json.loads(el.proto.spec)
        title = fig["layout"].get("title", {})
        if not str(title.get("text", "") if isinstance(title, dict) else title).startswith("Pain"):
            continue
        for trace in fig["data"]:
            name = str(trace.get("name", "")).lower()
            if "before" in name and "expected" not in name and "x" in trace and "y" in trace:
                out.update(dict(zip(trace["x"], decode(trace["y"]))))
    return out


def counts(db: Path) -> tuple:
    return (
        sql(db, "SELECT count(*) FROM core.visits")[0][0],
        sql(db, "SELECT count(*) FROM core.rom")[0][0],
        sql(db, "SELECT count(*) FROM meta.audit")[0][0],
    )


# ---------------------------------------------------------------------------
# Log a visit
# ---------------------------------------------------------------------------


def test_a_visit_logged_in_the_form_shows_in_client_progress_at_once(db):
    at = log_page()
    add_row(at, joint="cervical", movement="rotation", side="left", degrees_pre=50, degrees_post=62)
    fill_visit(at, pain_pre=6.5, pain_post=3.5)
    save(at)
    vid = f"{CLIENT}-{TODAY:%Y%m%d}"
    assert any(vid in s.value for s in at.success), [s.value for s in at.success]
    assert not at.error
    # The form is ready for the next client.
    assert at.selectbox(key="lv_client").value is None

    assert sql(db, "SELECT pain_pre, pain_post, techniques FROM marts.visit_outcomes WHERE visit_id = ?", [vid]) == [
        (6.5, 3.5, ["stretching", "trigger_point"])
    ]
    assert sql(db, "SELECT degrees_pre, degrees_post FROM marts.rom_changes WHERE visit_id = ?", [vid]) == [
        (50.0, 62.0)
    ]
    n_visits = sql(db, "SELECT count(*) FROM core.visits WHERE client_id = ?", [CLIENT])[0][0]
    assert sql(db, "SELECT visit_number, pain_pre FROM marts.client_progress WHERE visit_id = ?", [vid]) == [
        (n_visits, 6.5)
    ]

    progress = open_page(PROGRESS, client=CLIENT)
    assert pain_points(progress).get(TODAY.isoformat()) == 6.5


@pytest.mark.parametrize(
    "change,field_text",
    [
        ({"pain_pre": 12}, "Pain before: 12 is outside 0–10"),
        ({"pressure": 9}, "Pressure: 9 is outside 1–5"),
        ({"day": TODAY + dt.timedelta(days=2)}, "is in the future"),
        ({"techniques": ("trigger_point", "myofacial relase")}, "did you mean 'myofascial release'"),
    ],
)
def test_each_invalid_value_is_refused_with_its_field_named_and_nothing_stored(db, change, field_text):
    before = counts(db)
    at = log_page()
    fill_visit(at, **change)
    save(at)
    errors = [e.value for e in at.error]
    assert any(field_text in e for e in errors), errors
    assert any(e.startswith("Not saved") for e in errors), errors
    assert not at.success
    assert counts(db) == before
    # The values stay in the form to be corrected.
    key = {"pain_pre": "lv_pain_pre", "pressure": "lv_pressure"}.get(next(iter(change)))
    if key:
        assert at.number_input(key=f"{key}_{gen(at)}").value == next(iter(change.values()))
    if "day" in change:
        assert any(e.startswith("Date:") for e in errors), errors


def test_implausible_rom_degrees_are_refused_naming_the_row_and_column(db):
    before = counts(db)
    at = log_page()
    add_row(at, joint="cervical", movement="rotation", side="left", degrees_pre=900)
    fill_visit(at)
    save(at)
    errors = [e.value for e in at.error]
    assert any("ROM row" in e and "degrees before: 900 is not plausible for cervical rotation" in e for e in errors), (
        errors
    )
    assert counts(db) == before


def test_edit_and_delete_of_a_visit_leave_audit_rows(db):
    at = log_page()
    fill_visit(at, pain_pre=7, pain_post=4)
    save(at)
    vid = f"{CLIENT}-{TODAY:%Y%m%d}"

    at = log_page()
    at.selectbox(key="lv_edit_pick").set_value(vid)
    at.run()
    g = gen(at)
    assert at.number_input(key=f"lv_pain_pre_{g}").value == 7.0  # prefilled from the stored visit
    assert at.selectbox(key="lv_client").disabled
    at.number_input(key=f"lv_pain_post_{g}").set_value(2.5)
    save(at)
    assert any("Updated" in s.value for s in at.success)
    assert sql(db, "SELECT pain_post FROM marts.visit_outcomes WHERE visit_id = ?", [vid]) == [(2.5,)]

    at.selectbox(key="lv_edit_pick").set_value(vid)
    at.run()
    at.button(key="lv_delete_confirm").click()
    at.run()
    assert not at.exception
    assert any("Deleted" in s.value for s in at.success)
    assert sql(db, "SELECT count(*) FROM core.visits WHERE visit_id = ?", [vid]) == [(0,)]
    assert sql(db, "SELECT count(*) FROM marts.client_progress WHERE visit_id = ?", [vid]) == [(0,)]
    audit = sql(
        db,
        "SELECT action, before IS NULL, after IS NULL FROM meta.audit WHERE kind = 'visits' AND key = ? "
        "ORDER BY audit_id",
        [vid],
    )
    assert audit == [("insert", True, False), ("update", False, False), ("delete", False, True)]
    update_before, update_after = sql(
        db, "SELECT before, after FROM meta.audit WHERE action = 'update' AND key = ?", [vid]
    )[0]
    assert json.loads(update_before)["pain_post"] == 4.0 and json.loads(update_after)["pain_post"] == 2.5


def test_a_second_visit_the_same_day_is_announced_and_gets_a_suffix(db):
    at = log_page()
    fill_visit(at)
    save(at)
    at = log_page()
    assert any("already has a visit on" in w.value for w in at.warning)
    fill_visit(at, pain_pre=5)
    save(at)
    assert sql(
        db, "SELECT visit_id FROM core.visits WHERE client_id = ? AND visit_date = ? ORDER BY visit_id", [CLIENT, TODAY]
    ) == [(f"{CLIENT}-{TODAY:%Y%m%d}",), (f"{CLIENT}-{TODAY:%Y%m%d}-2",)]


def test_a_questionnaire_entered_item_by_item_is_scored_and_classified(db):
    at = log_page()
    answers = [3, 3, 2, 3, 2, 3, 3, 2, 3, 3]  # NDI 27/50 = 54 %
    for i, v in enumerate(answers, start=1):
        at.button_group(key=f"lv_q_NDI_{i}_0").set_value(v)
    at.button(key="lv_q_save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("NDI" in s.value and "54.0" in s.value for s in at.success), [s.value for s in at.success]
    assert sql(
        db,
        "SELECT item_1, item_10 FROM core.outcome_measures WHERE client_id = ? AND taken_on = ? AND instrument = 'NDI'",
        [CLIENT, TODAY],
    ) == [(3.0, 3.0)]
    # C0002's first NDI (sample) was 55.6 %: 54 % is no important change (MCID 20 points).
    assert any("Since the first NDI" in w.value and "unchanged" in w.value for w in at.warning), [
        w.value for w in at.warning
    ]
    assert sql(db, "SELECT action FROM meta.audit WHERE kind = 'outcome_measures' AND action <> 'import'") == [
        ("insert",)
    ]


def test_an_unanswered_questionnaire_is_refused(db):
    at = log_page()
    at.button(key="lv_q_save").click()
    at.run()
    assert any("No answers entered" in e.value for e in at.error), [e.value for e in at.error]
    assert sql(db, "SELECT count(*) FROM core.outcome_measures WHERE taken_on = ?", [TODAY]) == [(0,)]


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


def test_add_a_client_then_refer_them_out_with_audit(db):
    at = open_page(CLIENTS)
    new_id = at.text_input(key="cl_id_0_new").value
    assert new_id == "C0041"
    at.text_input(key="cl_name_0_new").set_value("Noor H.")
    at.text_input(key="cl_complaint_0_new").set_value("Jaw pain")
    at.button(key="cl_save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Added Noor H." in s.value for s in at.success)
    assert sql(db, "SELECT display_name, status FROM core.clients WHERE client_id = ?", [new_id]) == [
        ("Noor H.", "active")
    ]
    assert sql(db, "SELECT status FROM marts.client_summary WHERE client_id = ?", [new_id]) == [("active",)]

    # The new client is open for editing: mark them referred out.
    assert at.selectbox(key="cl_pick").value == new_id
    suffix = f"{at.session_state['cl_gen']}_{new_id}"
    at.radio(key=f"cl_status_{suffix}").set_value("referred_out")
    at.button(key="cl_save").click()
    at.run()
    assert sql(db, "SELECT status FROM core.clients WHERE client_id = ?", [new_id]) == [("referred_out",)]
    assert sql(db, "SELECT action FROM meta.audit WHERE kind = 'clients' AND key = ? ORDER BY audit_id", [new_id]) == [
        ("insert",),
        ("update",),
    ]
    # And they can be picked on Log a visit right away.
    log = open_page(LOG)
    assert any(new_id in o and "Referred out" in o for o in log.selectbox(key="lv_client").options)


def test_a_taken_client_code_and_a_missing_name_are_refused(db):
    at = open_page(CLIENTS)
    at.text_input(key="cl_id_0_new").set_value("C0001")
    at.button(key="cl_save").click()
    at.run()
    errors = [e.value for e in at.error]
    assert any("C0001 is already taken" in e for e in errors), errors
    assert any(e == "Name is required" for e in errors), errors
    assert sql(db, "SELECT count(*) FROM meta.audit WHERE action <> 'import'") == [
        (0,)
    ]  # the sample's imports are audited


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------

FORMS = SAMPLE / "forms" / "google_forms_checkins.csv"


def upload(at: AppTest, path: Path) -> AppTest:
    at.get("file_uploader")[0].set_value((path.name, path.read_bytes(), "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_with(at: AppTest, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_a_google_forms_export_is_recognised_previewed_and_imported_with_its_saved_mapping(db):
    n_rows = sum(1 for _ in open(FORMS, encoding="utf-8")) - 1
    at = upload(open_page(IMPORT), FORMS)
    profile = [s for s in at.selectbox if s.key and s.key.startswith("im_profile_")][0]
    assert profile.value == "google_forms_checkin"
    kind = [s for s in at.selectbox if s.key and s.key.startswith("im_kind_")][0]
    assert kind.value == "self_reports"
    assert any("All 20 rows checked look fine" in s.value for s in at.success)
    at.button(key="im_go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows read"] == str(n_rows) and metrics["Loaded"] == str(n_rows) and metrics["Rejected"] == "0"
    assert sql(db, "SELECT mapping, inserted FROM raw.imports ORDER BY import_id DESC LIMIT 1") == [
        ("google_forms_checkin", n_rows)
    ]

    again = upload(open_page(IMPORT), FORMS)
    again.button(key="im_go").click()
    again.run()
    metrics = {m.label: m.value for m in again.metric}
    assert metrics["Unchanged"] == str(n_rows) and metrics["Loaded"] == "0"


def test_a_messy_file_shows_its_problems_before_import_and_its_rejects_after(db):
    messy = SAMPLE / "messy" / "visits_messy.csv"
    at = upload(open_page(IMPORT), messy)
    assert any("would be rejected" in w.value for w in at.warning)
    preview = table_with(at, "problems")
    assert "Pain before 12 is outside 0–10" in " ".join(preview["problems"].astype(str))
    at.button(key="im_go").click()
    at.run()
    rejected = int({m.label: m.value for m in at.metric}["Rejected"])
    assert rejected > 0
    rejects = table_with(at, "reason")
    assert rejects["line"].nunique() == rejected
    assert any("Pain before 12 is outside 0–10" in r for r in rejects["reason"])
    assert at.get("download_button")


def test_an_unrecognised_file_asks_for_its_kind_and_suggests_columns(tmp_path, db):
    path = tmp_path / "my_old_sheet.csv"
    path.write_text("Date,Client,Pain before,Pain after,What we did\n14/03/2026,C0001,7,4,TrP\n", encoding="utf-8")
    at = upload(open_page(IMPORT), path)
    kind = [s for s in at.selectbox if s.key and s.key.startswith("im_kind_")][0]
    assert kind.value == "visits"
    mapping = at.data_editor[0].value
    assert dict(zip(mapping["column"], mapping["imports_as"])) == {
        "Date": "visit_date (required)",
        "Client": "client_id (required)",
        "Pain before": "pain_pre",
        "Pain after": "pain_post",
        "What we did": "techniques",
    }  # not left out: every technique would be lost
    # The upload was previewed, not imported: no copy of it is left on disk.
    import tempfile

    assert not list(Path(tempfile.gettempdir()).glob("knotwork-upload-*/my_old_sheet.csv"))


# ---------------------------------------------------------------------------
# Questionnaire change on the client page
# ---------------------------------------------------------------------------


def test_client_page_shows_each_questionnaires_change_in_mcids_with_its_verdict(db):
    from pipelines.clinical.questionnaires import score_questionnaire
    from pipelines.clinical.settings import threshold

    client = "C0027"
    rows = sql(
        db,
        "SELECT instrument, taken_on, " + ", ".join(f"item_{i}" for i in range(1, 21)) + ", total_score "
        "FROM core.outcome_measures WHERE client_id = ? ORDER BY instrument, taken_on",
        [client],
    )
    expected = {}
    for name in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == name]
        first, last = (score_questionnaire(name, list(r[2:22]), r[22]).score for r in (mine[0], mine[-1]))
        better = (last - first) * (1 if name in ("PSFS", "LEFS") else -1)
        expected[name] = better / threshold(None, f"questionnaires.{name}.mcid")
    assert len(expected) >= 2

    at = open_page(PROGRESS, client=client)
    (fig,) = [
        json.loads(el.proto.spec)
        for el in at.get("plotly_chart")
        if "change since the first" in json.loads(el.proto.spec)["layout"]["title"]["text"]
    ]
    got = {}
    for trace in fig["data"]:
        for y, x in zip(trace["y"], decode(trace["x"])):
            got[y.split()[0]] = (x, trace["name"])
    assert set(got) == set(expected)
    for name, ratio in expected.items():
        assert got[name][0] == pytest.approx(ratio)
        verdict = (
            "Important improvement"
            if ratio >= 1 - 1e-9
            else "Important worsening"
            if ratio <= -1
            else "No important change"
        )
        assert got[name][1] == verdict
    caption = " ".join(c.value for c in at.caption)
    assert "MCID 20" in caption and "Young" in caption and "MDC" in caption


def test_a_new_practice_starts_in_the_app_without_the_command_line(tmp_path, monkeypatch):
    db = tmp_path / "fresh" / "practice.duckdb"
    monkeypatch.setenv("KNOTWORK_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.button(key="create_db").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert db.exists()
    at.switch_page(CLIENTS)
    at.run()
    assert at.text_input(key="cl_id_0_new").value == "C0001"
    at.text_input(key="cl_name_0_new").set_value("First Client")
    at.button(key="cl_save").click()
    at.run()
    assert sql(db, "SELECT client_id, display_name FROM core.clients") == [("C0001", "First Client")]
