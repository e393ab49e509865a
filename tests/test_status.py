"""The robust current pain status (pipelines/clinical/status.py): one rule for every surface."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.clinical.change import PAIN_CLINICALLY_IMPORTANT, PAIN_NO_CHANGE, PAIN_SOME, PAIN_WORSE
from pipelines.clinical.status import CHECK_IN, FLARE_UP, GOOD_DAY, current_status, fmt, latest_words, readings_from

START = dt.date(2026, 1, 5)


def one_client(pains: list[float | None], checkins: dict[int, float] | None = None, client: str = "c1"):
    """Weekly visits with these pain scores before the visit; check-ins {day offset: pain}."""
    visits = pd.DataFrame(
        {
            "client_id": client,
            "visit_date": [START + dt.timedelta(days=7 * i) for i in range(len(pains))],
            "pain_pre": pains,
        }
    )
    reports = pd.DataFrame(
        {
            "client_id": client,
            "reported_at": [pd.Timestamp(START) + pd.Timedelta(days=d, hours=9) for d in (checkins or {})],
            "pain": list((checkins or {}).values()),
        }
    )
    readings = readings_from(visits, reports)
    with_pain = visits[visits["pain_pre"].notna()]
    baselines = pd.DataFrame(
        {
            "client_id": [client],
            "baseline": [with_pain["pain_pre"].iloc[0] if len(with_pain) else None],
            "baseline_date": [with_pain["visit_date"].iloc[0] if len(with_pain) else None],
        }
    )
    return current_status(readings, baselines).iloc[0]


def test_a_single_flare_up_after_sustained_improvement_stays_improved_and_is_named():
    row = one_client([7, 5, 3, 2, 3, 2, 3, 6])
    assert row["status"] == PAIN_CLINICALLY_IMPORTANT
    assert row["level"] == 3 and row["n_level"] == 3
    assert row["latest"] == 6 and row["latest_vs_usual"] == FLARE_UP
    words = latest_words(row, today=START + dt.timedelta(days=49), whose="her")
    assert words == "6 today (before the visit), above her usual 2–3: a flare-up"


def test_the_old_rule_would_have_flipped_on_that_one_day():
    from pipelines.clinical.change import pain_status

    assert pain_status(7, 6) != PAIN_CLINICALLY_IMPORTANT  # the single latest reading: not important


def test_a_persistent_rise_is_worse():
    row = one_client([4, 3, 3, 6, 6])
    assert row["persistent_rise"]
    assert row["status"] == PAIN_WORSE


def test_one_high_reading_inside_measurement_error_is_not_worse():
    # 4 -> 5.5 at the second visit: up 1.5, less than the reliable change for single readings (2.83).
    row = one_client([4, 5.5])
    assert row["status"] == PAIN_NO_CHANGE
    assert row["reliable_change"] == pytest.approx(1.96 * 1.02 * 2**0.5)
    # Up by more than the reliable change at once: worse even from one reading.
    assert one_client([3, 6])["status"] == PAIN_WORSE


def test_important_but_within_measurement_error_is_some_improvement():
    # 5 -> 3: 2 points and 40 % (Farrar), but one reading: 2 < 2.83 is inside measurement error.
    row = one_client([5, 3])
    assert row["status"] == PAIN_SOME and not row["reliable"]


def test_check_ins_count_toward_the_level_and_a_good_day_is_named():
    row = one_client([8, 4], checkins={9: 4, 11: 3, 12: 1})
    assert row["level"] == 3  # median of the last three: 4 (check-in), 3, 1
    assert row["latest_source"] == CHECK_IN and row["latest_vs_usual"] == GOOD_DAY
    assert "below the client's usual 3–4: a good day" in latest_words(row)


def test_interval_is_honest_and_within_the_scale():
    row = one_client([6, 1, 0, 0])
    assert row["level"] == 0
    assert row["level_low"] == 0 and row["level_high"] == pytest.approx(1.96 * 1.02 * 0.4487**0.5)


@pytest.mark.parametrize(
    "pains, checkins, says",
    [
        ([6], None, "Only one pain score so far"),
        ([None, None], None, "No pain scores"),
        ([None], {3: 5, 4: 4}, "Only the client's own check-ins"),
    ],
)
def test_missing_data_is_said_plainly(pains, checkins, says):
    row = one_client(pains, checkins)
    assert row["status"] is None
    assert says in row["missing"]
    for text in (fmt(row["level"]), fmt(row["change"]), str(row["missing"])):
        assert "nan" not in text.lower() and "None" not in text and "-0" not in text


def test_many_clients_at_once_give_the_same_rows_as_one_at_a_time():
    a = one_client([7, 5, 3, 2, 3, 2, 3, 6], client="a")
    b = one_client([4, 3, 3, 6, 6], client="b")
    readings = pd.concat(
        [
            readings_from(
                pd.DataFrame(
                    {
                        "client_id": c,
                        "visit_date": [START + dt.timedelta(days=7 * i) for i in range(len(p))],
                        "pain_pre": p,
                    }
                )
            )
            for c, p in (("a", [7, 5, 3, 2, 3, 2, 3, 6]), ("b", [4, 3, 3, 6, 6]))
        ]
    )
    both = current_status(
        readings, pd.DataFrame({"client_id": ["a", "b"], "baseline": [7.0, 4.0], "baseline_date": [START, START]})
    ).set_index("client_id")
    assert both.loc["a", "status"] == a["status"] and both.loc["a", "level"] == a["level"]
    assert both.loc["b", "status"] == b["status"] and both.loc["b", "latest"] == b["latest"]


def test_fmt_never_shows_minus_zero_or_nan():
    assert fmt(-0.0) == "0" and fmt(-0.04) == "0" and fmt(float("nan")) == "—" and fmt(None) == "—"
    assert fmt(2.5) == "2.5" and fmt(7) == "7"
