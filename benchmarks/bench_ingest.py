"""Import throughput and peak memory at three practice sizes, side by side in one run.

For each size the same generated practice is loaded three ways, each in its own child process so
peak memory (max RSS) is that method's alone:

* ``knotwork``   — ``ingest_files``: validation, raw/staging/core layers, marts (the real thing)
* ``pandas``     — plain pandas baseline: ``read_csv`` with naive casts, written to DuckDB tables
* ``duckdb_csv`` — DuckDB's own ``read_csv`` straight into tables (no validation at all)

Usage::

    python benchmarks/bench_ingest.py --sizes solo clinic [network] [--repeat 3]

Writes ``benchmarks/out/ingest-<size>.json`` and prints a Markdown table for RESULTS.md.
Machines here are 2-core and noisy: quote medians and the ratios between methods from one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import describe  # benchmarks/machine.py (this folder is on sys.path when run as a script)

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SIZES = {"solo": 40, "clinic": 2_000, "network": 100_000}
FILES = ["clients", "visits", "rom", "self_reports", "trigger_points", "outcome_measures"]

CHILD = r"""
import sys, time, resource, json
method, folder, db, kinds = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
files = [f"{folder}/{k}.csv" for k in kinds]
t0 = time.perf_counter()
if method == "knotwork":
    from pipelines.ingest.importer import ingest_files
    reports = ingest_files(files, db=db)
    rows = sum(r.rows_read for r in reports)
    assert all(r.error is None and r.accounted for r in reports)
elif method == "pandas":
    import duckdb, pandas as pd
    con = duckdb.connect(db)
    rows = 0
    for f, k in zip(files, kinds):
        df = pd.read_csv(f)
        for c in df.columns:
            if c.endswith(("_date", "_at", "_on")):
                df[c] = pd.to_datetime(df[c], errors="coerce")
        df = df.drop_duplicates()
        rows += len(df)
        con.register("df", df)
        con.execute(f"CREATE TABLE {k} AS SELECT * FROM df")
    con.close()
elif method == "duckdb_csv":
    import duckdb
    con = duckdb.connect(db)
    rows = 0
    for f, k in zip(files, kinds):
        con.execute(f"CREATE TABLE {k} AS SELECT * FROM read_csv(?)", [f])
        rows += con.execute(f"SELECT count(*) FROM {k}").fetchone()[0]
    con.close()
elapsed = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "rows": rows, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "max_rss_mb": usage.ru_maxrss / 1024}))
"""


def ensure_practice(size: str) -> Path:
    folder = OUT / f"practice-{size}"
    if not (folder / "truth.json").exists():
        from pipelines.sample.practice import generate

        t0 = time.perf_counter()
        generate(folder, n_clients=SIZES[size], seed=11)
        print(f"generated {size} practice in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return folder


def run_once(method: str, folder: Path, db: Path) -> dict:
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, method, str(folder), str(db), json.dumps(FILES)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["solo", "clinic"], choices=list(SIZES))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--methods", nargs="+", default=["knotwork", "pandas", "duckdb_csv"])
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    print(f"machine: {describe('duckdb', 'pandas')}")
    # CPU seconds (all threads, process start included) next to wall time: on a shared, busy
    # machine the CPU ratio is the steadier comparison.
    print(
        "| size | method | rows | median s | rows/s | peak RSS MB | time vs duckdb_csv | rows/s as % of duckdb_csv "
        "| median CPU s | CPU vs duckdb_csv |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        folder = ensure_practice(size)
        results = {}
        repeat = 1 if size == "network" else args.repeat
        for _ in range(repeat):  # interleave the methods so noise hits them alike
            for method in args.methods:
                results.setdefault(method, []).append(run_once(method, folder, OUT / f"bench-{size}-{method}.duckdb"))
        base_runs = results.get("duckdb_csv", results[args.methods[0]])
        base = statistics.median(r["seconds"] for r in base_runs)
        base_cpu = statistics.median(r["cpu_s"] for r in base_runs)
        summary = {}
        for method, runs in results.items():
            med = statistics.median(r["seconds"] for r in runs)
            rss = max(r["max_rss_mb"] for r in runs)
            rows = runs[0]["rows"]
            cpu = statistics.median(r["cpu_s"] for r in runs)
            summary[method] = {
                "median_s": med,
                "rows": rows,
                "rows_per_s": rows / med,
                "peak_rss_mb": rss,
                "median_cpu_s": cpu,
                "runs": runs,
            }
            print(
                f"| {size} | {method} | {rows:,} | {med:.2f} | {rows / med:,.0f} | {rss:,.0f} | {med / base:.1f}× "
                f"| {100 * base / med:.0f} % | {cpu:.2f} | {cpu / base_cpu:.1f}× |",
                flush=True,
            )
        (OUT / f"ingest-{size}.json").write_text(
            json.dumps({"machine": describe("duckdb", "pandas"), "size": size, "results": summary}, indent=1)
        )


if __name__ == "__main__":
    main()
