"""What a therapist waits for in a real browser: ``knotwork serve`` driven by headless Chromium.

Shared by ``run.py`` (``browser.client_load_ms`` / ``client_switch_ms``) and ``load_test.py``.

"Drawn" means: the Streamlit script run has finished, no loading skeleton is left, at least one
chart is on the page and every chart container holds a Plotly plot that has drawn its SVG (Plotly
draws after the run ends, in the browser, so the server's render time alone does not say it).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 900}

# True once the page shows this client (``?client=`` in the address), the run has ended and every
# chart is drawn.
DRAWN_JS = """(clientId) => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.dataset.testConnectionState !== 'CONNECTED' || app.dataset.testScriptState !== 'notRunning') return false;
    if (!new URLSearchParams(location.search).get('client') || new URLSearchParams(location.search).get('client') !== clientId) return false;
    if (document.querySelector("[data-testid='stSkeleton']")) return false;
    const charts = document.querySelectorAll("[data-testid='stPlotlyChart']");
    if (charts.length === 0) return false;
    return Array.from(charts).every(c => c.querySelector('.js-plotly-plot .main-svg'));
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _knotwork() -> list[str]:
    script = Path(sys.executable).with_name("knotwork")
    return [str(script)] if script.exists() else [sys.executable, "-m", "knotwork"]


@contextlib.contextmanager
def served(db: str | Path, home: str | Path, timeout_s: float = 120) -> Iterator[tuple[str, subprocess.Popen]]:
    """``knotwork serve`` on a free loopback port; stopped (its own pid only) on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KNOTWORK_DB"}
    env["HOME"] = str(home)  # no stray ~/.streamlit config
    proc = subprocess.Popen(
        [*_knotwork(), "serve", "--db", str(db), "--port", str(port), "--address", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"knotwork serve exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the dashboard did not become healthy in time")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_drawn(page, client_id: str, timeout_ms: float = 120_000) -> None:
    page.wait_for_function(DRAWN_JS, arg=client_id, polling=20, timeout=timeout_ms)


def open_client(page, url: str, client_id: str) -> float:
    """Seconds from navigating to the client's page until every chart is drawn."""
    t0 = time.perf_counter()
    page.goto(f"{url}/?client={client_id}", wait_until="commit")  # drawn is waited for below
    wait_drawn(page, client_id)
    return time.perf_counter() - t0


def _run_settled(page) -> None:
    """Wait for the rerun a search triggered to start (if not already over) and end."""
    state = "document.querySelector(\"[data-testid='stApp']\").dataset.testScriptState"
    with contextlib.suppress(Exception):  # a fast rerun may be over before we look
        page.wait_for_function(f"() => {state} === 'running'", polling=10, timeout=2_000)
    page.wait_for_function(f"() => {state} === 'notRunning'", polling=20, timeout=120_000)


def switch_client(page, client_id: str, label: str) -> float:
    """Seconds from choosing another client in the picker until its charts are drawn.

    Small practices list every client: the clock starts at the click on the client.  Past the
    picker's full-list size the therapist searches first: the clock starts when the search is
    sent, so both reruns count."""
    find = page.get_by_label("Find a client")
    box = page.get_by_test_id("stSelectbox").first
    searching = find.count() > 0
    t0 = time.perf_counter()
    if searching:
        find.fill(client_id)
        t0 = time.perf_counter()
        find.press("Enter")
        _run_settled(page)
        box.click()
    else:
        box.click()
        page.keyboard.type(client_id)  # the user's typing, before the clock starts
    option = page.get_by_role("option", name=label)
    option.wait_for(timeout=30_000)
    if not searching:
        t0 = time.perf_counter()
    option.click()
    wait_drawn(page, client_id)
    return time.perf_counter() - t0
