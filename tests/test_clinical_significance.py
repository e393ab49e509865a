"""classify_change as published: Jacobson & Truax (1991) and the R package clinicalsignificance.

The package's published results on the claus_2020 trial data (its README and test snapshots)
are reproduced from the data file beside the checkout; the file is GPL-licensed package data,
so it is read from there and never copied into this repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.clinical import HARMED, classify_change
from pipelines.clinical.change import classify_change_hlm, jt_cutoff

# ../shared/reference/data/ beside the checkout (one level further up from a git worktree)
CLAUS_CANDIDATES = [Path(__file__).resolve().parents[n] / "shared/reference/data/claus-2020.xlsx" for n in (2, 3)]
CLAUS = next((p for p in CLAUS_CANDIDATES if p.exists()), CLAUS_CANDIDATES[0])


@pytest.fixture(scope="module")
def claus() -> pd.DataFrame:
    if not CLAUS.exists():
        pytest.skip(f"claus-2020.xlsx (the R package clinicalsignificance's data) is not beside the checkout: {CLAUS}")
    return pd.read_excel(CLAUS)


def _counts(categories) -> dict[str, int]:
    counts = pd.Series(categories).value_counts().to_dict()
    return {k: counts.get(k, 0) for k in ("recovered", "improved", "unchanged", "deteriorated", "harmed")}


# (instrument, reliability, functional mean, functional SD, method) -> published counts, pre 1 -> post 4
PUBLISHED = [
    ("HAMD", 0.80, None, None, "JT", {"improved": 29, "unchanged": 10, "deteriorated": 1}),
    ("HAMD", 0.80, 8, 8, "JT", {"recovered": 26, "improved": 3, "unchanged": 10, "deteriorated": 1, "harmed": 0}),
    ("HAMD", 0.80, 8, 8, "EN", {"recovered": 26, "improved": 6, "unchanged": 5, "deteriorated": 3, "harmed": 0}),
    ("BDI", 0.801, None, None, "JT", {"improved": 18, "unchanged": 22, "deteriorated": 0}),  # 45 % / 55 % of 40
    ("BDI", 0.801, 7.69, 7.52, "JT", {"recovered": 10, "improved": 8, "unchanged": 22}),  # 25 % / 20 % / 55 %
]


@pytest.mark.parametrize("instrument,reliability,m_fun,sd_fun,method,expected", PUBLISHED)
def test_reproduces_the_published_clinicalsignificance_results(
    claus, instrument, reliability, m_fun, sd_fun, method, expected
):
    pre, post = claus[f"{instrument}1.total"], claus[f"{instrument}4.total"]
    out = classify_change(
        pre, post, reliability=reliability, functional_mean=m_fun, functional_sd=sd_fun, method=method
    )
    counts = _counts(out)
    assert {k: counts[k] for k in expected} == expected
    assert sum(counts.values()) == 40  # the 3 clients without a fourth measurement get None, not a category
    assert out.isna().sum() == len(claus) - 40


def test_bdi_cutoff_c_is_the_published_21_02(claus):
    pre, post = claus["BDI1.total"], claus["BDI4.total"]
    complete = pre[pre.notna() & post.notna()]
    c = jt_cutoff(
        "c", clinical_mean=complete.mean(), clinical_sd=complete.std(), functional_mean=7.69, functional_sd=7.52
    )
    assert c == pytest.approx(21.02, abs=0.005)


def test_sd_comes_from_complete_pairs_only():
    """A baseline without a follow-up does not widen the SD: with it the change below would look unchanged."""
    pre = pd.Series([20, 22, 24, 26, 28, 5, 45])
    post = pd.Series([16, 22, 24, 26, 28, np.nan, np.nan])
    assert classify_change(pre, post, reliability=0.9).iloc[0] == "improved"
    assert classify_change(pre, post, reliability=0.9, sd=pre.std()).iloc[0] == "unchanged"


def test_recovered_needs_to_start_in_the_clinical_range():
    kwargs = {"sd": 7.5, "reliability": 0.8, "functional_mean": 10, "functional_sd": 5, "clinical_mean": 30}
    assert jt_cutoff("c", clinical_mean=30, clinical_sd=7.5, functional_mean=10, functional_sd=5) == 18
    assert classify_change(30, 10, **kwargs) == "recovered"
    # already on the functional side before: a reliable improvement, not a recovery
    assert classify_change(17, 4, **kwargs) == "improved"


def test_harmed_is_reliable_worsening_from_the_functional_into_the_clinical_range():
    kwargs = {"sd": 7.5, "reliability": 0.8, "functional_mean": 10, "functional_sd": 5, "clinical_mean": 30}
    assert classify_change(10, 25, **kwargs) == HARMED == "harmed"
    assert classify_change(20, 35, **kwargs) == "deteriorated"  # already clinical before
    assert classify_change(5, 12, **kwargs) == "unchanged"  # not reliable
    # higher is better mirrors it
    hb = {
        "sd": 7.5,
        "reliability": 0.8,
        "functional_mean": 70,
        "functional_sd": 5,
        "clinical_mean": 50,
        "higher_is_better": True,
    }
    assert classify_change(70, 52, **hb) == "harmed"
    assert classify_change(50, 70, **hb) == "recovered"


def test_cutoffs_a_b_c():
    assert jt_cutoff("a", clinical_mean=30, clinical_sd=7.5) == 15
    assert jt_cutoff("b", clinical_mean=30, clinical_sd=7.5, functional_mean=10, functional_sd=5) == 20
    assert jt_cutoff("a", clinical_mean=30, clinical_sd=5, higher_is_better=True) == 40
    # cut-off a needs no norms; b and c do
    kwargs = {"sd": 7.5, "reliability": 0.8, "clinical_mean": 30}
    assert classify_change(30, 14, cutoff="a", **kwargs) == "recovered"
    assert classify_change(30, 16, cutoff="a", **kwargs) == "improved"
    with pytest.raises(ValueError, match="functional_mean"):
        classify_change(30, 14, cutoff="b", **kwargs)
    with pytest.raises(ValueError, match="cutoff must be one of"):
        classify_change(30, 14, cutoff="d", **kwargs)


def test_edwards_nunnally_uses_the_true_baseline():
    """EN regresses the baseline towards the mean (r·(pre − M) + M) and divides by SE, not √2·SE."""
    # M 20, r 0.8: pre 30 -> true 28; post 22, SD 10 -> SE 4.47, (22 - 28) / 4.47 = -1.34 -> unchanged
    assert classify_change(30, 22, reliability=0.8, sd=10, clinical_mean=20, method="EN") == "unchanged"
    # pre 10 -> true 12; post 2 -> (2 - 12) / 4.47 = -2.24 -> improved (JT: -8 / 6.32 = -1.26, unchanged)
    assert classify_change(10, 2, reliability=0.8, sd=10, clinical_mean=20, method="EN") == "improved"
    assert classify_change(10, 2, reliability=0.8, sd=10) == "unchanged"
    with pytest.raises(ValueError, match="method must be one of"):
        classify_change(10, 2, reliability=0.8, sd=10, method="XX")


def test_zero_baseline_can_deteriorate_under_a_percentage_rule():
    assert classify_change(0, 5, pct=30) == "deteriorated"
    assert classify_change(0, 1, pct=30, mid=2) == "unchanged"  # unbounded %, but under 2 points
    assert classify_change(0, 3, pct=30, mid=2) == "deteriorated"
    assert classify_change(0, 0, pct=30) == "unchanged"
    assert classify_change(0, 4, pct=30, higher_is_better=True) == "improved"


def test_hlm_method_reproduces_the_published_result(claus):
    """HAMD, all four measurements, cut-off c (functional 8, SD 8): 10 recovered / 1 / 20 / 9 / 0 harmed."""
    long = claus.melt(
        id_vars="id", value_vars=[f"HAMD{i}.total" for i in range(1, 5)], var_name="measure", value_name="hamd"
    )
    long["time"] = long["measure"].str.extract(r"HAMD(\d)\.total", expand=False).astype(int)
    out = classify_change_hlm(long, id_col="id", time_col="time", value_col="hamd", functional_mean=8, functional_sd=8)
    assert len(out) == 40  # the 3 people without every measurement are left out, as in the package
    assert _counts(out) == {"recovered": 10, "improved": 1, "unchanged": 20, "deteriorated": 9, "harmed": 0}
    # without norms: reliable change only
    plain = classify_change_hlm(long, id_col="id", time_col="time", value_col="hamd")
    assert _counts(plain) == {"recovered": 0, "improved": 11, "unchanged": 20, "deteriorated": 9, "harmed": 0}
