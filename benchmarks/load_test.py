"""A bounded load test of one Knotwork server: many browser sessions and client check-ins at once.

    python benchmarks/load_test.py --db PRACTICE.duckdb --json FILE [--sessions 20] [--opens 5]
                                   [--checkins 5] [--sends 4] [--time-limit 900]

One ``knotwork serve`` on a loopback port, on a private copy of the database (the original is not
changed).  At the same time, in one headless Chromium:

* ``--sessions`` therapist sessions (each its own browser context, so its own Streamlit session)
  each open ``--opens`` clients one after another (``?client=ID``) and wait until every chart of
  the page is drawn: **page latency**;
* ``--checkins`` clients each open their private link ``--sends`` times and send a pain check-in
  (pain, "did your home care": yes), waiting for "Thank you": **write latency** (Send to thanks).

Bounded in count (the numbers above) and in time (``--time-limit`` for the whole run; what is not
done by then counts as an error).  Recorded: p50/p95 page and write latency, errors (a timeout, an
exception shown on a page, a check-in not confirmed; must be 0), pages that said "being updated"
(not an error: the page retries by itself), and **rows lost**: check-ins confirmed on screen but
missing from ``core.self_reports`` afterwards (must be 0), with the machine's load average.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
from browser import BROWSER_ARGS, CHROMIUM, DRAWN_JS, VIEWPORT, served  # this folder, as run.py's machine
from machine import describe

from pipelines.sharing.links import create_link

THANKS = "Thank you! Your check-in was saved"
_SETTLED = """() => { const app = document.querySelector("[data-testid='stApp']");
    return app && app.dataset.testScriptState === 'notRunning' && !document.querySelector("[data-testid='stSkeleton']"); }"""
UPDATING = "being updated"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _pick(db: Path, sessions: int, opens: int, checkins: int) -> tuple[list[str], list[str]]:
    """Clients to open (busiest first, spread over the sessions) and clients who check in."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        busy = [
            r[0]
            for r in con.execute(
                "SELECT client_id FROM marts.client_summary ORDER BY n_visits DESC, client_id LIMIT ?",
                [max(sessions * opens, 1)],
            ).fetchall()
        ]
        checking = [
            r[0]
            for r in con.execute(
                "SELECT client_id FROM marts.client_summary WHERE n_visits > 0 ORDER BY client_id LIMIT ?", [checkins]
            ).fetchall()
        ]
    finally:
        con.close()
    return busy, checking


def _link_reports(db: Path, clients: list[str]) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT client_id, count(*) FROM core.self_reports WHERE source = 'link' "
            "AND client_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1",
            [clients],
        ).fetchall()
    finally:
        con.close()
    return {c: dict(rows).get(c, 0) for c in clients}


