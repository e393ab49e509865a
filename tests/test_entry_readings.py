"""Log a visit asks about a ROM reading far from last time's before storing it (a key lost while
typing fast turns "52" into "2"), and stores it once the therapist confirms."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.entry.readings import doubtful_readings, last_readings
from tests.test_data_entry_apptest import CLIENT, add_row, counts, db, fill_visit, gen, log_page, save, sql  # noqa: F401 (db: fixture)

pytestmark = pytest.mark.usefixtures("clean_streamlit_caches")


def _last(db, client=CLIENT):
    return sql(
        db,
        """SELECT r.joint, r.movement, r.side, r.degrees FROM core.rom r JOIN core.visits v USING (visit_id)
                      WHERE v.client_id = ? ORDER BY v.visit_date DESC, v.visit_id DESC, r.timing = 'post' DESC
                      LIMIT 1""",
        [client],
    )[0]


def test_a_reading_under_half_of_last_time_is_named_with_last_times_value(sample_db_copy):
    joint, movement, side, degrees = _last(sample_db_copy)
    last = last_readings(CLIENT, sample_db_copy)
    assert last[(joint, movement, side)][0] == degrees
    lost_digit = float(str(int(degrees))[1:] or 0)  # "44" typed fast arrives as "4"
    doubts = doubtful_readings(
        [
            {"joint": joint, "movement": movement, "side": side, "degrees_pre": lost_digit},
            {"joint": joint, "movement": movement, "side": side, "degrees_post": degrees + 3},
        ],
        last,
    )
    assert [d.row for d in doubts] == [1]
    assert (
        f"before: {lost_digit:g}°, last visit" in doubts[0].message
        and f"{degrees:g}°: is that right?" in doubts[0].message
    )
    assert doubtful_readings(
        [{"joint": "tmj", "movement": "mouth_opening", "side": "none", "degrees_pre": 8}],
        {("tmj", "mouth_opening", "none"): (38.0, dt.date(2026, 3, 3))},
    )[0].message.startswith("Tmj mouth opening before: 8mm, last visit (03 Mar 2026) 38mm")


def test_the_form_asks_before_storing_and_saves_once_confirmed(db):
    joint, movement, side, degrees = _last(db)
    before = counts(db)
    at = log_page()
    add_row(at, joint=joint, movement=movement, side=side, degrees_pre=2)
    fill_visit(at)
    save(at)
    asked = [w.value for w in at.warning if "is that right?" in w.value]
    assert len(asked) == 1 and "last visit" in asked[0] and f"{degrees:g}°" in asked[0], [w.value for w in at.warning]
    assert counts(db) == before  # nothing stored yet
    at.checkbox(key=f"lv_readings_ok_{gen(at)}").check()
    save(at)
    assert any("Saved the visit" in s.value for s in at.success), [s.value for s in at.success]
    assert sql(
        db,
        "SELECT r.degrees FROM core.rom r JOIN core.visits v USING (visit_id) WHERE v.client_id = ? "
        "AND v.visit_date = current_date AND r.joint = ? AND r.movement = ?",
        [CLIENT, joint, movement],
    ) == [(2.0,)]


def test_the_technique_and_muscle_pickers_offer_no_select_all_matches(db):
    """Typing "stretch" + Enter must add one technique, not every match ("Select 2 matches")."""
    at = log_page()
    for key in (f"lv_techniques_{gen(at)}", f"lv_focus_{gen(at)}"):
        assert at.multiselect(key=key).proto.select_all == 0  # 0 = the bulk action is never shown
