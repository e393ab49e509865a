"""In a real headless Chromium against ``knotwork serve``: a therapist's own XLSX (names, "7/10",
a range, "TrP + MFR", a new term, a blank row, three real errors) is uploaded on the Import page,
its new term resolved before import, a rejected row corrected in the app, and every row is
accounted for.  Screenshots at 1366, 820 and 390 px go to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.importer import ingest_file
from tests.test_e2e_browser import (
    ARTIFACTS,
    BROWSER_ARGS,
    CHROMIUM,
    free_port,
    full_screenshot,
    knotwork_command,
    wait_for_app,
    wait_healthy,
)

CORPUS = Path(__file__).parent / "data" / "corpus"
SHEET = CORPUS / "treatment_log.xlsx"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]


@pytest.fixture
def server(tmp_path):
    db = tmp_path / "practice.duckdb"
    ingest_file(CORPUS / "clients.csv", db=db)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KNOTWORK_DB"}
    env["HOME"] = str(tmp_path)
    proc = subprocess.Popen(
        [*knotwork_command(), "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True))
    return box.get_by_test_id("stMetricValue").inner_text().strip()


def test_a_therapists_xlsx_is_imported_its_new_term_resolved_and_a_rejected_row_corrected(server):
    from playwright.sync_api import expect, sync_playwright

    url, db = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/import")
        wait_for_app(page)
        page.locator("input[type=file]").set_input_files(str(SHEET))
        wait_for_app(page)
        expect(page.get_by_text("of 6 rows, with the import's own rules")).to_be_visible(timeout=30_000)
        for name, width in (("desktop", 1366), ("tablet", 820), ("phone", 390)):
            page.set_viewport_size({"width": width, "height": 900})
            full_screenshot(page, ARTIFACTS / f"import-preview-{name}.png")
        page.set_viewport_size({"width": 1366, "height": 900})

        # The new term, before anything is written: "same as" a known technique.
        term = page.get_by_test_id("stSelectbox").filter(has_text="Technique 'kinesio tape'")
        term.click()
        page.keyboard.type("instrument")
        option = page.get_by_role("option", name="Same as instrument assisted")
        option.wait_for(timeout=10_000)
        option.click()
        wait_for_app(page)
        page.get_by_role("button", name="Import 6 rows").click()
        wait_for_app(page)
        expect(page.get_by_text("Imported treatment_log.xlsx")).to_be_visible(timeout=60_000)
        rows = {label: _metric(page, label) for label in ("Rows read", "Loaded", "Updated", "Unchanged", "Rejected")}
        assert rows == {"Rows read": "6", "Loaded": "3", "Updated": "0", "Unchanged": "0", "Rejected": "3"}

        # Correct line 8 (pain before 12, a typo for 2) in the grid: Line, Why, Client, Date, Pain before.
        grid = page.get_by_test_id("stDataFrame").filter(has_text="Why it was rejected")
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 20, box["y"] + 35 + 17)  # the first row's Line cell
        for key in ["ArrowDown", "ArrowDown", *["ArrowRight"] * 4]:
            page.keyboard.press(key)
        page.keyboard.press("Enter")  # open the cell's editor, then replace what it holds
        page.wait_for_timeout(300)
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.type("2", delay=120)
        page.keyboard.press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Import the 3 corrected rows").click()
        wait_for_app(page)
        done = page.get_by_text(
            re.compile(
                r"3 corrected rows imported: 1 loaded, 0 updated, 0 unchanged, "
                r"2 still rejected \(lines 6, 7 of the file\)"
            )
        )
        expect(done).to_be_visible(timeout=60_000)
        for name, width in (("desktop", 1366), ("tablet", 820), ("phone", 390)):
            page.set_viewport_size({"width": width, "height": 900})
            full_screenshot(page, ARTIFACTS / f"import-corrected-{name}.png")
        browser.close()

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT techniques FROM core.visits WHERE client_id = 'K03'").fetchone()[0] == [
            "instrument_assisted",
            "trigger_point",
        ]
        assert con.execute("SELECT pain_pre FROM core.visits WHERE client_id = 'K06'").fetchall() == [(2.0,)]
        # Every row of the file is accounted for: 3 loaded at once, 1 after correction, 2 still rejected.
        assert con.execute("SELECT count(*) FROM core.visits").fetchone()[0] == 4
