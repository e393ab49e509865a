"""This client's own technique response: accuracy on planted per-client effects, and speed.

Accuracy (``pipelines.sample.per_client``: clients differ in their response to each technique and
in their relief whatever is done): root-mean-square error of the pooled per-client estimates and
of the raw with/without difference inside each client, on the same client-technique pairs, and
the share of 95 % intervals that hold the client's planted effect.  Several seeds per practice
size; the small size shows the intervals still cover when the spread between clients is barely
known.

Speed (``--db PATH``): load + fit on an imported practice, then one client (what the page adds
per client once the fit is cached) and every client (``knotwork techniques --client all``).

Usage::

    python benchmarks/bench_client_response.py [--seeds 5] [--db PATH ...]
"""

from __future__ import annotations

import argparse
import time

from pipelines.sample.per_client import evaluate, simulate
from pipelines.techniques import client_response as cr


def accuracy(n_clients: int, seeds: int) -> dict[str, float]:
    totals = {"n": 0, "sq_pooled": 0.0, "sq_raw": 0.0, "covered": 0.0, "width": 0.0}
    for seed in range(seeds):
        r = evaluate(*simulate(n_clients=n_clients, seed=1000 * n_clients + seed))
        totals["n"] += r["n"]
        totals["sq_pooled"] += r["rmse_pooled"] ** 2 * r["n"]
        totals["sq_raw"] += r["rmse_raw"] ** 2 * r["n"]
        totals["covered"] += r["coverage"] * r["n"]
        totals["width"] += r["mean_width"] * r["n"]
    n = totals["n"]
    return {
        "pairs": n,
        "rmse_pooled": (totals["sq_pooled"] / n) ** 0.5,
        "rmse_raw": (totals["sq_raw"] / n) ** 0.5,
        "coverage": totals["covered"] / n,
        "mean_width": totals["width"] / n,
    }


def speed(db: str) -> dict[str, float]:
    t0 = time.perf_counter()
    visits = cr.load_visits(db)
    t1 = time.perf_counter()
    fit = cr.fit_practice(visits)
    t2 = time.perf_counter()
    cr.client_response(fit, visits["client_id"].iloc[len(visits) // 2])
    t3 = time.perf_counter()
    cr.all_clients(fit)
    t4 = time.perf_counter()
    return {
        "visits": len(visits),
        "clients": visits["client_id"].nunique(),
        "load_s": t1 - t0,
        "fit_s": t2 - t1,
        "one_client_s": t3 - t2,
        "all_clients_s": t4 - t3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 40, 200])
    parser.add_argument("--db", nargs="*", default=[])
    args = parser.parse_args()
    print(
        "| clients | seeds | client-technique pairs | RMSE pooled | RMSE raw with/without | 95 % coverage | mean width |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        a = accuracy(size, args.seeds)
        print(
            f"| {size} | {args.seeds} | {a['pairs']} | {a['rmse_pooled']:.2f} | {a['rmse_raw']:.2f} | "
            f"{a['coverage']:.1%} | {a['mean_width']:.2f} |"
        )
    for db in args.db:
        s = speed(db)
        print(
            f"{db}: {s['clients']:,} clients, {s['visits']:,} visits: load {s['load_s']:.2f} s, fit "
            f"{s['fit_s']:.2f} s, one client {s['one_client_s'] * 1000:.0f} ms, every client {s['all_clients_s']:.1f} s"
        )


if __name__ == "__main__":
    main()
