"""Technique-response analysis time on a generated practice (default: a 2,000-client clinic).

The practice is generated once (``pipelines.sample.practice``, seed 2000) into
``benchmarks/out/techniques-<size>/`` and imported with ``ingest_files`` (all six kinds);
later runs reuse it.  Then, ``--repeat`` times each (median reported):

* ``load``        - ``load_visits``: the visit frame with self-report windows, one read-only connection
* ``analyse``     - ``analyse(visits)``: main mixed model, pair screen + synergy refit, mixes, pressure
* ``report``      - ``technique_report(db)``: load + analyse, what the page and the CLI call
* ``cli_json``    - ``knotwork techniques --db … --json`` in a fresh process (imports included)
* ``by_region``   - ``subgroups``: one model per complaint region (the page's optional tab)
* ``carryover`` / ``self_report`` / ``rom`` - the secondary outcomes (techniques only)

Usage::

    python benchmarks/bench_techniques.py [--size clinic|solo] [--repeat 3]
    python benchmarks/bench_techniques.py --pages [--sizes solo clinic network] [--repeat 3]

``--pages`` measures the technique page on the databases ``bench_ingest.py`` built
(``benchmarks/out/bench-<size>-knotwork.duckdb``, opened read-only, never modified), each run
in a fresh child process so its peak RSS is the page's alone:

* ``analysis``  - ``pipelines.techniques.analysis.technique_report(db)``, "the technique analysis
  queries" (auto path: mixed model up to ``technique_sql.LARGE_DATA_VISITS`` visits, the
  within-client SQL path above), computed (no stored result);
* ``store``     - ``technique_sql.store_default_report`` (what the import would add), on a
  writable copy ``benchmarks/out/techniques-<size>-stored.duckdb`` (large sizes only);
* ``cold``      - AppTest render of the page in a fresh process, caches cleared, on the
  imported database (computed) and on the copy with the stored result (the first view after
  an import that stores it); ``warm`` - the same page rerun (median of the reruns).

Wall time and the process's CPU time are both recorded: the build machine is shared (load
averages of 5-20 were seen), and CPU seconds show the work done independent of the queue.

Writes ``benchmarks/out/techniques-<size>.json`` and prints a Markdown table for
``RESULTS_techniques.md``.  The machines here are 2-core and shared: the load average at the
start is recorded next to the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import describe  # benchmarks/machine.py (this folder is on sys.path when run as a script)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SIZES = {"solo": 40, "clinic": 2_000}
FILES = ["clients", "visits", "rom", "self_reports", "trigger_points", "outcome_measures"]
SEED = 2000

sys.path.insert(0, str(ROOT))


def ensure_practice(size: str) -> Path:
    from pipelines.ingest.importer import ingest_files
    from pipelines.sample.practice import generate

    folder = OUT / f"techniques-{size}"
    db = folder / "knotwork.duckdb"
    if not db.exists():
        t0 = time.perf_counter()
        generate(folder / "csv", n_clients=SIZES[size], seed=SEED)
        reports = ingest_files([folder / "csv" / f"{k}.csv" for k in FILES], db=db)
        assert all(r.error is None for r in reports), [r.error for r in reports]
        print(f"generated and imported the {size} practice in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return db


def timed(fn, repeat: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="clinic")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from pipelines.techniques import analysis
    from pipelines.techniques import model as tq
    from pipelines.techniques.common import OUTCOMES

    db = ensure_practice(args.size)
    info = describe("numpy", "scipy", "statsmodels", "duckdb")
    results: dict[str, dict] = {}

    def record(name, fn):
        med, times, res = timed(fn, args.repeat)
        results[name] = {"median_s": round(med, 3), "runs_s": [round(t, 3) for t in times]}
        print(f"{name:<12} median {med:6.2f} s  runs {', '.join(f'{t:.2f}' for t in times)}", file=sys.stderr)
        return res

    visits = record("load", lambda: tq.load_visits(db))
    rep = record("analyse", lambda: tq.analyse(visits))
    record("report", lambda: analysis.technique_report(db))
    cli = [sys.executable, "-m", "knotwork", "techniques", "--db", str(db), "--json"]
    record("cli_json", lambda: subprocess.run(cli, check=True, capture_output=True, cwd=ROOT))
    record("by_region", lambda: tq.subgroups(visits))
    for key, outcome in (
        ("carryover", "carryover_change"),
        ("self_report", "self_report_change"),
        ("rom", "rom_mean_change_deg"),
    ):
        name = outcome if outcome in OUTCOMES else "rom_change"
        record(key, lambda name=name: tq.analyse(visits, name, pairs=False, mixes=False))

    summary = {
        "size": args.size,
        "clients": rep.n_clients,
        "visits_in_db": len(visits),
        "visits_analysed": rep.n_visits,
        "techniques_estimated": int(rep.techniques["estimable"].sum()),
        "pairs_screened": int(rep.pairs["estimable"].sum()),
        "mixes_estimated": int(rep.mixes["estimable"].sum()),
        "method": rep.method,
        "synergies_in_model": rep.model_interactions,
        "machine": info,
        "timings": results,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"techniques-{args.size}.json").write_text(json.dumps(summary, indent=2, default=str))

    print(
        f"\n{args.size}: {rep.n_clients:,} clients, {len(visits):,} visits ({rep.n_visits:,} analysed), "
        f"{summary['techniques_estimated']} techniques, {summary['pairs_screened']} pairs screened, "
        f"{summary['mixes_estimated']} mixes; {info['cores']} cores, {info['cpu']}, "
        f"load average at start {info['load_average_at_start'][0]:.1f}\n"
    )
    print(f"| step | median of {args.repeat} (s) | runs (s) |")
    print("| --- | ---: | --- |")
    for name, r in results.items():
        print(f"| {name} | {r['median_s']:.2f} | {', '.join(f'{t:.2f}' for t in r['runs_s'])} |")
    return 0


PAGE_CHILD = r"""
import json, os, resource, statistics, sys, time
t_start, c_start = time.perf_counter(), time.process_time()
db, app, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.environ["KNOTWORK_DB"] = db
import streamlit as st
from streamlit.testing.v1 import AppTest
st.cache_data.clear(); st.cache_resource.clear()
at = AppTest.from_file(app, default_timeout=900)
at.run()
at.switch_page("app_pages/techniques.py")
t0, c0 = time.perf_counter(), time.process_time()
at.run()
cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
assert not at.exception, [e.value for e in at.exception]
warm, warm_cpu = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    at.run()
    warm.append(time.perf_counter() - t0); warm_cpu.append(time.process_time() - c0)
