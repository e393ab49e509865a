"""Per-page render time and peak memory of the therapist dashboard at each practice size.

Each page runs through Streamlit's AppTest (the real script, queries and charts, without the
browser's drawing time) on the database that ``bench_ingest.py`` built for that size
(``benchmarks/out/bench-<size>-knotwork.duckdb``).  "Cold" = caches cleared (what the first
therapist to open the page waits for); "warm" = the same page rerun (every click after that).
Each size runs in its own child process, so its peak RSS is that size's alone.

Usage::

    python benchmarks/bench_ingest.py --sizes solo clinic network   # builds the databases
    python benchmarks/bench_pages.py --sizes solo clinic network
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
APP = HERE.parent / "dashboard" / "streamlit_app.py"

CHILD = r"""
import json, os, resource, statistics, sys, time
import duckdb
import streamlit as st
from streamlit.testing.v1 import AppTest

db, app, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.environ["KNOTWORK_DB"] = db
con = duckdb.connect(db, read_only=True)
client = con.execute("SELECT client_id FROM marts.client_summary ORDER BY n_visits DESC, client_id LIMIT 1").fetchone()[0]
con.close()
pages = {"client progress": "app_pages/client_progress.py", "practice overview": "app_pages/practice_overview.py",
         "technique response": "app_pages/techniques.py"}
out = {}
for name, page in pages.items():
    cold, warm = [], []
    for _ in range(repeat):
        st.cache_data.clear(); st.cache_resource.clear()
        at = AppTest.from_file(app, default_timeout=600)
        at.query_params["client"] = client
        at.run()
        at.switch_page(page)
        at.query_params["client"] = client
        t0 = time.perf_counter(); at.run(); cold.append(time.perf_counter() - t0)
        assert not at.exception, [e.value for e in at.exception]
        t0 = time.perf_counter(); at.run(); warm.append(time.perf_counter() - t0)
    out[name] = {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm), "cold": cold, "warm": warm,
                 "charts": len(at.get("plotly_chart"))}
out["_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["_client"] = client
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["solo", "clinic"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("| size | page | cold median s | warm median s | charts | peak RSS MB (all pages) |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        db = OUT / f"bench-{size}-knotwork.duckdb"
        if not db.exists():
            sys.exit(f"{db} is missing: run benchmarks/bench_ingest.py --sizes {size} first")
        proc = subprocess.run([sys.executable, "-c", CHILD, str(db), str(APP), str(args.repeat)],
                              capture_output=True, text=True, check=True, cwd=HERE.parent)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        (OUT / f"pages-{size}.json").write_text(json.dumps(res, indent=1))
        for name, r in res.items():
            if not name.startswith("_"):
                print(f"| {size} | {name} | {r['cold_s']:.2f} | {r['warm_s']:.2f} | {r['charts']} | {res['_peak_rss_mb']:,.0f} |")


if __name__ == "__main__":
    main()
