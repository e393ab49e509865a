"""Log a visit's rows of readings (other movements, trigger points) and a questionnaire's total, driven
with AppTest: rows are added and removed with their buttons, each value is its own input, what is
saved is what was typed, and an NDI total is stored on one scale whichever scale it was typed on."""

from __future__ import annotations

import pytest

from tests.test_data_entry_apptest import CLIENT, TODAY, add_row, counts, db, fill_visit, gen, log_page, save, sql  # noqa: F401 (db: fixture)

pytestmark = pytest.mark.usefixtures("clean_streamlit_caches")


def _saved_points(db):
    return sql(
        db,
        "SELECT t.muscle, t.side, t.tenderness, t.released FROM core.trigger_points t JOIN core.visits v "
        "USING (visit_id) WHERE v.client_id = ? AND v.visit_date = ? ORDER BY t.muscle",
        [CLIENT, TODAY],
    )


def test_trigger_point_rows_added_and_one_removed_save_exactly_the_rows_left(db):
    at = log_page()
    add_row(at, "tp", muscle="upper_trapezius", side="left", tenderness=7.5, released="yes")
    add_row(at, "tp", muscle="masseter", side="right", tenderness=4.0)
    add_row(at, "tp", muscle="piriformis", side="left", tenderness=6.0, released="partial")
    prefix = f"lv_{gen(at)}_{CLIENT}"
    second = at.session_state[f"{prefix}_tp_ids"][1]
    at.button(key=f"{prefix}_tp_remove_{second}").click()
    at.run()
    # The third row keeps what was typed into it after the second is removed.
    third = at.session_state[f"{prefix}_tp_ids"][1]
    assert at.number_input(key=f"{prefix}_tp_{third}_tenderness").value == 6.0
    fill_visit(at)
    save(at)
    assert any("Saved the visit" in s.value for s in at.success), [e.value for e in at.error]
    assert _saved_points(db) == [("piriformis", "left", 6.0, "partial"), ("upper_trapezius", "left", 7.5, "yes")]


def test_a_refused_save_keeps_every_row_and_names_the_row_and_field(db):
    before = counts(db)
    at = log_page()
    add_row(at, "tp", muscle="masseter", side="left", tenderness=14.0)
    add_row(at, joint="cervical", movement="rotation", side="left", degrees_pre=52, degrees_post=61)
    fill_visit(at)
    save(at)
    errors = [e.value for e in at.error]
    assert any("Trigger point row 1, tenderness: 14 is outside 0–10" in e for e in errors), errors
    assert counts(db) == before
    prefix = f"lv_{gen(at)}_{CLIENT}"
    (rom_id,) = at.session_state[f"{prefix}_rom_ids"]
    assert at.number_input(key=f"{prefix}_rom_{rom_id}_degrees_pre").value == 52.0
    (tp_id,) = at.session_state[f"{prefix}_tp_ids"]
    at.number_input(key=f"{prefix}_tp_{tp_id}_tenderness").set_value(4.0)
    save(at)
    assert _saved_points(db) == [("masseter", "left", 4.0, None)]


def test_an_edited_visit_starts_with_its_own_rows(db):
    at = log_page()
    add_row(at, "tp", muscle="masseter", side="left", tenderness=5.0)
    add_row(at, joint="tmj", movement="mouth_opening", side="none", degrees_pre=31, degrees_post=38)
    fill_visit(at)
    save(at)
    vid = f"{CLIENT}-{TODAY:%Y%m%d}"
    at = log_page()
    at.selectbox(key="lv_edit_pick").set_value(vid)
    at.run()
    prefix = f"lv_{gen(at)}_{CLIENT}"
    (tp_id,) = at.session_state[f"{prefix}_tp_ids"]
    assert at.selectbox(key=f"{prefix}_tp_{tp_id}_muscle").value == "masseter"
    assert at.number_input(key=f"{prefix}_tp_{tp_id}_tenderness").value == 5.0
    (rom_id,) = at.session_state[f"{prefix}_rom_ids"]
    assert at.number_input(key=f"{prefix}_rom_{rom_id}_degrees_post").value == 38.0
    at.number_input(key=f"{prefix}_tp_{tp_id}_tenderness").set_value(3.0)
    save(at)
    assert any("Updated" in s.value for s in at.success)
    assert _saved_points(db) == [("masseter", "left", 3.0, None)]
    assert not any("Session State" in w.value for w in at.warning)


@pytest.mark.parametrize("scale, typed, stored", [("points", 24.0, 48.0), ("percent", 48.0, 48.0)])
def test_an_ndi_total_asks_its_scale_and_is_stored_as_the_percentage(db, scale, typed, stored):
    at = log_page()
    at.number_input(key="lv_q_total_NDI_0").set_value(typed)
    at.button(key="lv_q_save").click()
    at.run()
    assert any("0–50 points or 0–100 %" in e.value for e in at.error), [e.value for e in at.error]
    assert sql(db, "SELECT count(*) FROM core.outcome_measures WHERE taken_on = ?", [TODAY]) == [(0,)]
    assert at.number_input(key="lv_q_total_NDI_0").value == typed  # kept for the second try
    at.radio(key="lv_q_scale_NDI_0").set_value(scale)
    at.button(key="lv_q_save").click()
    at.run()
    assert any("Saved NDI" in s.value and f"score {stored:.1f}" in s.value for s in at.success), [
        s.value for s in at.success
    ]
    assert sql(
        db,
        "SELECT total_score FROM core.outcome_measures WHERE client_id = ? AND taken_on = ? AND instrument = 'NDI'",
        [CLIENT, TODAY],
    ) == [(stored,)]
