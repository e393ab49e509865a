"""This client's own technique response (pipelines/techniques/client_response.py).

The simulation plants a different response per client (and a different relief whatever is done),
then checks the pooled estimates against the truth and against the raw with/without difference
inside each client: the figures are printed (pytest -s) and recorded in
benchmarks/RESULTS_techniques.md (scripts/client_response_simulation.py, a larger run).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pipelines.sample.per_client import evaluate, simulate
from pipelines.techniques import client_response as cr
from tests.conftest import SAMPLE


def test_pooled_estimates_beat_raw_differences_and_cover_the_truth():
    visits, truth = simulate(n_clients=80, seed=3)
    result = evaluate(visits, truth)
    print(
        f"\n80 clients: pooled RMSE {result['rmse_pooled']:.2f} vs raw {result['rmse_raw']:.2f} points; "
        f"95 % intervals cover the client's truth {result['coverage']:.1%} of {result['n']} times"
    )
    assert result["n"] > 250
    assert result["rmse_pooled"] < 0.7 * result["rmse_raw"]
    assert 0.91 <= result["coverage"] <= 0.985


def test_small_practice_intervals_still_cover():
    """With 8 clients the spread between clients is barely known: its uncertainty must widen the
    interval (a plug-in estimate of it would under-cover here)."""
    covered = total = 0
    for seed in range(12):
        visits, truth = simulate(n_clients=8, seed=100 + seed)
        r = evaluate(visits, truth)
        covered += r["coverage"] * r["n"]
        total += r["n"]
    print(f"\n8-client practices x 12: 95 % intervals cover {covered / total:.1%} of {total}")
    assert total > 200
    assert 0.90 <= covered / total <= 0.995


def test_cannot_tell_reasons():
    rows = []
    # five ordinary clients so the practice can estimate the spread
    rng = np.random.default_rng(0)
    for c in range(6):
        for v in range(1, 13):
            techs = ["trigger_point"] + (["stretching"] if rng.random() < 0.5 else [])
            rows.append((f"C{c}", v, 6.0, -1.0 - 1.0 * ("stretching" in techs) + rng.normal(0, 0.5), techs))
    rows += [("ONE", 1, 6.0, -2.0, ["stretching"])]  # one visit
    rows += [("NOPAIN", v, None, None, ["stretching", "swedish"]) for v in (1, 2, 3)]  # all pain missing
    rows += [
        ("ALWAYS", v, 5.0, -1.0 * (v % 2), ["trigger_point"] + (["stretching"] if v % 2 else [])) for v in range(1, 9)
    ]
    visits = pd.DataFrame(rows, columns=["client_id", "visit_number", "pain_pre", "pain_change", "techniques"])
    fit = cr.fit_practice(visits)
    one = cr.client_response(fit, "ONE")
    assert one["verdict"].tolist() == [cr.CANNOT_TELL] and "only one visit" in one["reason"][0]
    assert one["effect"].isna().all()
    nopain = cr.client_response(fit, "NOPAIN")
    assert set(nopain["technique"]) == {"stretching", "swedish"}
    assert all("no visit has pain recorded" in r for r in nopain["reason"])
    always = cr.client_response(fit, "ALWAYS").set_index("technique")
    assert "every visit" in always.loc["trigger_point", "reason"]
    assert np.isnan(always.loc["trigger_point", "effect"])
    assert always.loc["stretching", "ci_low"] < always.loc["stretching", "effect"] < always.loc["stretching", "ci_high"]
    assert always.loc["stretching", "n_visits_with"] == 4 and always.loc["stretching", "n_visits_without"] == 4
    # a three-client practice: numbers never appear without the spread being estimable
    small = cr.fit_practice(visits[visits["client_id"].isin(["C0", "C1", "C2"])])
    rows3 = cr.client_response(small, "C0")
    assert rows3["effect"].isna().all()
    assert all("only 3 clients" in r for r in rows3["reason"] if "every visit" not in r)


def test_always_together_techniques_are_named():
    rng = np.random.default_rng(1)
    rows = []
    for c in range(6):
        for v in range(1, 11):
            pair = v % 2 == 0
            techs = ["swedish"] + (["cupping", "thermal"] if pair else [])
            rows.append((f"C{c}", v, 6.0, -1.0 - pair + rng.normal(0, 0.5), techs))
    fit = cr.fit_practice(
        pd.DataFrame(rows, columns=["client_id", "visit_number", "pain_pre", "pain_change", "techniques"])
    )
    res = cr.client_response(fit, "C0").set_index("technique")
    assert "always used together with cupping" in res.loc["thermal", "reason"]
    assert res.loc["cupping", "verdict"] == cr.HELPS


def test_on_the_sample_practice_database(sample_db):
    fit = cr.fit_practice(cr.load_visits(sample_db))
    every = cr.all_clients(fit)
    truth = json.loads((SAMPLE / "truth.json").read_text())
    est = every.dropna(subset=["effect"])
    assert len(est) > 50
    assert (est["ci_low"] <= est["effect"]).all() and (est["effect"] <= est["ci_high"]).all()
    assert est["p_more_relief"].between(0, 1).all()
    # every client in the sample has the same planted trigger point effect: the practice-level
    # interval holds it, and the client intervals are pulled to it (no client's range excludes it
    # by more than its width would explain)
    tp = est[est["technique"] == "trigger_point"]
    planted = truth["technique_effects"]["trigger_point"]
    assert tp["practice_ci_low"].iloc[0] <= planted <= tp["practice_ci_high"].iloc[0] + 0.3
    assert ((tp["ci_low"] <= planted) & (planted <= tp["ci_high"])).mean() > 0.85


def test_records_have_the_contract_fields(sample_db):
    records = cr.response_records(sample_db, client="all")
    needed = {
        "client_id",
        "technique",
        "effect",
        "ci_low",
        "ci_high",
        "n_visits_with",
        "n_visits_without",
        "practice_effect",
        "p_more_relief",
    }
    assert records and needed <= set(records[0])
    with pytest.raises(KeyError):
        cr.response_records(sample_db, client="NO-SUCH-CLIENT")


def _knotwork(*args: str):
    return subprocess.run([sys.executable, "-m", "knotwork", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_cli_client_json_and_all(sample_db):
    one = _knotwork("techniques", "--client", "C0001", "--db", str(sample_db), "--json")
    assert one.returncode == 0, one.stderr
    rows = json.loads(one.stdout)
    assert rows and {r["client_id"] for r in rows} == {"C0001"}
    fit = cr.fit_practice(cr.load_visits(sample_db))
    expected = cr.client_response(fit, "C0001")
    assert [r["technique"] for r in rows] == expected["technique"].tolist()
    first = rows[0]
    assert first["effect"] == pytest.approx(expected["effect"].iloc[0], abs=1e-3)
    assert first["ci_low"] < first["effect"] < first["ci_high"]
    every = _knotwork("techniques", "--client", "all", "--db", str(sample_db), "--json")
    assert every.returncode == 0, every.stderr
    assert len({r["client_id"] for r in json.loads(every.stdout)}) > 30
    text = _knotwork("techniques", "--client", "C0001", "--db", str(sample_db))
    assert "trigger_point" in text.stdout and "−0.0" not in text.stdout and "nan" not in text.stdout
    missing = _knotwork("techniques", "--client", "NOPE", "--db", str(sample_db), "--json")
    assert missing.returncode == 1 and "no client 'NOPE'" in missing.stderr


def test_points_never_prints_minus_zero():
    assert cr.points(-0.01) == "0.0" and cr.points(-0.26) == "−0.3"
    assert cr.points(None) == "—" and cr.points(float("nan")) == "—"
    assert cr.points(1.26) == "+1.3" and cr.points(1.26, signed=False) == "1.3"


def test_client_view_and_report_say_the_same_in_the_clients_words(sample_db_copy, monkeypatch):
    import html

    from dashboard.components.response_words import client_sentences
    from dashboard.reports import build_report_html
    from pipelines.sharing.links import create_link
    from tests.sharing_helpers import app_test, page_text

    rows = cr.client_response(cr.fit_practice(cr.load_visits(sample_db_copy)), "C0001")
    expected = client_sentences(rows.to_dict("records"))
    helped = rows[rows["verdict"] == cr.HELPS]
    assert len(helped) >= 1 and any(
        f"about {cr.points(-helped['effect'].iloc[0], signed=False)} points less pain" in line for line in expected
    )
    at = app_test(sample_db_copy, monkeypatch, token=create_link("C0001", db=sample_db_copy).token)
    assert not at.exception
    text = page_text(at)
    assert "What seems to help you" in text
    assert all(line in text for line in expected)
    report = build_report_html(sample_db_copy, "C0001")
    assert "What seems to help you" in report
    assert all(html.escape(line) in report for line in expected)


def test_suggestion_keeps_drops_and_proposes_with_reasons():
    """A planted client: trigger point helps a lot, swedish makes pain worse, cupping never tried
    but gives relief across the practice's clients with the same complaint."""
    from pipelines.techniques import suggest

    rng = np.random.default_rng(5)
    rows = []
    for c in range(10):
        for v in range(1, 15):
            techs = [t for t in ("trigger_point", "swedish", "cupping") if rng.random() < 0.5] or ["stretching"]
            change = -1.0 * ("trigger_point" in techs) - 1.2 * ("cupping" in techs) + rng.normal(0, 0.6)
            rows.append((f"C{c}", float(v), 6.0, change, techs, "neck"))
    for v in range(1, 17):
        techs = [t for t, on in (("trigger_point", v % 2), ("swedish", (v // 2) % 2)) if on] or ["stretching"]
        change = -2.0 * ("trigger_point" in techs) + 1.5 * ("swedish" in techs) + rng.normal(0, 0.4)
        rows.append(("ME", float(v), 6.0, change, techs, "neck"))
    fit = cr.fit_practice(
        pd.DataFrame(
            rows, columns=["client_id", "visit_number", "pain_pre", "pain_change", "techniques", "complaint_region"]
        )
    )
    got = {(s.action, s.technique): s.reason for s in suggest.suggest(fit, "ME")}
    assert (suggest.KEEP, "trigger_point") in got and "helped this client" in got[(suggest.KEEP, "trigger_point")]
    assert (suggest.DROP, "swedish") in got  # "more pain" or "no sign it adds relief", as pooled
    assert (suggest.TRY, "cupping") in got
    assert "not tried yet" in got[(suggest.TRY, "cupping")] and "neck complaints" in got[(suggest.TRY, "cupping")]
    actions = [s.action for s in suggest.suggest(fit, "ME")]
    assert actions == sorted(actions, key=[suggest.KEEP, suggest.TRY, suggest.DROP].index)
