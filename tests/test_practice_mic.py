"""The practice's own minimal important change from PGIC: recovered, honest about n, adoptable."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard import metrics
from pipelines.clinical import practice_mic as pm
from pipelines.clinical.change import pain_status
from pipelines.clinical.settings import load_settings, settings_path_for


def simulated_clients(n: int, mic, *, seed: int, baseline=None, mean_drop: float = 2.3) -> pd.DataFrame:
    """Clients whose true drop in pain is compared with their own threshold (mean ``mic``): a client
    says "much improved" when the true drop passes it; the recorded pain scores carry NPRS error."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(4, 10, n) if baseline is None else np.asarray(baseline, float)
    true_drop = rng.normal(mean_drop, 2.0, n)
    mic_i = rng.normal(mic, 0.7, n)
    now = np.clip(np.round(base - true_drop + rng.normal(0, 1.0, n)), 0, 10)
    pgic = np.where(true_drop > mic_i, rng.integers(1, 3, n), rng.integers(3, 8, n))
    return pd.DataFrame({"client_id": [f"C{i}" for i in range(n)], "baseline": base, "pain_now": now, "pgic": pgic})


@pytest.mark.parametrize("planted", [1.5, 2.0, 3.0])
def test_planted_mic_is_recovered_within_its_interval(planted):
    # about half the clients improved, where the method is unbiased (Terluin 2017; docs/clinical.md)
    est = pm.estimate_from_pairs(
        simulated_clients(500, planted, seed=int(planted * 10), mean_drop=planted + 0.3)
    ).overall
    assert est.enough and est.n_clients == 500
    assert est.ci_low <= planted <= est.ci_high, est.words()
    assert est.ci_high - est.ci_low < 1.0  # informative, not a 0-10 interval
    assert "500 clients" in est.words() and "95 % interval" in est.words()


def test_bands_recover_a_baseline_dependent_mic():
    # the more pain at the start, the larger the drop a client calls important (Farrar 2001)
    planted = {"mild (below 5)": 1.5, "moderate (5 to below 7)": 2.0, "severe (7 or more)": 3.0}
    baseline = np.repeat([4.5, 6.0, 8.5], 400)
    band_mic = np.select([baseline < 5, baseline < 7], [1.5, 2.0], 3.0)
    data = simulated_clients(1200, band_mic, seed=7, baseline=baseline, mean_drop=band_mic + 0.3)
    bands = {b.label: b for b in pm.estimate_from_pairs(data).bands}
    for label, mic in planted.items():
        assert bands[label].n_clients == 400
        assert bands[label].ci_low <= mic <= bands[label].ci_high, bands[label].words()
    assert bands["severe (7 or more)"].mic > bands["mild (below 5)"].mic


def test_too_few_clients_says_so_in_words_and_cannot_be_adopted(tmp_path):
    est = pm.estimate_from_pairs(simulated_clients(29, 2.0, seed=1)).overall
    assert not est.enough and est.mic is None
    assert est.words() == "not enough clients yet: 29 of 30"
    with pytest.raises(ValueError, match="not enough clients yet: 29 of 30"):
        pm.adopt(tmp_path / "p.duckdb", est)
    assert not settings_path_for(tmp_path / "p.duckdb").exists()


def test_one_sided_anchor_gives_no_number_and_says_why():
    data = simulated_clients(60, 2.0, seed=2).assign(pgic=1)  # everybody much improved: nothing to compare
    est = pm.estimate_from_pairs(data).overall
    assert est.mic is None and "each group needs at least" in est.words()


def test_adopting_changes_what_counts_as_clinically_important_and_says_so(tmp_path):
    db = tmp_path / "practice.duckdb"
    est = pm.estimate_from_pairs(simulated_clients(500, 3.0, seed=3)).overall
    before = load_settings(settings_path_for(db))
    assert pain_status(8.0, 5.5, before) == "clinically important improvement"  # 2.5 points, 31 %
    pm.adopt(db, est)
    after = load_settings(settings_path_for(db))
    assert after["pain"]["mcid_points"] == round(est.mic, 1) > 2.5
    assert pain_status(8.0, 5.5, after) == "some improvement"
    assert pm.is_adopted(after) and not pm.is_adopted(before)
    assert metrics.pain_rule_source(after).startswith("this practice's own minimal important change")
    assert "500 clients" in metrics.pain_rule_source(after)
    pm.revert(db)
    back = load_settings(settings_path_for(db))
    assert back["pain"]["mcid_points"] == 2.0 and "Farrar" in metrics.pain_rule_source(back)
    assert pain_status(8.0, 5.5, back) == "clinically important improvement"


def test_sample_practice_accounts_for_every_client_who_answered(sample_db):
    pairs = pm.anchor_pairs(sample_db)
    with duckdb.connect(str(sample_db), read_only=True) as con:
        answered = con.execute("select count(distinct client_id) from marts.self_reports where pgic is not null")
        assert len(pairs) == answered.fetchone()[0]
    usable = pairs[pairs["left_out"].isna()]
    assert usable["baseline"].notna().all() and usable["pain_now"].notna().all()
    result = pm.practice_mic(sample_db)
    assert result.overall.words() == f"not enough clients yet: {len(usable)} of 30"
    assert sum(b.n_clients for b in result.bands) == len(usable)
    assert sum(result.left_out.values()) == len(pairs) - len(usable)
