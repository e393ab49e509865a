"""This client's technique response and fair trial in a real headless Chromium against
``knotwork serve`` (what a therapist reads and clicks on Client progress)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.techniques import trial as tr
from tests.test_e2e_browser import CHROMIUM, browser, server, wait_for_app  # noqa: F401 (browser, server: fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]


def _pick(page, label: str, typed: str) -> None:
    box = page.get_by_test_id("stMultiSelect").filter(has_text=label)
    box.locator("input").click()
    box.locator("input").fill(typed)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def test_therapist_reads_what_helps_and_starts_a_trial(server, browser):
    from playwright.sync_api import expect

    url, db = server
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{url}/?client=C0001")
    wait_for_app(page, timeout_ms=90_000)
    expect(page.get_by_text("What seems to help: Trigger point").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("A suggestion for the next visit")).to_be_visible()
    page.get_by_text("Start a fair trial of two mixes").click()
    _pick(page, "Mix A", "Trigger")
    _pick(page, "Mix B", "Myofascial")
    page.get_by_role("button", name="Start the trial").click()
    wait_for_app(page, timeout_ms=90_000)
    expect(page.get_by_text("Next visit (1 of 12)")).to_be_visible(timeout=30_000)
    stored = tr.trials(db, "C0001")
    assert len(stored) == 1 and stored[0].mix_a == ["trigger_point"] and stored[0].mix_b == ["myofascial_release"]
    page.close()
