"""Questionnaire scoring (docs/clinical.md §3), with the arithmetic of each expectation in a comment."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipelines.clinical.questionnaires import (
    Score,
    score_frame,
    score_lefs,
    score_ndi,
    score_odi,
    score_psfs,
    score_questionnaire,
    score_quickdash,
)

# ---------------------------------------------------------------------------
# NDI
# ---------------------------------------------------------------------------


def test_ndi_complete():
    s = score_ndi([1] * 10)  # sum 10 -> 10 / 50 * 100 = 20 %, raw 10 /50 -> "mild" (5-14)
    assert s.score == 20.0
    assert s.raw == 10.0
    assert s.band == "mild"
    assert s.direction == "lower_is_better"
    assert (s.n_answered, s.n_items, s.prorated, s.scorable, s.reason) == (10, 10, False, True, None)


def test_ndi_one_missing_item_uses_the_reduced_denominator():
    # nine answers summing to 16: 16 / (5 * 9) * 100 = 35.56 % (docs/clinical.md §3.1: 16/45 -> 35.5 %)
    s = score_ndi([2, 2, 2, 2, 2, 2, 2, 1, 1, None])
    assert s.score == pytest.approx(35.5556, abs=1e-4)
    assert round(s.score, 2) == 35.56
    # raw /50 with the missing item mean-imputed: 16 / 9 * 10 = 17.78 -> "moderate" (15-24)
    assert s.raw == pytest.approx(17.7778, abs=1e-4)
    assert s.band == "moderate"
    assert s.prorated is True and s.scorable is True
    assert s.n_answered == 9 and s.n_items == 10
    assert "9 of 10" in s.reason


def test_ndi_two_missing_is_not_scorable():
    s = score_ndi([2, 2, 2, 2, 2, 2, 2, 2, None, None])
    assert s.scorable is False
    assert s.score is None and s.band is None and s.raw is None
    assert s.n_answered == 8
    assert s.reason.startswith("not scorable: 8 of 10")


@pytest.mark.parametrize(
    "items,raw,band",
    [
        ([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], 4, "none"),  # 0-4
        ([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], 5, "mild"),  # 5-14
        ([2, 2, 2, 2, 2, 2, 2, 0, 0, 0], 14, "mild"),
        ([3, 3, 3, 3, 3, 0, 0, 0, 0, 0], 15, "moderate"),  # 15-24
        ([5, 5, 5, 5, 5, 5, 4, 0, 0, 0], 34, "severe"),  # 25-34
        ([5, 5, 5, 5, 5, 5, 5, 0, 0, 0], 35, "complete"),  # > 34
    ],
)
def test_ndi_bands_on_raw_50(items, raw, band):
    s = score_ndi(items)
    assert s.raw == raw
    assert s.score == raw * 2
    assert s.band == band


def test_ndi_item_out_of_range_names_the_item():
    with pytest.raises(ValueError, match=r"NDI item_3 = 7 is outside 0-5"):
        score_ndi([1, 1, 7, 1, 1, 1, 1, 1, 1, 1])


def test_ndi_eleventh_item_is_refused():
    with pytest.raises(ValueError, match="item_11"):
        score_ndi([1] * 11)


# ---------------------------------------------------------------------------
# ODI
# ---------------------------------------------------------------------------


def test_odi_complete_and_bands():
    assert score_odi([1] * 10).score == 20.0  # 10 / 50 * 100
    assert score_odi([1] * 10).band == "minimal"  # 0-20
    s = score_odi([3] * 10)  # 30 / 50 * 100 = 60 -> severe (41-60)
    assert (s.score, s.band) == (60.0, "severe")
    assert score_odi([5] * 10).band == "bed-bound"


def test_odi_two_missing_reduces_denominator_by_ten():
    # 8 answers of 2: 16 / (5 * 8) * 100 = 40.0 -> moderate (21-40)
    s = score_odi([2] * 8 + [None, None])
    assert (s.score, s.band, s.prorated) == (40.0, "moderate", True)


def test_odi_three_missing_is_not_scorable():
    s = score_odi([2] * 7 + [None] * 3)
    assert s.scorable is False
    assert s.score is None
    assert "more than 2" in s.reason


# ---------------------------------------------------------------------------
# PSFS
# ---------------------------------------------------------------------------


def test_psfs_mean_of_rated_activities():
    s = score_psfs([4, 6, 5])  # (4 + 6 + 5) / 3 = 5.0
    assert s.score == 5.0
    assert s.direction == "higher_is_better"
    assert (s.n_answered, s.n_items, s.prorated) == (3, 3, False)
    assert s.band is None


def test_psfs_unrated_activity_is_skipped_and_none_rated_is_not_scorable():
    assert score_psfs({"item_1": 2, "item_2": None, "item_3": 7}).score == 4.5  # (2 + 7) / 2
    s = score_psfs([None, None])
    assert s.scorable is False and s.reason.startswith("not scorable")


def test_psfs_at_most_five_activities():
    with pytest.raises(ValueError, match="PSFS has 5 items; item_6"):
        score_psfs([5, 5, 5, 5, 5, 5])


def test_psfs_rating_out_of_range():
    with pytest.raises(ValueError, match=r"PSFS item_2 = 11 is outside 0-10"):
        score_psfs([4, 11])


# ---------------------------------------------------------------------------
# QuickDASH
# ---------------------------------------------------------------------------


def test_quickdash_all_threes_is_fifty():
    s = score_quickdash([3] * 11)  # ((33 / 11) - 1) * 25 = (3 - 1) * 25 = 50
    assert s.score == 50.0
    assert s.prorated is False


def test_quickdash_mixed_items():
    # sum 31 over 11: (31/11 - 1) * 25 = (2.818182 - 1) * 25 = 45.4545
    s = score_quickdash([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1])
    assert s.score == pytest.approx(45.4545, abs=1e-4)


def test_quickdash_one_missing_still_scorable_two_missing_not():
    s = score_quickdash([3] * 10 + [None])  # (30/10 - 1) * 25 = 50
    assert (s.score, s.scorable, s.prorated, s.n_answered) == (50.0, True, True, 10)
    s = score_quickdash([5] * 10 + [None])  # (5 - 1) * 25 = 100
    assert s.score == 100.0
    s = score_quickdash([3] * 9 + [None, None])
    assert s.scorable is False
    assert "at least 10" in s.reason


def test_quickdash_zero_is_out_of_range():
    with pytest.raises(ValueError, match=r"QuickDASH item_1 = 0 is outside 1-5"):
        score_quickdash([0] + [3] * 10)


# ---------------------------------------------------------------------------
# LEFS
# ---------------------------------------------------------------------------


def test_lefs_complete_is_the_sum():
    assert score_lefs([4] * 20).score == 80.0
    s = score_lefs([3] * 10 + [2] * 10)  # 30 + 20 = 50
    assert (s.score, s.prorated, s.reason) == (50.0, False, None)


def test_lefs_eighteen_answered_is_prorated():
    # sum 54 over 18 items: 54 * 20 / 18 = 60.0
    s = score_lefs([3] * 18 + [None, None])
    assert s.score == 60.0
    assert s.prorated is True
    assert s.reason.startswith("prorated: 18 of 20")


def test_lefs_three_missing_is_not_scorable():
    s = score_lefs([3] * 17 + [None] * 3)
    assert s.scorable is False and s.score is None


def test_lefs_half_point_is_not_a_valid_answer():
    with pytest.raises(ValueError, match=r"LEFS item_1 = 2.5 is not a whole number"):
        score_lefs([2.5] + [3] * 19)


# ---------------------------------------------------------------------------
# total_score, names, Score
# ---------------------------------------------------------------------------


def test_total_only_is_accepted_as_is():
    s = score_odi(total_score=34)
    assert (s.score, s.scorable, s.total_only, s.band, s.n_answered) == (34.0, True, True, "moderate", 0)
    assert s.reason.startswith("total only")
    s = score_ndi(total_score=40)  # NDI totals are on the % scale; raw /50 = 20 -> moderate
    assert (s.score, s.raw, s.band) == (40.0, 20.0, "moderate")


def test_total_score_out_of_range_names_it():
    with pytest.raises(ValueError, match="LEFS total_score = 90 is outside 0-80"):
        score_lefs(total_score=90)


def test_items_win_over_a_disagreeing_total():
    s = score_quickdash([3] * 11, total_score=40)
    assert s.score == 50.0
    assert "total_score 40 differs" in s.reason


def test_nothing_answered_is_a_result_not_an_exception():
    s = score_questionnaire("LEFS")
    assert isinstance(s, Score)
    assert s.scorable is False and s.reason == "not scorable: no item responses and no total_score"


def test_instrument_aliases_and_unknown_names():
    assert score_questionnaire("quick dash", [3] * 11).instrument == "QuickDASH"
    assert score_questionnaire("oswestry", [1] * 10).instrument == "ODI"
    with pytest.raises(ValueError, match="unknown questionnaire"):
        score_questionnaire("SF-36", [1])


def test_mapping_and_blank_strings():
    s = score_ndi({"item_1": "2", "item_2": " ", **{f"item_{i}": 2 for i in range(3, 11)}})
    # item_2 blank -> 9 answered, sum 18: 18 / 45 * 100 = 40.0
    assert (s.score, s.n_answered) == (40.0, 9)


# ---------------------------------------------------------------------------
# score_frame
# ---------------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    rows = [
        ("c1", "2026-01-05", "NDI", [2, 2, 2, 2, 2, 2, 2, 1, 1, None], None),
        ("c1", "2026-02-05", "NDI", [2] * 8 + [None, None], None),
        ("c2", "2026-01-06", "QuickDASH", [3] * 11, None),
        ("c2", "2026-02-06", "quick dash", [3] * 10 + [None], None),
        ("c3", "2026-01-07", "LEFS", [3] * 18 + [None, None], None),
        ("c4", "2026-01-08", "PSFS", [4, 6, 5], None),
        ("c5", "2026-01-09", "ODI", [], 34),
        ("c5", "2026-02-09", "ODI", [2] * 7, None),
        ("c6", "2026-01-10", "LEFS", [], None),
    ]
    records = []
    for client, taken, inst, items, total in rows:
        record = {"client_id": client, "taken_on": taken, "instrument": inst, "total_score": total}
        for i in range(1, 21):
            record[f"item_{i}"] = items[i - 1] if i <= len(items) else None
        records.append(record)
    return pd.DataFrame.from_records(records, index=pd.RangeIndex(100, 100 + len(records)))


def test_score_frame_matches_hand_values():
    out = score_frame(_frame())
    assert list(out.index) == list(range(100, 109))
    assert out["instrument"].tolist() == ["NDI", "NDI", "QuickDASH", "QuickDASH", "LEFS", "PSFS", "ODI", "ODI", "LEFS"]
    np.testing.assert_allclose(
        out["score"].to_numpy(), [35.555556, np.nan, 50.0, 50.0, 60.0, 5.0, 34.0, np.nan, np.nan], atol=1e-6
    )
    assert out["scorable"].tolist() == [True, False, True, True, True, True, True, False, False]
    assert out["prorated"].tolist() == [True, False, False, True, True, False, False, False, False]
    assert out["total_only"].tolist() == [False, False, False, False, False, False, True, False, False]
    assert out["band"].tolist() == ["moderate", None, None, None, None, None, "moderate", None, None]
    assert out["n_answered"].tolist() == [9, 8, 11, 10, 18, 3, 0, 7, 0]
    assert out["raw"].iloc[0] == pytest.approx(17.777778, abs=1e-6)
    assert out.loc[100, "client_id"] == "c1" and out.loc[104, "taken_on"] == "2026-01-07"


def test_score_frame_agrees_with_score_questionnaire_row_by_row():
    df = _frame()
    out = score_frame(df)
    for label, row in df.iterrows():
        items = [row[f"item_{i}"] for i in range(1, 21)]
        n = {"NDI": 10, "ODI": 10, "QuickDASH": 11, "quick dash": 11, "LEFS": 20, "PSFS": 5}[row["instrument"]]
        expected = score_questionnaire(row["instrument"], items[:n], row["total_score"])
        got = out.loc[label]
        assert got["reason"] == expected.reason
        assert got["scorable"] == expected.scorable
        assert got["n_items"] == expected.n_items
        if expected.score is None:
            assert math.isnan(got["score"])
        else:
            assert got["score"] == pytest.approx(expected.score)


def test_score_frame_out_of_range_raises_or_marks():
    df = _frame()
    df.loc[102, "item_4"] = 9
    with pytest.raises(ValueError, match=r"row 102: QuickDASH item_4 = 9 is outside 1-5"):
        score_frame(df)
    out = score_frame(df, errors="mark")
    assert out.loc[102, "scorable"] == False  # noqa: E712 (numpy bool)
    assert out.loc[102, "reason"] == "not scorable: QuickDASH item_4 = 9 is outside 1-5"
    assert out.loc[103, "score"] == 50.0  # other rows unaffected


def test_score_frame_without_item_columns():
    df = pd.DataFrame({"client_id": ["a"], "taken_on": ["2026-03-01"], "instrument": ["LEFS"], "total_score": [55]})
    out = score_frame(df)
    assert (out.loc[0, "score"], bool(out.loc[0, "total_only"])) == (55.0, True)
