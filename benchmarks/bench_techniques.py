"""Technique-response analysis time on a generated practice (default: a 2,000-client clinic).

The practice is generated once (``pipelines.sample``, seed 2000) into
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

Writes ``benchmarks/out/techniques-<size>.json`` and prints a Markdown table for
``RESULTS_techniques.md``.  The machines here are 2-core and shared: the load average at the
start is recorded next to the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SIZES = {"solo": 40, "clinic": 2_000}
FILES = ["clients", "visits", "rom", "self_reports", "trigger_points", "outcome_measures"]
SEED = 2000

sys.path.insert(0, str(ROOT))


def ensure_practice(size: str) -> Path:
    from pipelines.ingest import ingest_files
    from pipelines.sample import generate

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


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import duckdb
    import numpy
    import scipy
    import statsmodels

    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "load_average_at_start": list(os.getloadavg()), "numpy": numpy.__version__, "scipy": scipy.__version__,
            "statsmodels": statsmodels.__version__, "duckdb": duckdb.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="clinic")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from pipelines import techniques as tq

    db = ensure_practice(args.size)
    info = machine()
    results: dict[str, dict] = {}

    def record(name, fn):
        med, times, res = timed(fn, args.repeat)
        results[name] = {"median_s": round(med, 3), "runs_s": [round(t, 3) for t in times]}
        print(f"{name:<12} median {med:6.2f} s  runs {', '.join(f'{t:.2f}' for t in times)}", file=sys.stderr)
        return res

    visits = record("load", lambda: tq.load_visits(db))
    rep = record("analyse", lambda: tq.analyse(visits))
    record("report", lambda: tq.technique_report(db))
    cli = [sys.executable, "-m", "knotwork", "techniques", "--db", str(db), "--json"]
    record("cli_json", lambda: subprocess.run(cli, check=True, capture_output=True, cwd=ROOT))
    record("by_region", lambda: tq.subgroups(visits))
    for key, outcome in (("carryover", "carryover_change"), ("self_report", "self_report_change"),
                         ("rom", "rom_mean_change_deg")):
        name = outcome if outcome in tq.OUTCOMES else "rom_change"
        record(key, lambda name=name: tq.analyse(visits, name, pairs=False, mixes=False))

    summary = {
        "size": args.size, "clients": rep.n_clients, "visits_in_db": len(visits), "visits_analysed": rep.n_visits,
        "techniques_estimated": int(rep.techniques["estimable"].sum()),
        "pairs_screened": int(rep.pairs["estimable"].sum()), "mixes_estimated": int(rep.mixes["estimable"].sum()),
        "method": rep.method, "synergies_in_model": rep.model_interactions, "machine": info, "timings": results,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"techniques-{args.size}.json").write_text(json.dumps(summary, indent=2, default=str))

    print(f"\n{args.size}: {rep.n_clients:,} clients, {len(visits):,} visits ({rep.n_visits:,} analysed), "
          f"{summary['techniques_estimated']} techniques, {summary['pairs_screened']} pairs screened, "
          f"{summary['mixes_estimated']} mixes; {info['cores']} cores, {info['cpu']}, "
          f"load average at start {info['load_average_at_start'][0]:.1f}\n")
    print("| step | median of %d (s) | runs (s) |" % args.repeat)
    print("| --- | ---: | --- |")
    for name, r in results.items():
        print(f"| {name} | {r['median_s']:.2f} | {', '.join(f'{t:.2f}' for t in r['runs_s'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
