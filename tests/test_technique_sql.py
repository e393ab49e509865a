"""The large-practice technique path (pipelines.techniques.large): same answers on small data.

* The SQL estimator (within-client / client fixed effects from SQL aggregates, cluster-robust
  by client from per-client score sums) equals statsmodels OLS with one dummy per client and
  cluster-robust covariance, to 1e-8, on the committed sample practice.
* It agrees with the mixed model within the intervals there, recovers planted effects on a
  generated practice and finds nothing in practices without effects.
* The importer's stored result is used only while the data are exactly those it was computed
  from; a change makes the next view compute afresh.
* The page says which method was used and what it means, and lists the visits behind an estimate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipelines.ingest.importer import ingest_files
from pipelines.sample.practice import generate
from pipelines.techniques import analysis, common
from pipelines.techniques import large as ts
from pipelines.techniques import model as tq
from pipelines.warehouse.db import read_connection, write_connection

ROOT = Path(__file__).resolve().parents[1]


def _ols_with_client_dummies(db, outcome="pain_change"):
    """The reference: statsmodels OLS of the same design plus one dummy per client, clustered by client."""
    oc = common.OUTCOMES[outcome]
    df, _ = tq.prepare(tq.load_visits(db), oc)
    fit = ts.within_fit(db, outcome)
    cols = {}
    for name in fit["names"]:
        if "×" in name:  # a synergy the screen put in the model: both techniques in the visit
            a, b = (part[5:-1] for part in name.split("×"))
            cols[name] = df["techniques"].map(lambda ts_, a=a, b=b: float(a in ts_ and b in ts_))
        elif name.startswith("tech["):
            t = name[5:-1]
            cols[name] = df["techniques"].map(lambda ts_, t=t: float(t in ts_))
        elif name.startswith("pressure["):
            level = name[9:-1]
            cols[name] = (tq._pressure_labels(df["pressure"]) == level).astype(float)
        else:
            cols[name] = df[name].astype(float)
    X = pd.DataFrame(cols)
    dummies = pd.get_dummies(df["client_id"], dtype=float)
    design = pd.concat([X, dummies], axis=1).to_numpy()
    codes = pd.factorize(df["client_id"])[0]
    res = sm.OLS(df[oc.column].to_numpy(float), design).fit(cov_type="cluster", cov_kwds={"groups": codes})
    k = X.shape[1]
    return fit, res, k, len(df), dummies.shape[1]


@pytest.mark.parametrize("outcome", ["pain_change", "carryover_change"])
def test_sql_estimator_equals_ols_with_client_dummies(sample_db, outcome):
    """Coefficients and cluster-robust covariance equal statsmodels' to 1e-8 (same small-sample factor)."""
    fit, res, k, n, g = _ols_with_client_dummies(sample_db, outcome)
    assert fit["n"] == n and fit["n_clients"] == g
    assert k == len(fit["names"]) >= 10  # techniques, pressure levels, pain before, visit number (+ days to next)
    np.testing.assert_allclose(fit["beta"], res.params[:k], rtol=1e-8, atol=1e-10)
    # statsmodels counts the client dummies in its (N-1)/(N-K) factor; ours does not (they are
    # nested in the clusters, Cameron & Miller 2015) - the two sandwiches differ by exactly that
    ours_as_statsmodels = fit["cov_robust"] * (n - k) / (n - k - g)
    np.testing.assert_allclose(ours_as_statsmodels, res.cov_params()[:k, :k], rtol=1e-8, atol=1e-14)
    # and the model-based covariance is OLS's too
    np.testing.assert_allclose(fit["cov_model"], res.model.fit().cov_params()[:k, :k], rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize(
    "outcome,region", [("pain_change", None), ("carryover_change", None), ("pain_change", "first")]
)
def test_both_paths_give_the_same_answer_on_the_sample(sample_db, outcome, region):
    """One estimand at every size: the in-memory path and the SQL path agree to rounding on the same data.

    The mixed model with every client's means (or its OLS fallback) has exactly the
    within-client coefficients, and both give the same intervals (cluster-robust from 30 clients,
    within-client model-based below); the minimum-n rule, the synergies chosen and the mixes are the same.
    """
    regions = [tq.filter_options(sample_db)["regions"][0]] if region else None  # < 30 clients: model-based SEs
    mixed = analysis.technique_report(sample_db, outcome, path="mixed", regions=regions, min_clients=4)
    within = analysis.technique_report(sample_db, outcome, path="within", regions=regions, min_clients=4)
    assert within.method.startswith(ts.METHOD_SQL) and mixed.method.startswith("within-client comparison")
    assert ("model-based" in within.method) == ("model-based" in mixed.method) == (within.n_clients < 30)
    m = mixed.techniques.set_index("technique")
    w = within.techniques.set_index("technique").loc[m.index]
    assert (m["estimable"] == w["estimable"]).all() and m["estimable"].sum() >= 5
    for col in ("n_visits", "n_clients", "n_clients_without", "n_clients_both"):
        assert (m[col] == w[col]).all(), col
    est = m["estimable"]
    for col in ("effect", "ci_low", "ci_high", "p", "p_adjusted"):
        np.testing.assert_allclose(m.loc[est, col], w.loc[est, col], rtol=1e-6, atol=1e-9, err_msg=col)
    assert np.allclose(m["unadjusted_difference"], w["unadjusted_difference"], equal_nan=True)
    assert within.n_visits == mixed.n_visits and within.excluded == mixed.excluded
    assert within.model_interactions == mixed.model_interactions
    pm = mixed.pairs.set_index(["technique_a", "technique_b"])
    pw = within.pairs.set_index(["technique_a", "technique_b"]).loc[pm.index]
    assert (pw["estimable"] == pm["estimable"]).all()
    ok = pm["estimable"]
    np.testing.assert_allclose(pm.loc[ok, "interaction"], pw.loc[ok, "interaction"], rtol=1e-6, atol=1e-9)
    mm = mixed.mixes.set_index("mix")
    mw = within.mixes.set_index("mix").loc[mm.index]
    assert (mm["estimable"] == mw["estimable"]).all() and (mm["n_visits"] == mw["n_visits"]).all()
    assert (mm["n_clients"] == mw["n_clients"]).all()
    np.testing.assert_allclose(mm["observed_mean"], mw["observed_mean"], rtol=1e-9)
    ok = mm["estimable"]
    for col in ("effect", "ci_low", "ci_high"):
        np.testing.assert_allclose(mm.loc[ok, col], mw.loc[ok, col], rtol=1e-6, atol=1e-9, err_msg=col)


def _practice(folder: Path, n_clients: int, seed: int, effects="default") -> tuple[Path, dict]:
    generate(folder / "csv", n_clients=n_clients, seed=seed, effects=effects)
    db = folder / "knotwork.duckdb"
    reports = ingest_files([folder / "csv" / f"{k}.csv" for k in ("clients", "visits")], db=db)
    assert all(r.error is None for r in reports), [r.error for r in reports]
    return db, json.loads((folder / "csv" / "truth.json").read_text())


def test_within_path_recovers_planted_effects(tmp_path):
    """On a 300-client generated practice the strongest planted technique comes first and zeros look like zero."""
    db, truth = _practice(tmp_path, 300, 21)
    rep = analysis.technique_report(db, path="within")
    t = rep.techniques[rep.techniques["estimable"]].set_index("technique")
    planted = pd.Series(truth["technique_effects"])
    best = planted.idxmin()
    assert t["effect"].idxmin() == best
    # the planted zeros: none is declared an effect after Holm
    zeros = [x for x in planted.index if planted[x] == 0 and x in t.index]
    assert zeros and (t.loc[zeros, "p_adjusted"] >= 0.05).all()
    # rank agreement with the planted values
    assert t["effect"].corr(planted[t.index], method="spearman") > 0.7
    # the planted synergy is screened into the model, with an interval around it
    pair = tuple(sorted(truth["synergy"]["techniques"]))
    assert rep.model_interactions[:1] == [pair]
    row = rep.pairs[(rep.pairs["technique_a"] == pair[0]) & (rep.pairs["technique_b"] == pair[1])].iloc[0]
    assert row["in_main_model"] and row["ci_low"] - 0.1 < truth["synergy"]["effect"] < row["ci_high"] + 0.1


@pytest.mark.slow
def test_within_path_finds_nothing_in_practices_without_effects(tmp_path):
    """No technique at Holm p < .05 in (nearly) every one of 12 practices with nothing planted."""
    false = 0
    for seed in range(300, 312):
        db, _ = _practice(tmp_path / f"n{seed}", 60, seed, effects="none")
        t = analysis.technique_report(db, path="within").techniques
        t = t[t["estimable"]]
        assert len(t) >= 8
        false += int((t["p_adjusted"] < 0.05).any())
    assert false <= 1


def test_stored_result_is_used_only_for_the_data_it_was_computed_from(sample_db_copy, monkeypatch):
    """The importer's stored result answers the default view; any change to the visits retires it."""
    monkeypatch.setattr(ts, "LARGE_DATA_VISITS", 10)  # the sample practice counts as large here
    with write_connection(sample_db_copy) as con:
        assert ts.store_default_report(con, db=sample_db_copy, min_clients=8)
    stored = ts.stored_report(sample_db_copy, "pain_change", 8)
    fresh = ts.report(sample_db_copy, "pain_change", min_clients=8)
    assert stored is not None
    pd.testing.assert_frame_equal(stored.techniques, fresh.techniques, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(stored.pressure, fresh.pressure, check_exact=False, rtol=1e-12)
    assert stored.method == fresh.method and stored.warnings == fresh.warnings
    assert ts.stored_report(sample_db_copy, "pain_change", 5) is None  # another minimum n: not stored
    # the page's entry point takes the stored one when nothing is filtered
    assert analysis.technique_report(sample_db_copy, min_clients=8).techniques.equals(stored.techniques)
    # a changed visit (as a form or a restore would write, without refreshing the store)
    with write_connection(sample_db_copy) as con:
        con.execute(
            "UPDATE marts.visit_outcomes SET pain_post = pain_post - 1, pain_change = pain_change - 1 "
            "WHERE visit_id = (SELECT min(visit_id) FROM marts.visit_outcomes WHERE pain_change IS NOT NULL "
            "AND pain_pre IS NOT NULL AND len(techniques) > 0)"
        )
    assert ts.stored_report(sample_db_copy, "pain_change", 8) is None
    after = analysis.technique_report(sample_db_copy, min_clients=8)
    moved = after.techniques.set_index("technique")["effect"] - stored.techniques.set_index("technique")["effect"]
    assert moved.abs().max() > 1e-6


def test_below_the_size_limit_nothing_is_stored(sample_db_copy):
    with write_connection(sample_db_copy) as con:
        assert ts.store_default_report(con, db=sample_db_copy) is False
    with read_connection(sample_db_copy) as con:
        assert not con.execute(ts._sql("store_exists")).fetchone()[0]


def test_drill_down_lists_the_newest_visits_and_counts_them_all(sample_db):
    frame, n_visits, n_clients = ts.drill_visits(sample_db, technique="swedish", limit=5)
    want = tq.technique_visits(tq.load_visits(sample_db), "swedish")
    assert n_visits == len(want) > 5 and n_clients == want["client_id"].nunique()
    assert len(frame) == 5
    assert list(frame["visit_date"]) == sorted(want["visit_date"], reverse=True)[:5]
    assert frame["technique_set"].str.contains("swedish").all()


# ---------------------------------------------------------------------------
# The page at "large" size (the limit lowered so the sample practice takes the SQL path)
# ---------------------------------------------------------------------------


@pytest.fixture
def large_page_db(sample_db, monkeypatch, clean_streamlit_caches):
    monkeypatch.setenv("KNOTWORK_DB", str(sample_db))
    monkeypatch.setattr(ts, "LARGE_DATA_VISITS", 10)
    return sample_db


def test_page_says_which_method_and_what_it_means(large_page_db):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/techniques.py").run()
    assert not at.exception, at.exception
    expected = analysis.technique_report(large_page_db)
    assert expected.method == ts.METHOD
    text = " ".join(m.value for m in at.markdown)
    assert f"{expected.n_visits:,} visits of {expected.n_clients:,} clients" in text
    details = " ".join(m.value for m in at.expander[0].markdown)
    assert ts.METHOD in details and "each client is compared with themselves" in details
    table = at.dataframe[0].value
    assert list(table["Visits"]) == list(expected.techniques["n_visits"])
    # the mixes get the same predicted effects as on the in-memory path
    mixes = at.dataframe[1].value  # the mix ranking: second table on the page
    assert list(mixes["Visits"]) == list(expected.mixes["n_visits"])
    # the visits behind an estimate are looked up on request at this size
    n_tables = len(at.dataframe)
    at.toggle(key="tq_drill_show").set_value(True).run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == n_tables + 1
    drill = at.dataframe[-1].value
    caption = " ".join(c.value for c in at.caption)
    _, n_visits, _ = ts.drill_visits(large_page_db, technique=at.selectbox(key="tq_drill").value)
    assert f"{n_visits:,} visits" in caption
    assert 0 < len(drill) <= ts.DRILL_LIMIT


def test_cli_table_names_the_within_client_method(sample_db):
    """``knotwork techniques`` on a large practice says how the numbers were made, and not 'random effect'."""
    text = analysis.format_table(analysis.technique_report(sample_db, path="within"))
    assert ts.METHOD in text and "random effect" not in text
    assert "Observational data" in text


@pytest.mark.slow
def test_subgroups_by_region_at_large_size(sample_db):
    """One within-client fit per complaint region; Benjamini-Hochberg across the whole table; small regions show counts only."""
    levels = tq.filter_options(sample_db)["regions"]
    sub = ts.subgroups(sample_db, levels=levels, min_clients=3)
    assert set(sub["complaint_region"]) == set(levels)
    est = sub[sub["estimable"]]
    assert len(est) > 0 and est["method"].str.startswith(ts.METHOD_SQL).all()
    assert np.allclose(
        est["p_adjusted"], common.benjamini_hochberg(sub["p"].where(sub["estimable"]))[sub["estimable"].to_numpy()]
    )
    one = est["complaint_region"].iloc[0]
    alone = ts.report(sample_db, regions=[one], min_clients=3).techniques.set_index("technique")
    mine = est[est["complaint_region"] == one].set_index("technique")
    assert np.allclose(mine["effect"], alone.loc[mine.index, "effect"])


def test_table_shows_three_decimals_when_intervals_are_narrow():
    """At network size a clear small effect must not read '-0.00 (-0.01 to -0.00)'."""
    from dashboard.charts import techniques as tc

    t = pd.DataFrame(
        [
            {
                "technique": "cupping",
                "n_visits": 85_992,
                "n_clients": 45_698,
                "n_clients_without": 99_203,
                "n_clients_both": 44_901,
                "estimable": True,
                "effect": -0.0047,
                "ci_low": -0.0078,
                "ci_high": -0.0017,
                "se": 0.0016,
                "p": 0.003,
                "p_adjusted": 0.019,
                "effect_size": -0.01,
                "unadjusted_difference": 0.28,
                "note": "",
            }
        ]
    )
    assert tc.effect_digits(t) == 3
    assert tc.technique_table(t)["95 % interval"].iloc[0] == "−0.008 to −0.002"
    assert tc.technique_table(t)["Effect"].iloc[0] == "−0.005"
    wide = t.assign(ci_low=-0.4, ci_high=0.3)
    assert tc.effect_digits(wide) == 2 and tc.technique_table(wide)["95 % interval"].iloc[0] == "−0.40 to +0.30"


def test_store_command_for_a_database_imported_before_the_hook(sample_db_copy, monkeypatch, capsys):
    monkeypatch.setattr(ts, "LARGE_DATA_VISITS", 10)
    assert ts.main(["store", "--db", str(sample_db_copy)]) == 0
    assert "stored the default technique result" in capsys.readouterr().out
    assert ts.stored_report(sample_db_copy, "pain_change", common.settings_min_clients(sample_db_copy)) is not None


def test_an_import_of_a_large_practice_stores_the_default_result(tmp_path, monkeypatch):
    """The importer's hook: after visits are imported the page's default answer is already stored."""
    from pipelines.ingest import importer as ingest
    from tests.conftest import SAMPLE

    monkeypatch.setattr(ts, "LARGE_DATA_VISITS", 10)  # the sample practice counts as large here
    calls = []
    monkeypatch.setattr(
        ingest, "store_default_report", lambda con, db=None: calls.append(db) or ts.store_default_report(con, db=db)
    )
    db = tmp_path / "large.duckdb"
    reports = ingest_files(sorted(Path(SAMPLE).glob("*.csv")), db=db)
    assert all(r.error is None for r in reports)
    assert len(calls) == 1  # once for the batch (clients, visits and ROM all feed it), after the last
    min_n = common.settings_min_clients(db)
    stored = ts.stored_report(db, "pain_change", min_n)
    assert stored is not None, "the import did not store the technique result"
    fresh = ts.report(db, "pain_change", min_clients=min_n)
    pd.testing.assert_frame_equal(stored.techniques, fresh.techniques, check_exact=False, rtol=1e-12)


def test_cli_mixes_json_lists_the_ranked_mixes(sample_db):
    """``knotwork techniques --mixes --json``: the mixes with their predicted effect, interval, n and observed mean."""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "knotwork", "techniques", "--mixes", "--json", "--db", str(sample_db)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    rows = json.loads(out.stdout)
    expected = analysis.technique_report(sample_db).mixes
    assert [r["mix"] for r in rows] == [m.split("+") for m in expected["mix"]]
    for row in rows:
        assert {"mix", "n_visits", "n_clients", "effect", "ci_low", "ci_high", "observed_mean"} <= set(row)
    ranked = [r for r in rows if r["effect"] is not None]
    assert len(ranked) >= 2 and [r["effect"] for r in ranked] == sorted(r["effect"] for r in ranked)
    assert all(r["ci_low"] < r["effect"] < r["ci_high"] and r["n_visits"] >= 10 for r in ranked)
    assert all(r["effect"] is None for r in rows if r["n_visits"] < 10)


def test_an_import_whose_technique_step_fails_keeps_its_rows(sample_db_copy, monkeypatch, tmp_path):
    """The technique statistics run after the import commits, in a transaction of their own: when
    they fail, the file's rows, marts and import record stay committed, whatever the step had
    written is undone, and the page computes afresh instead of showing the result from before."""
    from pipelines.ingest import importer as ingest

    monkeypatch.setattr(ts, "LARGE_DATA_VISITS", 10)  # the sample practice counts as large here
    min_n = common.settings_min_clients(sample_db_copy)
    with write_connection(sample_db_copy) as con:
        assert ts.store_default_report(con, db=sample_db_copy, min_clients=min_n)
    before = ts.stored_report(sample_db_copy, "pain_change", min_n)
    assert before is not None

    def store_then_fail(con, db=None):
        ts.store_default_report(con, db=db)  # stores a result for the new data in the hook's transaction...
        raise RuntimeError("out of memory while fitting")  # ...then fails: that write goes, the import stays

    monkeypatch.setattr(ingest, "store_default_report", store_then_fail)
    new = tmp_path / "visits_new.csv"
    new.write_text(
        "visit_id,client_id,visit_date,therapist,pressure,pain_pre,pain_post,techniques\n"
        "NEW-1,C0001,2026-11-02,Sam,3,7,2,myofascial_release\n",
        encoding="utf-8",
    )
    report = ingest.ingest_file(new, db=sample_db_copy)
    assert (report.rows_read, report.inserted, report.rejected) == (1, 1, 0)
    assert any(
        "technique analysis could not be stored" in n and "out of memory while fitting" in n for n in report.notes
    )
    with read_connection(sample_db_copy) as con:
        assert con.execute("SELECT client_id, pain_post FROM core.visits WHERE visit_id = 'NEW-1'").fetchall() == [
            ("C0001", 2.0)
        ]
        assert con.execute("SELECT pain_change FROM marts.visit_outcomes WHERE visit_id = 'NEW-1'").fetchall() == [
            (-5.0,)
        ]
        assert con.execute("SELECT rows_read, inserted FROM raw.imports WHERE path = ?", [str(new)]).fetchall() == [
            (1, 1)
        ]
        assert con.execute("SELECT count(*) FROM technique_cache.reports").fetchone()[0] == 1  # only the old one
    # The result stored before the import no longer matches the data: the page does not show it ...
    assert ts.stored_report(sample_db_copy, "pain_change", min_n) is None
    # ... but computes afresh, with the new visit counted.
    page = analysis.technique_report(sample_db_copy, min_clients=min_n)
    count = lambda rep: int(rep.techniques.set_index("technique").loc["myofascial_release", "n_visits"])
    assert count(page) == count(before) + 1


@pytest.mark.parametrize("outcome", ["pain_change", "carryover_change"])
def test_both_paths_give_the_same_measurement_error_sensitivity(sample_db, outcome):
    """Pain before corrected for its measurement error (regression calibration, reliability from the
    settings): the SQL path's closed form equals the in-memory refit, and both say the same in words."""
    mixed = analysis.technique_report(sample_db, outcome, path="mixed", min_clients=4)
    within = analysis.technique_report(sample_db, outcome, path="within", min_clients=4)
    m = mixed.techniques.set_index("technique")
    w = within.techniques.set_index("technique").loc[m.index]
    assert m["effect_calibrated"].notna().sum() >= 5
    for col in ("effect_calibrated", "calibrated_ci_low", "calibrated_ci_high"):
        np.testing.assert_allclose(m[col], w[col], rtol=1e-6, atol=1e-9, err_msg=col)
    assert within.sensitivity_note == mixed.sensitivity_note
    assert "within clients" in within.sensitivity_note
    # the stored result of a large practice carries it too
    assert ts.report_from_json(ts.report_to_json(within)).sensitivity_note == within.sensitivity_note