async def _session(browser, url: str, clients: list[str], tally: dict) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(tally["timeout_ms"])
    page = await context.new_page()
    try:
        for client_id in clients:
            t0 = time.perf_counter()
            try:
                await page.goto(f"{url}/?client={client_id}", wait_until="commit")  # drawn is waited for below
                await page.wait_for_function(DRAWN_JS, arg=client_id, polling=50)
                tally["page_s"].append(time.perf_counter() - t0)
                if await page.get_by_test_id("stException").count():
                    tally["errors"].append(f"exception shown on {client_id}'s page")
                if UPDATING in (await page.inner_text("body")):
                    tally["updating"] += 1
            except Exception as exc:  # a timeout or a broken page: counted, the session goes on
                tally["errors"].append(f"page {client_id}: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        await context.close()


async def _checkins(browser, link_url: str, client_id: str, sends: int, tally: dict) -> None:
    context = await browser.new_context(viewport={"width": 820, "height": 1180})  # a tablet or phone
    context.set_default_timeout(tally["timeout_ms"])
    page = await context.new_page()
    try:
        for i in range(sends):
            try:
                await page.goto(link_url, wait_until="commit")
                send = page.get_by_role("button", name="Send")
                await send.wait_for()
                await page.wait_for_function(_SETTLED, polling=50)  # the form is live, not mid-run
                await page.get_by_role("radio", name=str((i % 10) + 1), exact=True).click()
                await page.get_by_text("Yes", exact=True).click()
                t0 = time.perf_counter()
                await send.click()
                await page.get_by_text(THANKS).wait_for()
                tally["write_s"].append(time.perf_counter() - t0)
                tally["confirmed"][client_id] += 1
            except Exception as exc:
                tally["errors"].append(f"check-in {client_id} #{i + 1}: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        await context.close()


async def _drive(url: str, links: dict[str, str], plan: list[list[str]], sends: int, tally: dict) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            await asyncio.gather(
                *(_session(browser, url, clients, tally) for clients in plan),
                *(_checkins(browser, link, cid, sends, tally) for cid, link in links.items()),
            )
        finally:
            await browser.close()


def run(db: Path, sessions: int, opens: int, checkins: int, sends: int, time_limit_s: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "load.duckdb"
        shutil.copy(db, copy)
        busy, checking = _pick(copy, sessions, opens, checkins)
        plan = [[busy[(s * opens + i) % len(busy)] for i in range(opens)] for s in range(sessions)]
        before = _link_reports(copy, checking)
        tally = {
            "page_s": [],
            "write_s": [],
            "errors": [],
            "updating": 0,
            "confirmed": dict.fromkeys(checking, 0),
            "timeout_ms": min(120_000, time_limit_s * 1000),
        }
        load_before = os.getloadavg()
        with served(copy, tmp) as (url, _):
            links = {cid: create_link(cid, days=1, db=copy, base_url=url + "/").url for cid in checking}
            t0 = time.perf_counter()
            try:
                asyncio.run(asyncio.wait_for(_drive(url, links, plan, sends, tally), timeout=time_limit_s))
            except TimeoutError:
                tally["errors"].append(f"the run did not finish within {time_limit_s:.0f} s")
            wall = time.perf_counter() - t0
            load_during = os.getloadavg()
        after = _link_reports(copy, checking)
    stored = {c: after[c] - before[c] for c in checking}
    lost = sum(max(tally["confirmed"][c] - stored[c], 0) for c in checking)
    page_ms = [s * 1000 for s in tally["page_s"]]
    write_ms = [s * 1000 for s in tally["write_s"]]
    return {
        "sessions": sessions,
        "opens_per_session": opens,
        "checkin_clients": checkins,
        "sends_per_client": sends,
        "page_loads": len(page_ms),
        "page_loads_planned": sessions * opens,
        "writes": len(write_ms),
        "writes_planned": checkins * sends,
        "page_p50_ms": _pct(page_ms, 50),
        "page_p95_ms": _pct(page_ms, 95),
        "page_max_ms": max(page_ms, default=None),
        "write_p50_ms": _pct(write_ms, 50),
        "write_p95_ms": _pct(write_ms, 95),
        "write_max_ms": max(write_ms, default=None),
        "errors": len(tally["errors"]),
        "error_examples": tally["errors"][:10],
        "pages_saying_updating": tally["updating"],
        "checkins_confirmed": sum(tally["confirmed"].values()),
        "checkins_stored": sum(stored.values()),
        "rows_lost": lost,
        "wall_s": wall,
        "writes_per_s": len(write_ms) / wall if wall else None,
        "pages_per_s": len(page_ms) / wall if wall else None,
        "load_average_before": load_before,
        "load_average_after": load_during,
        "page_runs_ms": page_ms,
        "write_runs_ms": write_ms,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="an imported practice (copied; the original is not changed)")
    ap.add_argument("--json", required=True, metavar="FILE")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--opens", type=int, default=5, help="clients each session opens, one after another")
    ap.add_argument("--checkins", type=int, default=5, help="clients checking in through their links")
    ap.add_argument("--sends", type=int, default=4, help="check-ins each of those clients sends")
    ap.add_argument("--time-limit", type=float, default=900, metavar="S")
    args = ap.parse_args(argv)
    result = {
        "machine": describe("duckdb", "streamlit"),
        "db": str(args.db),
        "started_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **run(Path(args.db), args.sessions, args.opens, args.checkins, args.sends, args.time_limit),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    summary = {
        k: result[k]
        for k in (
            "page_loads",
            "page_p50_ms",
            "page_p95_ms",
            "writes",
            "write_p50_ms",
            "write_p95_ms",
            "errors",
            "rows_lost",
            "wall_s",
            "load_average_after",
        )
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
