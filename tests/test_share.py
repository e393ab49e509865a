"""Private share links, client check-ins through a link, and the CLI around them.

Links: a token is 256 random bits, only an HMAC of it is stored, and expired, revoked,
tampered, random and malformed tokens are all refused the same way (in the pipeline and in the
app, where they get one generic message and no client data).  Check-ins: the import's own
validation rules, a message naming the field, nothing stored on a bad value; a good one is a
``source='link'`` self-report visible in the marts and the client view.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import subprocess
import sys

import pytest

from pipelines.sharing.checkin import record_checkin
from pipelines.sharing.links import (
    INVALID_LINK_MESSAGE,
    ShareError,
    create_link,
    link_url,
    list_links,
    resolve_token,
    revoke,
    utcnow,
)
from pipelines.warehouse.db import read_connection
from tests.sharing_helpers import app_test, client_names, page_text

CLIENT = "C0009"


@pytest.fixture
def db(sample_db_copy):
    return sample_db_copy


def _self_reports(db) -> tuple[int, int]:
    with read_connection(db) as con:
        return (
            con.execute("SELECT count(*) FROM core.self_reports").fetchone()[0],
            con.execute("SELECT count(*) FROM marts.self_reports").fetchone()[0],
        )


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------


def test_link_carries_only_a_random_token_and_the_database_only_its_hmac(db):
    link = create_link(CLIENT, days=7, db=db)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", link.token)  # token_urlsafe(32): 256 bits
    assert link.url == f"http://127.0.0.1:8501/?t={link.token}"
    assert CLIENT not in link.url
    with read_connection(db) as con:
        rows = con.execute("SELECT * FROM meta.share_links").fetchall()
        pepper = con.execute("SELECT value FROM meta.secrets WHERE name = 'share_pepper'").fetchone()[0]
    assert len(rows) == 1
    assert not any(link.token in str(v) for v in rows[0])  # the token itself is stored nowhere
    expected = hmac.new(bytes.fromhex(pepper), link.token.encode(), hashlib.sha256).hexdigest()
    with read_connection(db) as con:
        stored = con.execute(
            "SELECT token_hash, token_prefix, expires_at - created_at FROM meta.share_links"
        ).fetchone()
    assert stored[0] == expected
    assert stored[1] == link.token[:8]
    assert stored[2] == dt.timedelta(days=7)
    assert len(pepper) == 64  # 32 random bytes, hex
    assert resolve_token(link.token, db) == CLIENT


def test_two_links_differ_and_the_pepper_is_made_once(db):
    a, b = create_link(CLIENT, db=db), create_link(CLIENT, db=db)
    assert a.token != b.token
    with read_connection(db) as con:
        assert con.execute("SELECT count(*) FROM meta.secrets").fetchone()[0] == 1
    assert resolve_token(a.token, db) == resolve_token(b.token, db) == CLIENT


def _tampered(token: str) -> str:
    i = len(token) // 2
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def bad_tokens(db) -> dict[str, str]:
    """One token of each kind that must not work."""
    past = utcnow() - dt.timedelta(days=3)
    expired = create_link(CLIENT, days=1, db=db, now=past).token
    revoked = create_link(CLIENT, db=db).token
    assert revoke(revoked, db=db) == 1
    live = create_link(CLIENT, db=db).token
    return {
        "expired": expired,
        "revoked": revoked,
        "tampered": _tampered(live),
        "random": secrets.token_urlsafe(32),
        "malformed": "' OR 1=1 --",
    }


def test_expired_revoked_tampered_random_and_malformed_tokens_resolve_to_nothing(db):
    for kind, token in bad_tokens(db).items():
        assert resolve_token(token, db) is None, kind
    assert resolve_token(None, db) is None
    assert resolve_token("", db) is None


def test_expiry_is_checked_against_the_clock(db):
    now = utcnow()
    link = create_link(CLIENT, days=2, db=db, now=now)
    assert resolve_token(link.token, db, now=now + dt.timedelta(days=2) - dt.timedelta(seconds=1)) == CLIENT
    assert resolve_token(link.token, db, now=now + dt.timedelta(days=2)) is None


def test_revoke_by_prefix_by_whole_link_and_by_client(db):
    a, b, c = (create_link(CLIENT, db=db) for _ in range(3))
    other = create_link("C0023", db=db)
    assert revoke(a.token[:6], db=db) == 1
    assert resolve_token(a.token, db) is None and resolve_token(b.token, db) == CLIENT
    assert revoke(b.url, db=db) == 1  # a pasted link works too
    assert revoke(client_id=CLIENT, db=db) == 1  # only c was still live
    assert resolve_token(c.token, db) is None
    assert resolve_token(other.token, db) == "C0023"
    assert {lk.status() for lk in list_links(CLIENT, db)} == {"revoked"}
    with pytest.raises(ShareError):
        revoke("abc", db=db)  # too short to be safe
    with pytest.raises(ShareError):
        revoke(None, db=db)


def test_a_token_never_begins_with_a_dash_so_revoke_can_take_its_prefix(db, monkeypatch):
    # 1 token in 64 would begin with "-", which `knotwork revoke` reads as an option.
    draws = iter(["-" + "a" * 42, "-" + "b" * 42, "c" * 43])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(draws))
    link = create_link(CLIENT, db=db)
    assert link.prefix == "c" * 8
    monkeypatch.undo()
    done = subprocess.run(
        [sys.executable, "-m", "knotwork", "revoke", link.prefix, "--db", str(db)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert resolve_token(link.token, db) is None


def test_links_for_unknown_clients_and_silly_durations_are_refused(db):
    with pytest.raises(ShareError, match="no client"):
        create_link("NOPE", db=db)
    for days in (0, -1, 400, "x"):
        with pytest.raises(ShareError):
            create_link(CLIENT, days=days, db=db)
    with pytest.raises(ShareError):
        link_url("tok", "javascript:alert(1)")
    assert link_url("tok", "https://knotwork.example.org/app?x=1") == "https://knotwork.example.org/app?t=tok"


# ---------------------------------------------------------------------------
# Check-ins
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, field",
    [
        ({"pain": 11}, "pain"),
        ({"pain": "x"}, "pain"),
        ({"pain": 3.3}, "pain"),
        ({"pain": -1}, "pain"),
        ({"pain": None}, "pain"),
        ({"pain": 4, "region": "nek"}, "region"),  # a typo of "neck"
        ({"pain": 4, "region": "left big toe"}, "region"),  # new names are not added from a client's typing
        ({"pain": 4, "did_homecare": "maybe"}, "did_homecare"),
        ({"pain": 4, "note": "x" * 2001}, "note"),
    ],
)
def test_bad_checkin_values_are_refused_naming_the_field_and_nothing_is_stored(db, values, field):
    before = _self_reports(db)
    result = record_checkin(CLIENT, values, db=db, source="link")
    assert not result.ok
    assert result.errors and all(e.startswith(field) for e in result.errors), result.errors
    assert _self_reports(db) == before


def test_typo_message_suggests_the_known_region(db):
    result = record_checkin(CLIENT, {"pain": 4, "region": "nek"}, db=db)
    assert "did you mean 'neck'" in result.errors[0]


def test_good_checkin_is_stored_with_source_link_and_reaches_the_marts_and_the_client_view(db):
    from dashboard.client_facing.data import load_client

    when = dt.datetime.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    result = record_checkin(
        CLIENT,
        {"pain": 3.5, "region": "Neck", "did_homecare": True, "note": "better"},
        db=db,
        source="link",
        reported_at=when,
    )
    assert result.ok, result.errors
    with read_connection(db) as con:
        core = con.execute(
            "SELECT pain, region, did_homecare, note, source FROM core.self_reports "
            "WHERE client_id = ? AND reported_at = ?",
            [CLIENT, when],
        ).fetchall()
        mart = con.execute(
            "SELECT pain, source, last_visit_id IS NOT NULL FROM marts.self_reports "
            "WHERE client_id = ? AND reported_at = ?",
            [CLIENT, when],
        ).fetchall()
    assert core == [(3.5, "neck", True, "better", "link")]
    assert mart == [(3.5, "link", True)]
    checkins = load_client(db, CLIENT).checkins
    last = checkins.iloc[-1]
    assert (last["pain"], last["source"]) == (3.5, "link")


def test_checkin_for_an_unknown_client_stores_nothing(db):
    before = _self_reports(db)
    assert not record_checkin("NOPE", {"pain": 3}, db=db).ok
    assert _self_reports(db) == before


# ---------------------------------------------------------------------------
# In the app (AppTest through the real entry point)
# ---------------------------------------------------------------------------


def test_every_bad_token_gets_the_same_generic_page_with_no_client_data(db, monkeypatch):
    names = client_names(db)
    pages = {}
    for kind, token in bad_tokens(db).items():
        at = app_test(db, monkeypatch, token=token)
        assert not at.exception, kind
        text = page_text(at)
        assert INVALID_LINK_MESSAGE in text, kind
        assert not at.get("plotly_chart"), kind
        assert not any(name in text for name in names.values()), kind
        assert not any(re.search(rf"\b{re.escape(cid)}\b", text) for cid in names), kind
        assert not at.text_input and not at.selectbox, kind  # no login form, no client picker
        pages[kind] = [w.value for w in at.warning]
    assert len({tuple(v) for v in pages.values()}) == 1  # indistinguishable


def test_link_opens_only_that_clients_view_and_leaves_no_token_in_the_url(db, monkeypatch):
    link = create_link(CLIENT, db=db)
    at = app_test(db, monkeypatch, token=link.token)
    assert not at.exception
    assert "t" not in at.query_params
    text = page_text(at)
    name = client_names(db)[CLIENT]
    assert name in text
    assert "much improved" in text
    assert len(at.get("plotly_chart")) >= 1
    assert not at.get("page_link")  # no navigation to therapist pages
    assert "Client progress" not in text and "Practice overview" not in text


def test_link_revoked_while_open_stops_on_the_next_rerun(db, monkeypatch):
    link = create_link(CLIENT, db=db)
    at = app_test(db, monkeypatch, token=link.token)
    assert at.get("plotly_chart")
    revoke(link.token, db=db)
    at.run()
    assert INVALID_LINK_MESSAGE in page_text(at)
    assert not at.get("plotly_chart")


def test_checkin_through_the_link_is_stored_with_source_link(db, monkeypatch):
    link = create_link(CLIENT, db=db)
    at = app_test(db, monkeypatch, token=link.token)
    before = _self_reports(db)
    at.segmented_control(key="cv_pain").set_value(2)
    at.radio(key="cv_homecare").set_value("Yes")
    at.text_area(key="cv_note").input("Much better this week")
    at.button(key="FormSubmitter:cv_checkin-Send").click().run()
    assert not at.exception
    assert any("Thank you" in s.value for s in at.success), page_text(at)[:500]
    assert _self_reports(db) == (before[0] + 1, before[1] + 1)
    with read_connection(db) as con:
        row = con.execute(
            "SELECT pain, did_homecare, note, source FROM marts.self_reports WHERE client_id = ? "
            "ORDER BY reported_at DESC LIMIT 1",
            [CLIENT],
        ).fetchone()
    assert row == (2.0, True, "Much better this week", "link")


def test_checkin_without_a_pain_score_names_the_field_and_stores_nothing(db, monkeypatch):
    link = create_link(CLIENT, db=db)
    at = app_test(db, monkeypatch, token=link.token)
    before = _self_reports(db)
    at.button(key="FormSubmitter:cv_checkin-Send").click().run()
    assert any(e.value.startswith("pain") for e in at.error)
    assert _self_reports(db) == before


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _knotwork(*args, input_text=None):
    return subprocess.run(
        [sys.executable, "-m", "knotwork", *args], capture_output=True, text=True, input=input_text, timeout=120
    )


def test_cli_share_prints_only_a_link_and_revoke_ends_it(db):
    out = _knotwork("share", CLIENT, "--days", "3", "--db", str(db))
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:8501/\?t=[A-Za-z0-9_-]{43}", url)
    assert "no therapist password" in out.stderr
    token = url.split("t=", 1)[1]
    assert resolve_token(token, db) == CLIENT
    again = _knotwork("revoke", "--db", str(db), "--", token[:10])
    assert again.returncode == 0, again.stderr
    assert resolve_token(token, db) is None
    assert _knotwork("revoke", "--db", str(db), "--", token[:10]).returncode == 1  # nothing live matches now
    assert _knotwork("share", "NOPE", "--db", str(db)).returncode == 1


def test_cli_share_base_url_from_flag(db):
    out = _knotwork("share", CLIENT, "--db", str(db), "--base-url", "https://knotwork.example.org/")
    assert out.stdout.strip().startswith("https://knotwork.example.org/?t=")


def test_share_page_shows_a_new_link_once_and_ends_it(db, monkeypatch):
    at = app_test(db, monkeypatch)
    at.switch_page("app_pages/sharing.py").run()
    at.selectbox(key="sh_client").set_value(CLIENT).run()
    at.number_input(key="sh_days").set_value(3)
    at.text_input(key="sh_base").input("https://knotwork.example.org/")
    at.button(key="FormSubmitter:sh_new_link-Create link").click().run()
    assert not at.exception
    urls = [c.value for c in at.code]
    assert len(urls) == 1 and urls[0].startswith("https://knotwork.example.org/?t=")
    token = urls[0].split("t=", 1)[1]
    assert resolve_token(token, db) == CLIENT
    table = at.dataframe[0].value
    assert list(table["status"]) == ["live"] and token not in table.to_string()
    at.run()  # the link is not shown again
    assert not at.code
    at.button(key="sh_revoke_all").click().run()
    assert resolve_token(token, db) is None
    assert list(at.dataframe[0].value["status"]) == ["revoked"]
