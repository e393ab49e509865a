"""The between-clients brief in a real headless Chromium against ``knotwork serve``: open a client,
click "Log a visit", save a visit with a plan, and see the new visit and plan in the brief.
Screenshots of the client page (1366 and 820 px) and the client's link (390 px) go to
``tests/artifacts/`` (gitignored)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.test_e2e_browser import ARTIFACTS, CHROMIUM, browser, server, wait_for_app  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
]

# Generous: the test must pass with both cores busy (a page run took ~17 s at load 20).
LOADED_MS = 120_000
PLAN = "Check SCM and scalenes, add pec minor release"
NOTES = "L UT active TrP refers to temple"


def shot(page, path) -> None:
    """The whole page (Streamlit scrolls inside stMain: grow the viewport to the content first)."""
    width = page.viewport_size["width"]
    height = page.evaluate("() => (document.querySelector('[data-testid=stMain]') || document.body).scrollHeight")
    page.set_viewport_size({"width": width, "height": max(900, height + 40)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True, timeout=LOADED_MS)
    page.set_viewport_size({"width": width, "height": 900})


def test_log_a_visit_from_the_client_page_and_see_it_in_the_brief(server, browser):
    from playwright.sync_api import expect

    url, db = server
    con = duckdb.connect(str(db), read_only=True)
    client_id, name = con.execute("""
        SELECT visits.client_id, clients.display_name FROM core.visits JOIN core.clients USING (client_id)
        WHERE coalesce(clients.status, 'active') = 'active'
        GROUP BY ALL ORDER BY count(*) DESC, visits.client_id LIMIT 1""").fetchone()
    con.close()
    ARTIFACTS.mkdir(exist_ok=True)
    today = dt.date.today()

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{url}/?client={client_id}")
    wait_for_app(page, LOADED_MS)
    expect(page.get_by_text("Last visit ·")).to_be_visible(timeout=LOADED_MS)
    page.locator(".st-key-brief_actions").get_by_role("link", name="Log a visit").click()
    wait_for_app(page, LOADED_MS)
    assert "/log" in page.url and f"client={client_id}" in page.url
    expect(page.get_by_role("combobox", name="Client")).to_have_value(f"{name} ({client_id})")

    page.get_by_role("spinbutton", name="Pain before").fill("3")
    page.get_by_role("spinbutton", name="Pain after").fill("1.5")
    page.get_by_role("textbox", name="Notes", exact=True).fill(NOTES)
    page.get_by_role("textbox", name="Next time").fill(PLAN)
    page.get_by_role("button", name="Save visit").click()
    wait_for_app(page, LOADED_MS)
    expect(page.get_by_text(f"Saved the visit of {today:%d %b %Y} for {name}")).to_be_visible(timeout=LOADED_MS)

    page.get_by_role("link", name=f"See {name}'s progress").first.click()
    wait_for_app(page, LOADED_MS)
    assert f"client={client_id}" in page.url
    card = page.locator(".st-key-brief_card")
    expect(card).to_contain_text(
        timeout=LOADED_MS, expected=f"Last visit · {today:%a} {today.day} {today:%b %Y} (today)"
    )
    expect(card).to_contain_text(f"Next time: {PLAN}")
    expect(card).to_contain_text(f"Notes: {NOTES}")
    expect(card).to_contain_text("pain 3 before → 1.5 just after (rated in the room)")
    assert page.get_by_test_id("stException").count() == 0
    with duckdb.connect(str(db), read_only=True) as check:
        assert check.execute(
            "SELECT plan FROM core.visits WHERE client_id = ? AND visit_date = ?", [client_id, today]
        ).fetchall() == [(PLAN,)]

    shot(page, ARTIFACTS / "brief_client_1366.png")
    page.set_viewport_size({"width": 820, "height": 900})
    wait_for_app(page, LOADED_MS)
    shot(page, ARTIFACTS / "brief_client_820.png")
    page.close()

    # The client's own link on a phone: their status in plain words, from the same rule.
    from pipelines.sharing.links import create_link

    link = create_link(client_id, db=db)
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{url}/?t={link.token}")
    wait_for_app(phone, LOADED_MS)
    expect(phone.get_by_text("Your progress")).to_be_visible(timeout=LOADED_MS)
    assert phone.get_by_test_id("stException").count() == 0
    shot(phone, ARTIFACTS / "brief_link_390.png")
    phone.close()
