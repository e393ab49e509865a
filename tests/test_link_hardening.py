"""Private links after the security review: the token leaves the address on first load and is in no
later request (Referrer-Policy: no-referrer), a download re-checks the link, and check-ins through
links are limited per day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from dashboard.client_facing.page import LINK_ENDED_HTML, link_report
from dashboard.link_handoff import HANDOFF_COOKIE, HANDOFFS, HandOffs
from dashboard.web_guard import link_redirect
from pipelines.sharing.checkin import MAX_LINK_CHECKINS_PER_DAY, record_checkin
from pipelines.sharing.links import create_link, revoke
from tests.test_e2e_browser import BROWSER_ARGS, CHROMIUM, wait_for_app

CLIENT = "C0003"


def exports(db) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM meta.audit WHERE action = 'export'").fetchone()[0]
    finally:
        con.close()


def link_checkins(db) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT count(*) FROM core.self_reports WHERE client_id = ? AND source = 'link'", [CLIENT]
        ).fetchone()[0]
    finally:
        con.close()


def test_check_ins_through_links_are_limited_per_day(sample_db_copy):
    db = sample_db_copy
    before = link_checkins(db)
    start = dt.datetime(2026, 11, 2, 8, 0)
    for i in range(MAX_LINK_CHECKINS_PER_DAY):
        assert record_checkin(CLIENT, {"pain": 4}, db=db, reported_at=start + dt.timedelta(hours=i)).ok
    refused = record_checkin(CLIENT, {"pain": 9}, db=db, reported_at=start + dt.timedelta(hours=20))
    assert not refused.ok and refused.errors[0].startswith(
        f"you have already sent {MAX_LINK_CHECKINS_PER_DAY} check-ins today"
    )
    assert link_checkins(db) == before + MAX_LINK_CHECKINS_PER_DAY  # nothing stored
    # A day after the first one, there is room again; the therapist's own entry is never limited.
    assert record_checkin(CLIENT, {"pain": 3}, db=db, reported_at=start + dt.timedelta(hours=24, minutes=1)).ok
    assert record_checkin(CLIENT, {"pain": 3}, db=db, source="form", reported_at=start + dt.timedelta(hours=21)).ok


def test_the_download_rechecks_the_link(sample_db_copy):
    db = sample_db_copy
    link = create_link(CLIENT, db=db)
    n = exports(db)
    assert link_report(db, CLIENT, link.token, None).startswith("<!DOCTYPE html>") and exports(db) == n + 1
    assert link_report(db, "C0001", link.token, None) == LINK_ENDED_HTML  # another client's id: nothing
    revoke(link.token, db=db)
    assert link_report(db, CLIENT, link.token, None) == LINK_ENDED_HTML
    assert exports(db) == n + 1  # no export of a report that was not given


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed at /usr/bin/chromium")
def test_in_a_browser_the_token_leaves_the_address_is_never_sent_again_and_a_revoked_page_gets_no_report(
    sample_db_copy, tmp_path
):
    from playwright.sync_api import sync_playwright

    from tests.test_security_web import serve_db

    db = sample_db_copy
    with serve_db(db, tmp_path) as port:
        link = create_link(CLIENT, db=db, base_url=f"http://127.0.0.1:{port}/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
            try:
                page = browser.new_page(accept_downloads=True)
                sent = []
                page.on("request", lambda r: sent.append((r.url, r.headers.get("referer"))))
                page.goto(link.url)
                wait_for_app(page)
                assert "Your progress" in page.inner_text("[data-testid=stMain]")
                assert "t=" not in page.url and link.token not in page.url
                assert len(sent) > 5  # scripts, styles, fonts, the health check …
                assert [s for s in sent if s[1]] == []  # no Referer at all
                assert [u for u, _ in sent[1:] if link.token in u] == []
                page.goto(f"http://127.0.0.1:{port}/")  # a new session, as when the tab is reopened: no link left
                wait_for_app(page)
                assert "Your progress" not in page.inner_text("[data-testid=stMain]")
                page.goto(link.url)
                wait_for_app(page)

                revoke(link.token, db=db)  # the therapist ends the link while the page is open
                with page.expect_download() as dl:
                    page.get_by_role("button", name="Download your report (HTML)").click()
                assert Path(dl.value.path()).read_text(encoding="utf-8") == LINK_ENDED_HTML
            finally:
                browser.close()


def request(target: str, method: str = "GET", host: str = "127.0.0.1:8501", **headers) -> dict:
    path, _, query = target.partition("?")
    pairs = [(b"host", host.encode())] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": pairs,
        "scheme": "http",
    }


def test_a_link_is_answered_with_a_redirect_and_a_one_time_code_never_the_token():
    token = "A" * 43
    location, cookie = link_redirect(request(f"/?t={token}"))
    assert location == "./" and token not in location + cookie
    attrs = [a.strip() for a in cookie.split(";")]
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(attrs) and "Secure" not in attrs
    code = attrs[0].removeprefix(f"{HANDOFF_COOKIE}=")
    assert HANDOFFS.take(code) == token and HANDOFFS.take(code) is None  # once only
    # Under a prefix (a proxy), other parameters kept; HTTPS at the proxy makes the cookie Secure.
    location, cookie = link_redirect(request(f"/knotwork/?lang=en&t={token}", x_forwarded_proto="https"))
    assert location == "./?lang=en" and cookie.endswith("; Secure")
    assert link_redirect(request("/practice?t=x"))[0] == "./practice"
    # Not a link: no t, a POST, Streamlit's own routes.
    assert link_redirect(request("/")) is None
    assert link_redirect(request(f"/?t={token}", method="POST")) is None
    assert link_redirect(request(f"/_stcore/health?t={token}")) is None
    assert link_redirect(request(f"/media/x.html?t={token}")) is None


def test_the_code_store_forgets_used_expired_and_overflowing_codes():
    now = [0.0]
    store = HandOffs(ttl_s=60, max_pending=3, clock=lambda: now[0])
    first = store.issue("tok-1")
    codes = [store.issue(f"tok-{i}") for i in (2, 3, 4)]  # a fourth pushes the oldest out
    assert len(store) == 3 and store.take(first) is None
    assert store.take(codes[0]) == "tok-2"
    now[0] = 61.0
    assert store.take(codes[1]) is None and len(store) == 0  # expired
    assert store.take("") is None and store.take(None) is None and store.take("made-up") is None
    assert store.take(store.issue("x" * 5000)) == "x" * 100  # kept only as "not a valid token"


def tab_history(page) -> list[str]:
    """Every address in the tab's history before the current one, newest first."""
    visited = []
    for _ in range(page.evaluate("history.length") - 1):
        page.go_back(wait_until="commit")
        visited.append(page.url)  # Playwright's record of the address: no script context to race
    return visited


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed at /usr/bin/chromium")
def test_the_token_leaves_the_tabs_history(sample_db_copy, tmp_path):
    """Typed or pasted, and clicked in another site's page (a web mail): the client's view opens, and
    no entry of the tab's history holds the token; a second tab on the same browser gets no link."""
    from playwright.sync_api import sync_playwright

    from tests.test_security_web import serve_db

    with serve_db(sample_db_copy, tmp_path) as port:
        link = create_link(CLIENT, db=sample_db_copy, base_url=f"http://127.0.0.1:{port}/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
            try:
                page = browser.new_page()
                page.goto(link.url)
                wait_for_app(page)
                assert "Your progress" in page.inner_text("[data-testid=stMain]")
                assert link.token not in page.url
                visited = tab_history(page)
                assert visited and all(link.token not in u for u in visited), visited

                # A click on another site's page: SameSite=Strict keeps the cookie off that navigation,
                # but the page's own WebSocket (same site) carries it, so the view still opens.
                mail = browser.new_page()
                mail.set_content(f'<a href="{link.url}">See your progress</a>')
                mail.click("a")
                mail.wait_for_url(f"http://127.0.0.1:{port}/")
                wait_for_app(mail)
                assert "Your progress" in mail.inner_text("[data-testid=stMain]")
                visited = tab_history(mail)
                assert visited and all(link.token not in u for u in visited), visited

                # The code was for one session: the same browser opening the address again has no link.
                again = browser.new_page()
                again.goto(f"http://127.0.0.1:{port}/")
                wait_for_app(again)
                assert "Your progress" not in again.inner_text("[data-testid=stMain]")
            finally:
                browser.close()
