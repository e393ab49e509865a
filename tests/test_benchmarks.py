"""CI smoke test of the benchmark (issue 7): ``benchmarks/run.py --size practice`` end to end.

Nothing here is timed: speed is measured by the benchmark, never asserted.  What is checked is
what a reader of the results relies on: every field is there, the rows are the generated
practice's rows, rates and medians are consistent with their raw runs, and the dashboard's
numbers agreed with the pandas baseline (run.py refuses to write a result otherwise).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

# The benchmark end to end (benchmarks/run.py): the full suite runs it, the quick loop does not.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
KINDS = ["clients", "visits", "rom", "self_reports", "trigger_points", "outcome_measures"]


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> tuple[dict, Path]:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "practice.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--size",
            "practice",
            "--json",
            str(out),
            "--repeat",
            "2",
            "--cache",
            str(tmp / "cache"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), tmp / "cache"


def test_every_field_of_the_issue_is_there(result):
    res, _ = result
    assert res["size"] == "practice"
    assert res["machine"]["cores"] == os.cpu_count()
    assert res["machine"]["memory"].endswith("GiB") and res["machine"]["memory_mb"] > 0
    for section, fields in {
        "ingest": ["rows_per_s", "raw_duckdb_rows_per_s"],
        "queries": ["client_ms", "techniques_ms"],
        "pandas_baseline": ["client_ms", "techniques_ms"],
        "pages": ["client_ms", "overview_ms", "techniques_ms"],
        "writes": ["checkin_ms", "visit_save_ms"],
        "browser": ["client_load_ms", "client_switch_ms"],
    }.items():
        for field in fields:
            value = res[section][field]
            assert isinstance(value, (int, float)) and value > 0, (section, field, value)
    assert 0 < res["peak_rss_mb"] < res["machine"]["memory_mb"]
    assert "dashboard" in res["peak_rss_is"]


def test_rows_are_the_generated_practice(result):
    res, cache = result
    truth = json.loads(next(cache.glob("practice-c40-s*/truth.json")).read_text())
    assert truth["n_clients"] == 40 and truth["seed"] == res["seed"]
    assert {k: res["rows"][k] for k in KINDS} == {k: truth["rows"][k] for k in KINDS}
    assert res["rows"]["total"] == sum(truth["rows"][k] for k in KINDS)
    # generated here, or linked from an earlier benchmark's CSVs of the same size and seed
    assert res["generation"]["source"] == "knotwork sample" or res["generation"]["source"].startswith("linked from")


def test_rates_and_medians_follow_from_the_raw_runs(result):
    res, _ = result
    ing = res["ingest"]
    assert ing["rows_per_s"] == pytest.approx(res["rows"]["total"] / statistics.median(ing["runs_s"]))
    assert ing["raw_duckdb_rows_per_s"] == pytest.approx(
        res["rows"]["total"] / statistics.median(ing["raw_duckdb_runs_s"])
    )
    assert res["queries"]["client_ms"] == pytest.approx(statistics.median(res["queries"]["client_runs_ms"]))
    assert res["pandas_baseline"]["client_ms"] == pytest.approx(
        statistics.median(res["pandas_baseline"]["client_runs_ms"])
    )
    for page in ("client", "overview", "techniques"):
        runs = res["pages"]["runs"][page]
        assert res["pages"][f"{page}_ms"] == pytest.approx(statistics.median(runs["cold_runs_ms"]))
        assert runs["charts"] > 0, page
    w = res["writes"]
    assert len(w["checkin_runs_ms"]) == len(w["visit_save_runs_ms"]) == w["n"] == 20
    assert w["checkin_ms"] == pytest.approx(statistics.median(w["checkin_runs_ms"]))
    assert w["visit_save_ms"] == pytest.approx(statistics.median(w["visit_save_runs_ms"]))
    b = res["browser"]
    assert b["client_load_ms"] == pytest.approx(statistics.median(b["client_load_runs_ms"]))
    assert b["client_switch_ms"] == pytest.approx(statistics.median(b["client_switch_runs_ms"]))
    by_process = res["peak_rss_mb_by_process"]
    assert res["peak_rss_mb"] == max(by_process["dashboard_client_and_overview"], by_process["dashboard_techniques"])
    assert all(v > 0 for v in by_process.values())


def test_dashboard_and_pandas_baseline_agreed(result):
    res, _ = result
    agreed = res["agreement"]
    # the client shown has visits, ROM pairs, self-reports and a per-technique table, all compared
    assert all(n > 0 for n in agreed["client_rows"].values()), agreed
    assert agreed["client_rows"]["visits"] == res["queries"]["client_visits"]
    assert agreed["techniques"] >= 5
