"""Fair trial (pipelines/techniques/trial.py): randomised AB/BA blocks for one client, stored through
migration 0006; the randomisation test finds a planted difference and none in a null schedule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.techniques import trial as tr
from pipelines.warehouse.db import read_connection
from tests import test_dashboard_apptest as dash

A, B = ["trigger_point", "stretching"], ["myofascial_release"]


def _trial(schedule: list[str]) -> tr.Trial:
    return tr.Trial("T1", "C1", sorted(A), sorted(B), len(schedule) // 2, dt.date(2026, 1, 1), schedule)


def _visits(
    trial: tr.Trial, effect_a: float, rng, noise: float = 0.6, trend: float = -0.15, off_plan: set[int] = frozenset()
) -> pd.DataFrame:
    rows = []
    for i, due in enumerate(trial.schedule):
        techs = (trial.mix_a if due == "A" else trial.mix_b) if i not in off_plan else ["swedish"]
        change = -1.0 + trend * i + (effect_a if due == "A" else 0.0) + rng.normal(0, noise)
        rows.append((f"V{i}", trial.started_on + dt.timedelta(days=10 * i), techs, 6.0, 6.0 + change, change))
    return pd.DataFrame(rows, columns=["visit_id", "visit_date", "techniques", "pain_pre", "pain_post", "pain_change"])


def test_planted_difference_is_found_with_an_interval_around_it():
    rng = np.random.default_rng(1)
    trial = _trial(tr.plan(8, rng))
    res = tr.analyse(trial, tr.progress(trial, _visits(trial, effect_a=-2.0, rng=rng)))
    print(f"\nplanted A - B = -2.0: estimate {res.mean_difference:.2f}, p = {res.p_value:.4f}, 95 % {res.ci}")
    assert res.n_blocks_used == 8
    assert res.mean_difference == pytest.approx(-2.0, abs=0.6)
    assert res.p_value <= 2 / 2**8 + 1e-12
    assert res.ci[0] <= -2.0 <= res.ci[1] and res.ci[1] < 0


@pytest.mark.slow
def test_null_schedule_finds_no_difference():
    rng = np.random.default_rng(2)
    rejections, covered = 0, 0
    runs = 300
    for _ in range(runs):
        trial = _trial(tr.plan(6, rng))
        res = tr.analyse(trial, tr.progress(trial, _visits(trial, effect_a=0.0, rng=rng)))
        rejections += res.p_value < 0.05
        covered += res.ci[0] <= 0.0 <= res.ci[1]
    print(
        f"\nnull AB/BA trials (6 blocks): p < 0.05 in {rejections / runs:.1%}, interval holds 0 in {covered / runs:.1%}"
    )
    assert rejections / runs <= 0.08
    assert covered / runs >= 0.92


def test_short_trials_and_off_plan_visits_are_reported_not_hidden():
    rng = np.random.default_rng(3)
    trial = _trial(tr.plan(4, rng))
    visits = _visits(trial, effect_a=-3.0, rng=rng, off_plan={0})
    prog = tr.progress(trial, visits)
    assert prog.complete and prog.n_done == 8 and prog.n_followed == 7
    res = tr.analyse(trial, prog)
    assert res.n_blocks_used == 3 and res.n_blocks_left_out == 1
    assert res.ci is None and res.smallest_p == pytest.approx(0.25)
    assert any("at least 6 are needed" in n for n in res.notes)
    assert any("1 block left out" in n for n in res.notes)


def test_progress_says_which_mix_is_due():
    trial = _trial(["B", "A", "A", "B", "A", "B"])
    rng = np.random.default_rng(4)
    prog = tr.progress(trial, _visits(trial, 0.0, rng).head(3))
    assert (prog.next_slot, prog.next_mix, prog.n_done) == (4, "B", 3)
    assert not prog.complete


def test_plan_is_balanced_blocks():
    s = tr.plan(50, np.random.default_rng(5))
    blocks = [tuple(s[i : i + 2]) for i in range(0, 100, 2)]
    assert set(blocks) <= {("A", "B"), ("B", "A")}
    assert 10 < blocks.count(("A", "B")) < 40


def test_start_store_and_read_back_through_the_database(sample_db_copy):
    trial = tr.start_trial(
        sample_db_copy, "C0001", A, B, n_blocks=6, started_on=dt.date(2026, 11, 21), seed=7, actor="test"
    )
    again = tr.trials(sample_db_copy, "C0001")
    assert len(again) == 1 and again[0].schedule == trial.schedule and again[0].mix_a == sorted(A)
    with pytest.raises(tr.TrialProblem, match="already has a trial running"):
        tr.start_trial(sample_db_copy, "C0001", A, B)
    with pytest.raises(tr.TrialProblem, match="the same"):
        tr.start_trial(sample_db_copy, "C0002", A, list(reversed(A)))
    with pytest.raises(tr.TrialProblem, match="at least 3 blocks"):
        tr.start_trial(sample_db_copy, "C0002", A, B, n_blocks=2)
    with pytest.raises(tr.TrialProblem, match="no client"):
        tr.start_trial(sample_db_copy, "NOPE", A, B)
    with read_connection(sample_db_copy) as con:
        assert (
            con.execute("select count(*) from core.trial_schedule where trial_id = ?", [trial.trial_id]).fetchone()[0]
            == 12
        )
        assert con.execute("select count(*) from meta.audit where kind = 'trials'").fetchone()[0] == 1
    prog = tr.progress(trial, tr.load_visits(sample_db_copy, trial))
    assert prog.n_done == 0 and prog.next_mix == trial.schedule[0]
    tr.stop_trial(sample_db_copy, trial.trial_id, "client moved away", actor="test")
    assert tr.trials(sample_db_copy, "C0001")[0].stop_reason == "client moved away"


@pytest.mark.usefixtures("clean_streamlit_caches")
def test_client_page_starts_a_trial_and_says_which_mix_is_due(sample_db_copy, monkeypatch):
    monkeypatch.setenv("KNOTWORK_DB", str(sample_db_copy))
    at = AppTest.from_file(dash.APP, default_timeout=dash.TIMEOUT)
    at.query_params["client"] = "C0003"
    at.run()
    assert "Fair trial" in [s.value for s in at.subheader]
    at.multiselect(key="cp_trial_a").set_value(A)
    at.multiselect(key="cp_trial_b").set_value(A)
    at.button[[b.label for b in at.button].index("Start the trial")].click().run()
    assert "Mix A and mix B are the same" in dash.texts(at.error)
    assert tr.trials(sample_db_copy, "C0003") == []
    at.multiselect(key="cp_trial_b").set_value(B)
    at.button[[b.label for b in at.button].index("Start the trial")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    stored = tr.trials(sample_db_copy, "C0003")
    assert len(stored) == 1 and stored[0].n_blocks == tr.DEFAULT_BLOCKS
    due = stored[0].schedule[0]
    mix = stored[0].mix_a if due == "A" else stored[0].mix_b
    text = dash.texts(at.markdown)
    assert f"Next visit (1 of {2 * tr.DEFAULT_BLOCKS}): **mix {due}**" in text
    assert " + ".join(dash.charts.pretty(t) for t in mix) in text
    slots = dash.table_with(at, "Mix due")
    assert slots["Mix due"].tolist() == stored[0].schedule


@pytest.mark.usefixtures("clean_streamlit_caches")
def test_finished_trial_shows_its_result_on_the_client_page(sample_db_copy, monkeypatch, tmp_path):
    """Twelve imported visits follow a stored AB/BA plan; mix A was planted 2 points better."""
    from pipelines.ingest.importer import ingest_files

    trial = tr.start_trial(sample_db_copy, "C0003", A, B, n_blocks=6, started_on=dt.date(2026, 11, 21), seed=3)
    rng = np.random.default_rng(8)
    lines = ["visit_id,client_id,visit_date,pain_pre,pain_post,techniques"]
    for i, due in enumerate(trial.schedule):
        mix = trial.mix_a if due == "A" else trial.mix_b
        post = 6.0 - (3.0 if due == "A" else 1.0) + float(rng.choice([-0.5, 0.0, 0.5]))
        lines.append(f"TRIAL{i},C0003,{dt.date(2026, 11, 21) + dt.timedelta(days=i)},6,{post},{';'.join(mix)}")
    (tmp_path / "visits.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest_files([tmp_path / "visits.csv"], db=sample_db_copy)[0].rejected == 0
    monkeypatch.setenv("KNOTWORK_DB", str(sample_db_copy))
    at = AppTest.from_file(dash.APP, default_timeout=dash.TIMEOUT)
    at.query_params["client"] = "C0003"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    res = tr.analyse(trial, tr.progress(trial, tr.load_visits(sample_db_copy, trial)))
    assert res.n_blocks_used == 6 and res.mean_difference == pytest.approx(-2.0, abs=0.5)
    text = dash.texts(at.markdown)
    assert "Result: Mix A gave about" in text and "unlikely to be chance" in text
    assert f"p = {res.p_value:.3f}" in text
    assert dash.table_with(at, "Followed plan")["Followed plan"].tolist() == ["yes"] * 12
