"""Sign-in hardening: a wrong-password throttle per source that no visitor can reset, with growing
waits and a separate allowance for this computer; sessions bound to their browser; idle timeout.

Waits are checked against a fake clock (no sleeping): the throttle takes its clock as an argument.
"""

from __future__ import annotations

import pytest
import streamlit as st

from dashboard import access
from dashboard.state import AUTH_KEY
from pipelines.sharing.passwords import set_password
from pipelines.sharing.signin import (
    FREE_FAILURES,
    FREE_FAILURES_ALL_REMOTE,
    LOCAL_SOURCE,
    MAX_DELAY_ALL_REMOTE_S,
    MAX_DELAY_S,
    Throttle,
    wait_words,
)
from tests.sharing_helpers import app_test
from tests.test_access import LOGIN_SUBMIT, PASSWORD


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_waits_grow_per_source_and_a_right_password_clears_them():
    clock = Clock()
    th = Throttle(clock)
    for _ in range(FREE_FAILURES):
        assert th.failed("203.0.113.5") == 0
    assert th.failed("203.0.113.5") == 2.0
    assert th.wait_s("203.0.113.5") == 2.0
    clock.t += 2.0
    assert th.failed("203.0.113.5") == 4.0
    clock.t += 4.0
    assert th.failed("203.0.113.5") == 8.0
    for _ in range(30):
        clock.t += th.wait_s("203.0.113.5")
        th.failed("203.0.113.5")
    assert th.wait_s("203.0.113.5") == MAX_DELAY_S
    # Another address waits at most a minute (the shared allowance); this computer not at all.
    assert 0 < th.wait_s("198.51.100.9") <= MAX_DELAY_ALL_REMOTE_S and th.wait_s(LOCAL_SOURCE) == 0
    clock.t += MAX_DELAY_ALL_REMOTE_S
    assert th.wait_s("198.51.100.9") == 0
    th.succeeded("203.0.113.5")
    assert th.wait_s("203.0.113.5") == 0


def test_changing_address_does_not_give_unlimited_tries_but_never_locks_out_this_computer():
    clock = Clock()
    th = Throttle(clock)
    for i in range(FREE_FAILURES_ALL_REMOTE):
        assert th.failed(f"203.0.113.{i}") == 0  # each address: one try
    assert th.failed("198.51.100.1") == 2.0  # a fresh address now waits too
    assert th.wait_s("198.51.100.2") == 2.0
    assert th.wait_s(LOCAL_SOURCE) == 0  # the therapist at the computer still signs in


def test_wait_words():
    assert wait_words(2) == "2 seconds" and wait_words(1) == "1 second" and wait_words(900) == "15 minutes"


def _login(at, password: str):
    at.text_input(key="kw_login_pw").set_value(password)
    return at.button(key=LOGIN_SUBMIT).click().run()


def test_clearing_streamlit_caches_does_not_reset_the_throttle(sample_db_copy, monkeypatch):
    """The reviewed attack: any visitor can send Streamlit's clear-cache message, which emptied the
    old throttle (it lived in st.cache_resource)."""
    db = sample_db_copy
    set_password(PASSWORD, db)
    at = app_test(db, monkeypatch)
    clock = Clock()
    monkeypatch.setattr(access, "THROTTLE", Throttle(clock))
    for _ in range(FREE_FAILURES + 1):
        _login(at, "wrong password")
    assert [e.value for e in at.error] == ["That password is not right. Please wait 2 seconds before the next try."]
    st.cache_resource.clear()  # what the clear-cache message does
    st.cache_data.clear()
    _login(at, PASSWORD)
    assert [e.value for e in at.error] == ["Too many wrong passwords. Please wait 2 seconds and try again."]
    assert not at.session_state[AUTH_KEY] if AUTH_KEY in at.session_state else True
    clock.t += 2.0
    _login(at, PASSWORD)
    assert not at.error and "Client progress" in [t.value for t in at.title]


def test_a_session_used_from_another_browser_is_signed_out(sample_db_copy, monkeypatch):
    db = sample_db_copy
    set_password(PASSWORD, db)
    at = app_test(db, monkeypatch)
    _login(at, PASSWORD)
    assert "Client progress" in [t.value for t in at.title]
    identity = access.request_identity()
    monkeypatch.setattr(access, "request_identity", lambda: ("192.0.2.7", "another browser"))
    at.run()
    assert [t.value for t in at.title] == ["Knotwork"] and at.text_input[0].key == "kw_login_pw"
    monkeypatch.setattr(access, "request_identity", lambda: identity)
    at.run()  # back in the first browser: the sign-in is gone for good
    assert [t.value for t in at.title] == ["Knotwork"]


def test_a_link_session_used_from_another_browser_shows_nothing(sample_db_copy, monkeypatch):
    from pipelines.sharing.links import INVALID_LINK_MESSAGE, create_link

    db = sample_db_copy
    at = app_test(db, monkeypatch, token=create_link("C0009", db=db).token)
    assert "Your progress" in [t.value for t in at.title]
    monkeypatch.setattr(access, "request_identity", lambda: ("192.0.2.7", "another browser"))
    at.run()
    assert "Your progress" not in [t.value for t in at.title]
    assert [w.value for w in at.warning] == [INVALID_LINK_MESSAGE]


def test_a_signed_in_session_ends_after_30_idle_minutes(sample_db_copy, monkeypatch):
    db = sample_db_copy
    set_password(PASSWORD, db)
    clock = Clock()
    monkeypatch.setattr(access, "_now", clock)
    at = app_test(db, monkeypatch)
    _login(at, PASSWORD)
    clock.t += 29 * 60
    at.run()
    assert "Client progress" in [t.value for t in at.title]  # a click within 30 minutes keeps it
    clock.t += 29 * 60
    at.run()
    assert "Client progress" in [t.value for t in at.title]
    clock.t += 31 * 60
    at.run()
    assert [t.value for t in at.title] == ["Knotwork"]
    assert [i.value for i in at.info] == [access.IDLE_MESSAGE]


@pytest.mark.parametrize(
    "ip, headers, source",
    [
        (None, {"host": "127.0.0.1:8501", "origin": "http://127.0.0.1:8501", "user-agent": "A"}, LOCAL_SOURCE),
        (
            None,
            {"host": "k.example.org", "origin": "https://k.example.org", "x-forwarded-for": "6.6.6.6, 203.0.113.5"},
            "203.0.113.5",
        ),
        ("198.51.100.3", {"host": "k.example.org", "origin": "https://k.example.org"}, "198.51.100.3"),
    ],
)
def test_the_source_is_this_computer_or_the_address_the_nearest_proxy_saw(ip, headers, source, monkeypatch):
    class Ctx:
        ip_address = ip

    Ctx.headers = headers
    monkeypatch.setattr(access.st, "context", Ctx)
    assert access.request_identity()[0] == source
