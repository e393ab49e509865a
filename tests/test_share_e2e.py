"""A private link end to end: ``knotwork serve`` on a copy of the sample, headless Chromium.

The token leaves the address bar, only that client's view is on the page (no navigation, no
Streamlit header), nothing is requested from anywhere but the server, a check-in sent from the
browser lands in the database as ``source='link'``, and a reload (or a browser behind a proxy)
does not fall through to the therapist pages.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines.sharing.links import create_link
from tests.test_e2e_browser import CHROMIUM, browser, server, wait_for_app  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser]

CLIENT = "C0033"


def _names(db) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT client_id, display_name FROM core.clients").fetchall())
    finally:
        con.close()


def test_link_in_a_real_browser(server, browser):  # noqa: F811
    url, db = server
    names = _names(db)
    link = create_link(CLIENT, db=db, base_url=url + "/")  # while the server is running
    page = browser.new_page(viewport={"width": 820, "height": 1180})  # a tablet
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(link.url)
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)

    assert "t=" not in page.url and link.token not in page.url
    body = page.inner_text("body")
    assert names[CLIENT] in body and "Your progress" in body
    others = [n for cid, n in names.items() if cid != CLIENT and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", body)]
    assert others == []
    assert page.get_by_test_id("stTopNavLink").count() == 0 and page.get_by_test_id("stSidebarNavLink").count() == 0
    assert not page.locator("header[data-testid='stHeader']").is_visible()
    assert [u for u in requested if not u.startswith((url, "data:", "blob:"))] == []

    # a check-in from the browser
    page.get_by_role("radio", name="3", exact=True).click()  # segmented control: 0 … 10
    page.get_by_text("Yes", exact=True).click()
    page.get_by_role("button", name="Send").click()
    wait_for_app(page)
    page.get_by_text("Thank you! Your check-in was saved").wait_for(timeout=30_000)
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "SELECT pain, did_homecare, source FROM core.self_reports WHERE client_id = ? "
            "ORDER BY reported_at DESC LIMIT 1",
            [CLIENT],
        ).fetchone()
    finally:
        con.close()
    assert row == (3.0, True, "link")

    # After the token left the URL, a reload is a new session without a link.  This test browser
    # runs on the server's own computer, where the therapist pages open without a password; a
    # client's browser is elsewhere (here: behind a proxy that adds X-Forwarded-For), and there
    # the therapist pages stay closed until a password is set.
    remote = browser.new_page(
        viewport={"width": 820, "height": 1180}, extra_http_headers={"X-Forwarded-For": "203.0.113.7"}
    )
    remote.goto(url + "/practice")
    wait_for_app(remote)
    text = remote.inner_text("body")
    assert "only on the computer that runs Knotwork" in text
    assert not any(n in text for n in names.values())
    assert remote.get_by_test_id("stTopNavLink").count() == 0
