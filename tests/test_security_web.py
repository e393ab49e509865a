"""DNS rebinding, cross-origin WebSockets and response headers, against a real ``knotwork serve``.

Without a password the therapist pages are for a browser on this computer only.  A web page the
therapist visits can point its own host name at 127.0.0.1 (DNS rebinding) or be served by another
local program (``http://localhost:3000``); neither may open the dashboard's WebSocket, and a
host name the server does answer to but that is not a loopback name gets the "this computer only"
notice instead of client names.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboard import server
from dashboard.access import is_local_request
from dashboard.web_guard import same_origin
from tests.test_e2e_browser import BROWSER_ARGS, CHROMIUM, free_port, knotwork_command, wait_for_app, wait_healthy

BASE_HOST = "knotwork.example.org"  # the practice's base URL (allowed host, not a loopback name)
REBIND_HOST = "rebind.attacker.test"  # a DNS-rebinding page's name, resolved to 127.0.0.1


@contextmanager
def serve_db(db: Path, home: Path, base_url: str | None = None):
    """``knotwork serve`` on ``db`` on a free port; yields the port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("KNOTWORK_DB", "KNOTWORK_BASE_URL")}
    env["HOME"] = str(home)  # no stray ~/.streamlit config or credentials prompt
    if base_url:
        env["KNOTWORK_BASE_URL"] = base_url
    proc = subprocess.Popen(
        [*knotwork_command(), "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def served(sample_db_copy, tmp_path):
    with serve_db(sample_db_copy, tmp_path, base_url=f"https://{BASE_HOST}/") as port:
        yield port


def handshake(port: int, host: str, origin: str | None) -> int:
    """The HTTP status of a WebSocket upgrade to Streamlit's stream with these Host/Origin headers."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET /_stcore/stream HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: streamlit",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = s.recv(1024).split(b"\r\n", 1)[0].decode()
    return int(status.split()[1])


def test_serve_pins_allowed_hosts_to_loopback_and_the_base_url():
    cmd = server.build_command(port=8765, base_url=f"https://{BASE_HOST}/")
    hosts = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--server.allowedHosts"]
    assert hosts == ["localhost", "127.0.0.1", "::1", BASE_HOST]
    assert cmd[4] == str(server.WEB_APP)
    assert server.allowed_hosts("0.0.0.0") == ["localhost", "127.0.0.1", "::1"]  # a wildcard is no host name
    assert server.allowed_hosts("192.168.1.20") == ["localhost", "127.0.0.1", "::1", "192.168.1.20"]


def test_websocket_with_a_foreign_host_or_origin_is_refused(served):
    port = served
    own = f"127.0.0.1:{port}"
    assert handshake(port, own, f"http://{own}") == 101
    assert handshake(port, f"localhost:{port}", f"http://localhost:{port}") == 101
    # DNS rebinding: the attacker's page, its name now resolving to 127.0.0.1, is same-origin with itself.
    assert handshake(port, f"{REBIND_HOST}:{port}", f"http://{REBIND_HOST}:{port}") == 403
    # Another program's page on this computer (Streamlit alone admits any localhost origin).
    assert handshake(port, own, "http://localhost:3000") == 403
    assert handshake(port, own, f"http://{REBIND_HOST}") == 403


def test_every_response_carries_the_referrer_and_framing_headers(served):
    with urllib.request.urlopen(f"http://127.0.0.1:{served}/") as r:
        headers = {k.lower(): v for k, v in r.headers.items()}
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["content-security-policy"] == "frame-ancestors 'self'"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed at /usr/bin/chromium")
def test_a_rebinding_page_in_a_real_browser_sees_no_client(served):
    from playwright.sync_api import sync_playwright

    port = served
    rules = f"--host-resolver-rules=MAP {REBIND_HOST} 127.0.0.1, MAP {BASE_HOST} 127.0.0.1"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*BROWSER_ARGS, rules])
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            wait_for_app(page)
            assert "Client progress" in page.inner_text("body")  # this computer, by its own name: open

            page = browser.new_page()
            page.goto(f"http://{REBIND_HOST}:{port}/")
            page.wait_for_timeout(4000)  # what a rebinding page could read in that time: nothing
            text = page.inner_text("body")
            assert "Client progress" not in text and "C000" not in text

            page = browser.new_page()  # a name the server answers to, but not this computer's
            page.goto(f"http://{BASE_HOST}:{port}/")
            wait_for_app(page)
            text = page.inner_text("body")
            assert "open only on the computer that runs Knotwork" in text
            assert "Client progress" not in text and "C000" not in text
        finally:
            browser.close()


@pytest.mark.parametrize(
    "ip, headers, local",
    [
        (None, {"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501"}, True),
        (None, {"host": "localhost:8501", "origin": "http://localhost:8501"}, True),
        (None, {"host": "[::1]:8501", "origin": "http://[::1]:8501"}, True),
        (None, {"host": "rebind.attacker.test:8501", "origin": "http://rebind.attacker.test:8501"}, False),
        (None, {"host": "127.0.0.1:8501", "origin": "http://localhost:3000"}, False),
        (None, {"host": "127.0.0.1:8501"}, False),  # no Origin: not a browser page we can vouch for
        (None, {"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501", "x-forwarded-for": "1.2.3.4"}, False),
        ("10.0.0.5", {"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501"}, False),
    ],
)
def test_local_means_loopback_peer_host_and_origin(ip, headers, local):
    assert is_local_request(ip, headers) is local


def test_same_origin_rule():
    assert same_origin(None, "127.0.0.1:8501")
    assert same_origin("http://127.0.0.1:8501", "127.0.0.1:8501")
    assert not same_origin("http://localhost:8502", "localhost:8501")
    assert same_origin("https://partner.example", "127.0.0.1:8501", ("https://partner.example",))
