"""The therapist password (scrypt hash in the practice settings) and the app's gates: the login
form in front of every therapist page, and presentation mode for one client on a tablet."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from dashboard.state import AUTH_KEY, PRESENT_KEY
from pipelines.clinical.settings import settings_path_for
from pipelines.sharing.passwords import check_password, hash_password, password_hash, set_password, verify_password
from tests.sharing_helpers import APP, app_test, client_names, page_text

PASSWORD = "correct horse battery"
LOGIN_SUBMIT = "FormSubmitter:kw_login-Sign in"
END_SUBMIT = "FormSubmitter:kw_end_presentation-End presentation"
THERAPIST_PAGES = re.findall(r'st\.Page\("(app_pages/[a-z_]+\.py)"', APP.read_text(encoding="utf-8"))


@pytest.fixture
def db(sample_db_copy):
    return sample_db_copy


# ---------------------------------------------------------------------------
# Hashing
# ---------------------------------------------------------------------------


def test_hash_is_salted_scrypt_and_verifies_only_the_right_password():
    a, b = hash_password(PASSWORD), hash_password(PASSWORD)
    assert a != b  # a fresh salt each time
    assert a.startswith("scrypt$n=32768,r=8,p=1$") and PASSWORD not in a
    assert verify_password(PASSWORD, a) and verify_password(PASSWORD, b)
    assert not verify_password(PASSWORD + " ", a)
    assert not verify_password("", a)
    for broken in ("", "scrypt$", "md5$x$y$z", a.replace("n=32768", "n=1"), a[:-4]):
        assert not verify_password(PASSWORD, broken)


def test_set_password_stores_only_the_hash_in_the_practice_settings(db):
    path = set_password(PASSWORD, db)
    assert path == settings_path_for(db)
    text = path.read_text(encoding="utf-8")
    assert PASSWORD not in text
    stored = tomllib.loads(text)["security"]["password_hash"]
    assert stored == password_hash(db) and check_password(PASSWORD, db)
    set_password(None, db)
    assert password_hash(db) == ""


def test_cli_set_password_reads_stdin_when_not_a_terminal(db):
    run = lambda text: subprocess.run(
        [sys.executable, "-m", "knotwork", "set-password", "--db", str(db)],  # noqa: E731
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = run(PASSWORD + "\n")
    assert out.returncode == 0, out.stderr
    assert check_password(PASSWORD, db)
    assert PASSWORD not in settings_path_for(db).read_text(encoding="utf-8")
    weak = run("short\n")
    assert weak.returncode == 1 and "at least 8" in weak.stderr
    assert check_password(PASSWORD, db)  # unchanged


# ---------------------------------------------------------------------------
# Login gate
# ---------------------------------------------------------------------------


def _login(at, password: str):
    at.text_input(key="kw_login_pw").input(password)
    return at.button(key=LOGIN_SUBMIT).click().run()


def _shows_therapist_content(at, db) -> bool:
    text = page_text(at)
    return (
        bool(at.get("plotly_chart"))
        or any(name in text for name in client_names(db).values())
        or bool(at.selectbox)
        or "Client progress" in [t.value for t in at.title]
    )


def test_without_a_password_the_therapist_pages_open(db, monkeypatch):
    at = app_test(db, monkeypatch)
    assert not at.exception
    assert "kw_login_pw" not in [t.key for t in at.text_input]
    assert "Client progress" in [t.value for t in at.title]


@pytest.mark.parametrize("page", THERAPIST_PAGES)
def test_with_a_password_every_therapist_page_shows_only_the_login_form(db, monkeypatch, page):
    set_password(PASSWORD, db)
    at = app_test(db, monkeypatch)  # AppTest ignores switch_page before the first run
    at.switch_page(page).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Knotwork"]
    assert len(at.text_input) == 1 and at.text_input[0].key == "kw_login_pw"
    assert not _shows_therapist_content(at, db)


@pytest.mark.parametrize("page", THERAPIST_PAGES)
def test_without_a_password_switching_reaches_each_page(db, monkeypatch, page):
    at = app_test(db, monkeypatch)
    at.switch_page(page).run()
    assert not at.exception
    assert [t.value for t in at.title] != ["Knotwork"] and "kw_login_pw" not in [t.key for t in at.text_input]


def test_wrong_password_gets_a_message_and_the_right_one_opens_the_pages(db, monkeypatch):
    set_password(PASSWORD, db)
    at = app_test(db, monkeypatch)
    _login(at, "not the password")
    assert [e.value for e in at.error] == ["That password is not right."]
    assert not _shows_therapist_content(at, db)
    assert not at.session_state[AUTH_KEY] if AUTH_KEY in at.session_state else True
    _login(at, PASSWORD)
    assert not at.error
    assert "Client progress" in [t.value for t in at.title]
    assert at.session_state[AUTH_KEY] is True


def test_a_private_link_never_shows_the_login_form(db, monkeypatch):
    from pipelines.sharing.links import create_link

    set_password(PASSWORD, db)
    at = app_test(db, monkeypatch, token=create_link("C0009", db=db).token)
    assert not at.text_input and "Your progress" in [t.value for t in at.title]


# ---------------------------------------------------------------------------
# Presentation mode
# ---------------------------------------------------------------------------


def _present(at, client_id: str):
    at.switch_page("app_pages/sharing.py").run()
    at.selectbox(key="sh_client").set_value(client_id).run()
    return at.button(key="sh_present").click().run()


def test_show_to_client_is_a_clean_view_of_one_client_and_leaving_needs_the_password(db, monkeypatch):
    set_password(PASSWORD, db)
    names = client_names(db)
    at = app_test(db, monkeypatch)
    _login(at, PASSWORD)
    _present(at, "C0009")
    assert not at.exception
    assert at.session_state[PRESENT_KEY] == "C0009"
    text = page_text(at)
    assert [t.value for t in at.title] == ["Your progress"]
    assert names["C0009"] in text
    assert not [n for cid, n in names.items() if cid != "C0009" and n in text]
    assert not at.selectbox and not at.get("page_link")  # no picker, no navigation
    assert at.get("plotly_chart")
    # leaving: the wrong password keeps the client view
    at.text_input(key="kw_end_pw").input("nope")
    at.button(key=END_SUBMIT).click().run()
    assert [e.value for e in at.error] == ["That password is not right."]
    assert [t.value for t in at.title] == ["Your progress"]
    # … the right one returns to the therapist pages
    at.text_input(key="kw_end_pw").input(PASSWORD)
    at.button(key=END_SUBMIT).click().run()
    assert PRESENT_KEY not in at.session_state
    assert "Share with a client" in [t.value for t in at.title]


def test_without_a_password_presentation_ends_with_one_click(db, monkeypatch):
    at = app_test(db, monkeypatch)
    _present(at, "C0023")
    assert [t.value for t in at.title] == ["Your progress"]
    assert not at.text_input  # nothing to type
    at.button(key=END_SUBMIT).click().run()
    assert PRESENT_KEY not in at.session_state
    assert "Your progress" not in [t.value for t in at.title]
