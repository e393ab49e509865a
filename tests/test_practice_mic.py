"""The practice's own minimal important change from PGIC: recovered, honest about n, adoptable."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboard import metrics
from pipelines.clinical import practice_mic as pm
from pipelines.clinical.change import pain_status
from pipelines.clinical.settings import load_settings, settings_path_for

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.fixture(scope="module")
def answered_practice(tmp_path_factory):
    """A generated 60-client practice whose clients answer PGIC in their check-ins (33 usable)."""
    from pipelines.ingest.importer import ingest_files
    from pipelines.sample.practice import generate

    folder = tmp_path_factory.mktemp("mic")
    generate(folder / "csv", n_clients=60, seed=21)
    db = folder / "knotwork.duckdb"
    reports = ingest_files([folder / "csv" / f"{k}.csv" for k in ("clients", "visits", "self_reports")], db=db)
    assert all(r.error is None for r in reports), [r.error for r in reports]
    return db


def test_technique_page_shows_the_practice_number_beside_the_published_one_and_adopts_it(
    answered_practice, tmp_path, monkeypatch
):
    import shutil

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    db = tmp_path / "knotwork.duckdb"  # a private copy: adopting writes the settings file beside it
    shutil.copy(answered_practice, db)
    monkeypatch.setenv("KNOTWORK_DB", str(db))
    st.cache_data.clear()
    st.cache_resource.clear()
    expected = pm.practice_mic(db).overall
    assert expected.enough
    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/techniques.py").run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "at least 2 points and at least 30 % below baseline (Farrar" in text
    assert f"**Your own clients:** {expected.words()}" in text
    assert "So far your clients agree with the published 2 points" in text  # 2.0 lies inside their interval
    bands = at.dataframe[-2].value  # the last table before the drill-down
    assert bands["Clients"].sum() == expected.n_clients
    assert "not enough clients yet" in " ".join(bands["Drop that counts for them"])  # the small bands say so
    at.button(key="tq_mic_adopt").click().run()
    assert not at.exception, at.exception
    settings = load_settings(settings_path_for(db))
    assert settings["pain"]["mcid_points"] == round(expected.mic, 1)
    text = " ".join(m.value for m in at.markdown)
    assert f"at least {round(expected.mic, 1):g} points and at least 30 % below baseline — this practice's own" in text
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("select actor, after from meta.audit where key = 'pain.mcid_points'").fetchall()
    assert row and row[-1][0] == "therapist (dashboard)"
    at.button(key="tq_mic_revert").click().run()
    assert load_settings(settings_path_for(db))["pain"]["mcid_points"] == 2.0
    st.cache_data.clear()


def test_agreement_with_the_published_number_is_read_from_the_interval():
    from dashboard.components.practice_mic import agreement

    est = pm.MicEstimate("all clients", 40, 20, 2.9, 2.4, 3.5)
    assert (
        agreement(est, 2.0)
        == "Your clients seem to need a larger drop than the published 2 points (outside their range)."
    )
    assert "agree" in agreement(pm.MicEstimate("all clients", 40, 20, 2.2, 1.8, 2.7), 2.0)
    assert "smaller" in agreement(pm.MicEstimate("all clients", 40, 20, 1.2, 0.9, 1.6), 2.0)