metrics = {m.label: m.value for m in at.metric}
print(json.dumps({"cold_s": cold, "cold_cpu_s": cold_cpu, "warm_s": statistics.median(warm), "warm_runs_s": warm,
                  "warm_cpu_s": statistics.median(warm_cpu), "method": metrics.get("Method"),
                  "visits_analysed": metrics.get("Visits analysed"), "charts": len(at.get("plotly_chart")),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

ANALYSIS_CHILD = r"""
import json, resource, sys, time
db = sys.argv[1]
from pipelines.techniques import analysis
t0, c0 = time.perf_counter(), time.process_time()
rep = analysis.technique_report(db, path="auto")
out = {"analysis_s": time.perf_counter() - t0, "analysis_cpu_s": time.process_time() - c0, "method": rep.method,
       "visits": rep.n_visits, "clients": rep.n_clients,
       "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
       "techniques": rep.techniques[["technique", "n_visits", "n_clients", "effect", "ci_low", "ci_high",
                                     "p_adjusted"]].to_dict("records")}
print(json.dumps(out, default=float))
"""

STORE_CHILD = r"""
import json, sys, time
db = sys.argv[1]
from pipelines.techniques import large as ts
from pipelines.warehouse.db import write_connection
t0, c0 = time.perf_counter(), time.process_time()
with write_connection(db) as con:
    stored = ts.store_default_report(con, db=db)
print(json.dumps({"stored": stored, "store_s": time.perf_counter() - t0, "store_cpu_s": time.process_time() - c0}))
"""


def _child(code: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]  # the result; anything else is noise
    if not lines:
        raise RuntimeError(f"no result from the child:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def pages(sizes: list[str], repeat: int, sources: dict[str, str] | None = None) -> int:
    import shutil

    from pipelines.techniques import large as technique_sql

    app = str(ROOT / "dashboard" / "streamlit_app.py")
    rows = []
    for size in sizes:
        db = Path((sources or {}).get(size) or OUT / f"bench-{size}-knotwork.duckdb")
        if not db.exists():
            sys.exit(f"{db} is missing: run benchmarks/bench_ingest.py --sizes {size} first")
        res: dict = {
            "size": size,
            "database": str(db),
            "machine": describe("numpy", "scipy", "statsmodels", "duckdb"),
            "limit_visits": technique_sql.LARGE_DATA_VISITS,
        }
        res["analysis"] = _child(ANALYSIS_CHILD, str(db))
        res["page_computed"] = _child(PAGE_CHILD, str(db), app, str(repeat))
        if technique_sql.is_large(res["analysis"]["visits"]):
            copy = OUT / f"techniques-{size}-stored.duckdb"
            shutil.copy(db, copy)  # the benchmark databases are never modified
            res["store"] = _child(STORE_CHILD, str(copy))
            res["page_stored"] = _child(PAGE_CHILD, str(copy), app, str(repeat))
        res["load_average_at_end"] = list(os.getloadavg())
        (OUT / f"techniques-pages-{size}.json").write_text(json.dumps(res, indent=1, default=str))
        rows.append(res)
        print(f"{size}: done", file=sys.stderr)
    print(
        "| size | visits analysed | method | analysis s (CPU s) | page cold, computed s (CPU s) | "
        "store s | page cold, stored s (CPU s) | page warm s (CPU s) | peak RSS MB | load avg start/end |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        a, pc, ps = r["analysis"], r["page_computed"], r.get("page_stored")
        warm = ps or pc
        rss = max(pc["peak_rss_mb"], ps["peak_rss_mb"] if ps else 0)
        print(
            f"| {r['size']} | {a['visits']:,} | {'SQL aggregates' if 'SQL' in a['method'] else 'mixed model + client means'} "
            f"| {a['analysis_s']:.2f} ({a['analysis_cpu_s']:.2f}) | {pc['cold_s']:.2f} ({pc['cold_cpu_s']:.2f}) | "
            + (f"{r['store']['store_s']:.1f} | {ps['cold_s']:.2f} ({ps['cold_cpu_s']:.2f})" if ps else "- | -")
            + f" | {warm['warm_s']:.2f} ({warm['warm_cpu_s']:.2f}) | {rss:,.0f} | "
            f"{r['machine']['load_average_at_start'][0]:.1f} / {r['load_average_at_end'][0]:.1f} |"
        )
    return 0


if __name__ == "__main__":
    if "--pages" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--pages", action="store_true")
        ap.add_argument("--sizes", nargs="+", default=["solo", "clinic", "network"])
        ap.add_argument("--repeat", type=int, default=3)
        ap.add_argument(
            "--db",
            action="append",
            default=[],
            metavar="SIZE=PATH",
            help="measure SIZE on this database instead of bench-SIZE-knotwork.duckdb (never modified)",
        )
        a = ap.parse_args()
        sys.exit(pages(a.sizes, a.repeat, dict(x.split("=", 1) for x in a.db)))
    sys.exit(main())
