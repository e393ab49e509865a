"""End to end in a real headless Chromium against ``knotwork serve`` on a copy of the sample practice.

Also proves the database pattern: while the server runs and a page has been loaded,
``knotwork ingest`` into the same file succeeds, and the new data shows on the next load.
Screenshots of every page at desktop and tablet width go to ``tests/artifacts/`` (gitignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = {"desktop": 1366, "tablet": 820}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]


def knotwork_command() -> list[str]:
    script = Path(sys.executable).with_name("knotwork")
    return [str(script)] if script.exists() else [sys.executable, "-m", "knotwork"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"knotwork serve exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError("the dashboard did not become healthy in time")


@pytest.fixture
def server(sample_db_copy, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KNOTWORK_DB"}
    env["HOME"] = str(tmp_path)  # no stray ~/.streamlit config or credentials prompt
    proc = subprocess.Popen(
        [*knotwork_command(), "serve", "--db", str(sample_db_copy), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, sample_db_copy
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield b
        b.close()


def wait_for_app(page, timeout_ms: int = 30_000) -> None:
    """Streamlit's own e2e wait: debounce, connected, script finished, no skeletons left."""
    from playwright.sync_api import expect

    page.wait_for_timeout(250)
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout_ms)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)


def full_screenshot(page, path: Path) -> None:
    """Streamlit scrolls inside stMain, so grow the viewport to the content before the shot."""
    width = page.viewport_size["width"]
    height = page.evaluate("() => (document.querySelector('[data-testid=stMain]') || document.body).scrollHeight")
    page.set_viewport_size({"width": width, "height": max(900, height + 40)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})


def expected_client_charts(db: Path, client_id: str) -> int:
    """Pain + one ROM chart per joint/movement/side + technique grid + 2 trigger-point charts + one per questionnaire."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rom = con.execute(
            "SELECT count(DISTINCT (joint, movement, side)) FROM core.rom JOIN core.visits USING (visit_id) "
            "WHERE visits.client_id = ?",
            [client_id],
        ).fetchone()[0]
        tp = con.execute(
            "SELECT count(*) FROM core.trigger_points JOIN core.visits USING (visit_id) WHERE visits.client_id = ?",
            [client_id],
        ).fetchone()[0]
        techniques = con.execute(
            "SELECT count(*) FROM core.visits WHERE client_id = ? AND len(techniques) > 0", [client_id]
        ).fetchone()[0]
        questionnaires = con.execute(
            "SELECT count(DISTINCT instrument) FROM core.outcome_measures WHERE client_id = ?", [client_id]
        ).fetchone()[0]
    finally:
        con.close()
    return 1 + rom + (1 if techniques else 0) + (2 if tp else 0) + questionnaires


def assert_all_charts_drawn(page, at_least: int) -> int:
    """Every chart Streamlit placed on the page has been drawn by Plotly, and there are at least ``at_least``.

    Plotly draws after the script run ends, so poll.  Pages may gain charts over time (other
    features add panels), hence "at least" for the total but "every one" for drawing.
    """
    from playwright.sync_api import expect

    containers = page.get_by_test_id("stPlotlyChart")
    expect(containers.nth(at_least - 1)).to_be_attached(timeout=30_000)
    n = containers.count()
    expect(page.locator(".js-plotly-plot")).to_have_count(n, timeout=30_000)
    return n


def pick_client(page, name: str, client_id: str) -> None:
    """Type to search in the client selectbox and choose the match, as a therapist would."""
    box = page.get_by_test_id("stSelectbox").first
    box.click()
    page.keyboard.type(name)
    option = page.get_by_role("option", name=f"{name} ({client_id})")
    option.wait_for(timeout=10_000)
    option.click()
    wait_for_app(page)


def test_client_page_in_a_real_browser_and_ingest_while_serving(server, browser, tmp_path):
    url, db = server
    con = duckdb.connect(str(db), read_only=True)
    client_id, name = con.execute("""
        SELECT visits.client_id, clients.display_name FROM core.visits JOIN core.clients USING (client_id)
        GROUP BY ALL ORDER BY count(*) DESC, visits.client_id LIMIT 1""").fetchone()
    con.close()
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page(viewport={"width": WIDTHS["desktop"], "height": 900})
    page.goto(url + "/")
    wait_for_app(page)
    assert page.get_by_test_id("stException").count() == 0
    pick_client(page, name, client_id)

    assert f"client={client_id}" in page.url
    assert_all_charts_drawn(page, expected_client_charts(db, client_id))
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_text("Pain before and after each visit").count() >= 1
    full_screenshot(page, ARTIFACTS / "client_progress_desktop.png")

    # The page has been loaded and read the database; an import into the same file must not be blocked.
    clients_csv = tmp_path / "new_clients.csv"
    clients_csv.write_text("client_id,display_name,status\nE2E1,Ezra Newcomer,active\n", encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(
        [*knotwork_command(), "ingest", str(clients_csv), "--db", str(db)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "1 loaded" in result.stdout
    assert time.monotonic() - started < 60

    # ...and the running dashboard shows it on the next load (the data version is in every cache key).
    page.goto(url + "/")
    wait_for_app(page)
    box = page.get_by_test_id("stSelectbox").first
    box.click()
    page.keyboard.type("Ezra")
    page.get_by_role("option", name="Ezra Newcomer (E2E1)").wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    page.close()


def test_every_page_renders_at_desktop_and_tablet_width(server, browser):
    url, db = server
    con = duckdb.connect(str(db), read_only=True)
    client_id = con.execute(
        "SELECT client_id FROM core.visits GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()[0]
    con.close()
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {
        "client_progress": (f"/?client={client_id}", expected_client_charts(db, client_id)),
        "practice_overview": ("/practice", 3),
    }
    for label, width in WIDTHS.items():
        page = browser.new_page(viewport={"width": width, "height": 900})
        for name, (path, n_charts) in pages.items():
            page.goto(url + path)
            wait_for_app(page)
            assert_all_charts_drawn(page, n_charts)
            assert page.get_by_test_id("stException").count() == 0, (name, label)
            full_screenshot(page, ARTIFACTS / f"{name}_{label}.png")
        page.close()
