"""Clinical change calculations, checked against values worked out by hand.

The arithmetic of every expected value is in the comment next to it, so a reviewer can
check the test without running the code.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipelines.clinical.change import (
    CATEGORIES,
    classify_change,
    jt_cutoff_c,
    pain_change,
    pain_status,
    pct_change,
    pct_of_normal,
    reliable_change_index,
    reliable_change_threshold,
    rom_change_is_real,
    rom_mdc,
    rom_norm,
    standard_error_of_measurement,
)
from pipelines.clinical.settings import default_settings

# ---------------------------------------------------------------------------
# Jacobson & Truax
# ---------------------------------------------------------------------------


def test_jt_worked_example_pre30_post18():
    # SE = 7.5 * sqrt(1 - 0.8) = 7.5 * 0.447214 = 3.354102
    # S_diff = sqrt(2) * 3.354102 = 4.743416
    # RCI = (18 - 30) / 4.743416 = -2.529822  -> |RCI| > 1.96, negative = better (lower is better)
    assert standard_error_of_measurement(7.5, 0.8) == pytest.approx(3.354102, abs=1e-6)
    assert reliable_change_index(30, 18, sd=7.5, reliability=0.8) == pytest.approx(-2.529822, abs=1e-6)
    assert classify_change(30, 18, sd=7.5, reliability=0.8) == "improved"
    # 1.96 * 4.743416 = 9.297 points is the smallest reliable change
    assert reliable_change_threshold(7.5, 0.8) == pytest.approx(9.297096, abs=1e-5)


def test_jt_small_change_is_unchanged_and_large_rise_deteriorated():
    # 30 -> 22: RCI = -8 / 4.743416 = -1.6865 -> within noise
    assert classify_change(30, 22, sd=7.5, reliability=0.8) == "unchanged"
    # 30 -> 40: RCI = +10 / 4.743416 = +2.108 -> reliable worsening
    assert classify_change(30, 40, sd=7.5, reliability=0.8) == "deteriorated"


def test_jt_cutoff_c_formula():
    # c = (SD_clin*M_fun + SD_fun*M_clin) / (SD_clin + SD_fun) = (7.5*10 + 5*30) / 12.5 = 225 / 12.5 = 18
    assert jt_cutoff_c(30, 7.5, 10, 5) == pytest.approx(18.0)


def test_jt_recovered_needs_reliable_change_and_crossing_c():
    kwargs = dict(sd=7.5, reliability=0.8, functional_mean=10, functional_sd=5)
    # single pair: M_clin = pre = 30, SD_clin = sd = 7.5 -> c = 18 (above)
    # 30 -> 17: RCI = -13 / 4.743416 = -2.74 (reliable) and 17 < 18 -> recovered
    assert classify_change(30, 17, **kwargs) == "recovered"
    # 30 -> 18: reliable, but 18 is on c, not past it -> only improved
    assert classify_change(30, 18, **kwargs) == "improved"
    # clinical_mean given: c = (7.5*10 + 5*40) / 12.5 = 22 -> 30 -> 20 is reliable (RCI -2.11) and past 22
    assert classify_change(30, 20, clinical_mean=40, **kwargs) == "recovered"
    # crossing c without a reliable change is not recovery: c = 22, 30 -> 21.5, RCI = -8.5/4.743 = -1.79
    assert classify_change(30, 21.5, clinical_mean=40, **kwargs) == "unchanged"


def test_jt_higher_is_better_flips_the_sign():
    # PSFS-like: SE = 2 * sqrt(0.2) = 0.894427, S_diff = 1.264911
    # 3 -> 7: (7 - 3) / 1.264911 = 3.162 -> flipped to -3.162 = improvement
    assert reliable_change_index(3, 7, sd=2, reliability=0.8, higher_is_better=True) == pytest.approx(
        -3.162278, abs=1e-6
    )
    assert classify_change(3, 7, sd=2, reliability=0.8, higher_is_better=True) == "improved"
    assert classify_change(7, 3, sd=2, reliability=0.8, higher_is_better=True) == "deteriorated"
    # functional side is above c when higher is better: c = (2*9 + 1*3)/(2+1) = 7; 3 -> 8 recovered, 3 -> 7 not
    kwargs = dict(sd=2, reliability=0.8, higher_is_better=True, functional_mean=9, functional_sd=1)
    assert classify_change(3, 8, **kwargs) == "recovered"
    assert classify_change(3, 7, **kwargs) == "improved"


def test_jt_vector_sd_defaults_to_sd_of_pre():
    pre = [30, 20, 25, 35]
    post = [16, 19, 35, 26]
    # mean(pre) = 27.5; deviations 2.5, -7.5, -2.5, 7.5; SS = 125; sd = sqrt(125/3) = 6.454972
    # SE = 6.454972 * 0.447214 = 2.886751; S_diff = 4.082483
    # RCI: -14/4.0825 = -3.429, -1/4.0825 = -0.245, +10/4.0825 = +2.449, -9/4.0825 = -2.205
    rci = reliable_change_index(pre, post, reliability=0.8)
    np.testing.assert_allclose(rci, [-3.429286, -0.244949, 2.449490, -2.204541], atol=1e-6)
    # c = (6.454972*10 + 5*27.5) / (6.454972 + 5) = 202.04972 / 11.454972 = 17.6386
    # 16 < 17.64 -> recovered; 26 is reliable but not past c -> improved
    out = classify_change(pre, post, reliability=0.8, functional_mean=10, functional_sd=5)
    assert isinstance(out, np.ndarray)
    assert out.tolist() == ["recovered", "unchanged", "deteriorated", "improved"]


def test_jt_nan_pairs_are_none_and_do_not_enter_the_sd():
    pre = pd.Series([30, 20, 25, 35, np.nan], index=[10, 11, 12, 13, 14])
    post = pd.Series([16, 19, 35, np.nan, 20], index=[10, 11, 12, 13, 14])
    out = classify_change(pre, post, reliability=0.8)
    # sd from the four non-missing baselines = 6.454972 as above
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out.tolist() == ["improved", "unchanged", "deteriorated", None, None]


def test_jt_single_pair_without_sd_is_an_error():
    with pytest.raises(ValueError, match="sd cannot be estimated"):
        classify_change(30, 18, reliability=0.8)


# ---------------------------------------------------------------------------
# Anchor-based (MID) and percentage
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pre,post,expected",
    [
        (7, 4, "improved"),  # 3 points better >= 2
        (7, 5, "improved"),  # exactly 2 points
        (7, 6, "unchanged"),  # 1 point
        (4, 7, "deteriorated"),  # 3 points worse >= 2
        (4, 5.5, "unchanged"),  # 1.5 points worse
    ],
)
def test_anchor_mid(pre, post, expected):
    assert classify_change(pre, post, mid=2) == expected


def test_anchor_higher_is_better():
    # LEFS, MCID 9: 40 -> 50 is +10 better; 40 -> 32 is 8 worse (< 9); 40 -> 30 is 10 worse
    assert classify_change(40, 50, mid=9, higher_is_better=True) == "improved"
    assert classify_change(40, 32, mid=9, higher_is_better=True) == "unchanged"
    assert classify_change(40, 30, mid=9, higher_is_better=True) == "deteriorated"


def test_pct_rule():
    # 10 -> 7 = 30 % better exactly; 10 -> 7.5 = 25 %; 7 -> 4.9 = 2.1/7 = 30 % (float-safe)
    assert classify_change(10, 7, pct=30) == "improved"
    assert classify_change(10, 7.5, pct=30) == "unchanged"
    assert classify_change(7, 4.9, pct=30) == "improved"
    # 5 -> 6.5 = 30 % worse
    assert classify_change(5, 6.5, pct=30) == "deteriorated"


def test_pct_with_zero_baseline_sees_any_change():
    # any change from 0 is an unbounded percentage, so a rise from 0 can deteriorate
    assert classify_change(0, 5, pct=30) == "deteriorated"
    assert classify_change(0, 5, pct=30, mid=2) == "deteriorated"
    assert classify_change(0, 5, mid=2) == "deteriorated"


@pytest.mark.parametrize(
    "pre,post,expected",
    [
        (10, 7, "improved"),  # 3 points and 30 %
        (10, 8, "unchanged"),  # 2 points but only 20 %
        (4, 2.5, "unchanged"),  # 37.5 % but only 1.5 points
        (4, 2, "improved"),  # 2 points and 50 %
        (5, 8, "deteriorated"),  # 3 points and 60 % worse
        (8, 10, "unchanged"),  # 2 points but 25 % worse
    ],
)
def test_mid_and_pct_both_must_hold(pre, post, expected):
    assert classify_change(pre, post, mid=2, pct=30) == expected


def test_vector_inputs_keep_shape_and_index():
    arr = classify_change([7, 7, 4, np.nan], [4, 6, 7, 2], mid=2)
    assert isinstance(arr, np.ndarray)
    assert arr.tolist() == ["improved", "unchanged", "deteriorated", None]

    pre = pd.Series([7, 7, 4, None], index=["a", "b", "c", "d"])
    post = pd.Series([4, 6, 7, 2], index=["a", "b", "c", "d"])
    ser = classify_change(pre, post, mid=2, pct=30)
    assert isinstance(ser, pd.Series)
    assert list(ser.index) == ["a", "b", "c", "d"]
    assert ser.tolist() == ["improved", "unchanged", "deteriorated", None]
    assert ser.isna().tolist() == [False, False, False, True]


def test_scalar_nan_gives_none():
    assert classify_change(float("nan"), 3, mid=2) is None
    assert classify_change(5, None, mid=2) is None


def test_every_category_is_one_of_the_four():
    out = classify_change(
        [30, 30, 30, 30], [10, 25, 45, 19], sd=7.5, reliability=0.8, functional_mean=10, functional_sd=5
    )
    assert set(out) <= set(CATEGORIES)


def test_mismatched_series_indexes_are_refused():
    with pytest.raises(ValueError, match="different indexes"):
        classify_change(pd.Series([1, 2], index=[0, 1]), pd.Series([1, 2], index=[1, 2]), mid=1)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({}, "choose a method"),
        ({"mid": 2, "reliability": 0.8}, "not both"),
        ({"pct": 30, "reliability": 0.8, "sd": 2}, "not both"),
        ({"mid": 2, "sd": 3}, "only apply to the Jacobson"),
        ({"reliability": 0.8, "sd": 3, "functional_mean": 5}, "together"),
        ({"reliability": 1.0, "sd": 3}, r"reliability must be in \[0, 1\)"),
        ({"mid": -1}, "mid must be > 0"),
        ({"pct": 0}, "pct must be > 0"),
        ({"reliability": 0.8, "sd": 0}, "sd must be > 0"),
    ],
)
def test_method_selection_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        classify_change(7, 4, **kwargs)


# ---------------------------------------------------------------------------
# Pain helpers
# ---------------------------------------------------------------------------


def test_pain_change_and_pct_change():
    assert pain_change(7, 4) == -3.0  # post - pre, negative = relief
    assert pct_change(8, 6) == -25.0  # (6 - 8) / 8 * 100
    assert pct_change(4, 5) == 25.0
    assert math.isnan(pct_change(0, 3))  # no % of 0, and never inf
    out = pct_change(np.array([0, 10, np.nan]), np.array([0, 5, 3]))
    assert np.isnan(out[0]) and out[1] == -50.0 and np.isnan(out[2])
    assert not np.isinf(out).any()


@pytest.mark.parametrize(
    "baseline,current,expected",
    [
        (7, 4, "clinically important improvement"),  # -3 points, -42.9 %
        (10, 7, "clinically important improvement"),  # -3, -30 % exactly
        (8, 6, "some improvement"),  # -2 points but only -25 %
        (3, 1.5, "some improvement"),  # -50 % but only -1.5 points
        (10, 8.5, "some improvement"),  # -1.5 points / -15 %
        (2, 1.5, "some improvement"),  # -0.5 point but -25 % >= 15 %
        (10, 9.5, "no important change"),  # -0.5 point, -5 %
        (5, 5.5, "no important change"),  # +0.5
        (5, 6, "worse"),  # +1 point
        (0, 0, "no important change"),
        (0, 1, "worse"),
    ],
)
def test_pain_status_defaults(baseline, current, expected):
    assert pain_status(baseline, current) == expected


def test_pain_status_missing_and_vector():
    assert pain_status(float("nan"), 3) is None
    s = pain_status(pd.Series([7, 8, 5, None], index=[3, 4, 5, 6]), pd.Series([4, 6, 6, 2], index=[3, 4, 5, 6]))
    assert s.tolist() == ["clinically important improvement", "some improvement", "worse", None]
    assert list(s.index) == [3, 4, 5, 6]


def test_pain_status_follows_settings():
    settings = default_settings()
    settings["pain"]["mcid_points"] = 3.0
    # 7 -> 5: 2 points (28.6 %) is no longer clinically important with a 3-point rule
    assert pain_status(7, 5) == "some improvement"  # default: 2 points but 28.6 % < 30 %
    assert pain_status(7, 4, settings) == "clinically important improvement"  # 3 points, 42.9 %
    assert pain_status(6, 4, settings) == "some improvement"  # 2 points, 33 %: default would say important
    assert pain_status(6, 4) == "clinically important improvement"


# ---------------------------------------------------------------------------
# Range of motion
# ---------------------------------------------------------------------------


def test_rom_mdc_defaults():
    assert rom_mdc("goniometer", "knee") == 5.0  # same rater, extremity, goniometer (Boone 1978)
    assert rom_mdc("goniometer", "knee", same_rater=False) == 10.0
    assert rom_mdc("crom", "cervical") == 10.0
    assert rom_mdc("goniometer", "lumbar") == 10.0  # spine
    assert rom_mdc("inclinometer", "shoulder") == 10.0  # only the goniometer has the 5 degree evidence
    assert rom_mdc(None, "knee") == 10.0
    assert rom_mdc("Gonio", "glenohumeral") == 5.0  # aliases resolve through the vocabularies


@pytest.mark.parametrize(
    "change,instrument,joint,same_rater,expected",
    [
        (4, "goniometer", "knee", True, False),
        (5, "goniometer", "knee", True, True),
        (-6, "goniometer", "elbow", True, True),  # either sign
        (8, "goniometer", "knee", False, False),  # different raters: 10 degrees
        (9.5, "crom", "neck", True, False),
        (10, "crom", "neck", True, True),
        (7, "visual", "shoulder", True, False),
    ],
)
def test_rom_change_is_real(change, instrument, joint, same_rater, expected):
    assert rom_change_is_real(change, instrument, joint, same_rater=same_rater) is expected


def test_rom_change_is_real_vector_and_settings():
    out = rom_change_is_real(np.array([3, 5, np.nan]), "goniometer", "knee")
    assert out.tolist() == [False, True, False]
    settings = default_settings()
    settings["rom"]["mdc_same_rater_extremity_goniometer"] = 4.0
    assert rom_change_is_real(4, "goniometer", "knee", settings=settings) is True


def test_pct_of_normal():
    assert pct_of_normal(45, "cervical", "rotation") == 75.0  # 45 / 60 (AAOS) * 100
    assert pct_of_normal(90, "shoulder", "flexion") == 50.0  # 90 / 180
    assert pct_of_normal(45, "neck", "turning") == 75.0  # aliases
    assert math.isnan(pct_of_normal(10, "elbow", "extension"))  # norm is 0 degrees
    assert math.isnan(pct_of_normal(100, "knee", "extension"))  # no norm in ROM_NORMS
    s = pct_of_normal(pd.Series([36.0, None], index=["v1", "v2"]), "lumbar", "flexion")
    assert s.loc["v1"] == pytest.approx(50.0)  # 36 / 72 (Troke)
    assert math.isnan(s.loc["v2"])
    assert "Troke" in rom_norm("lumbar", "flexion").source
