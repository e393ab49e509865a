"""Who may see what: private links, presentation mode and the therapist password.

``dashboard/streamlit_app.py`` calls :func:`gate` **before** ``st.navigation``.  When it
returns True this run belongs to a client (or to the login form) and the entry point stops:
no navigation is built, so no therapist page can be reached from this session.

1. **Private link** (``?t=TOKEN``): under ``knotwork serve`` the link never reaches Streamlit:
   the HTTP layer answers it with a redirect to ``/`` and a one-time code in an HttpOnly cookie
   (:mod:`dashboard.link_handoff`), so the token is in no entry of the tab's history; the first
   run swaps the code for the token (:func:`_link_token`) and keeps it in ``st.session_state``.
   When the app runs without that layer (AppTest, a bare ``streamlit run``), ``?t=`` is read from
   the URL and ``st.query_params.clear()`` takes it out of the address bar.  Every rerun resolves it again on the server (``pipelines.sharing.links.resolve_token``), so
   a link revoked or expiring while the page is open stops working on the next click.  A
   session that arrived through a link stays a client session for good, valid or not: an
   invalid token gets one generic message (:data:`pipelines.sharing.links.INVALID_LINK_MESSAGE`)
   and nothing else — not even the login form.
2. **Presentation mode** (the therapist pressed "Show to client"): only that client's view.
   Entering it signs the therapist out of this session, so leaving it needs the password
   when one is set.
3. **Therapist login**: when ``[security] password_hash`` is set (``knotwork set-password``),
   every therapist page waits for the password (scrypt hash, ``hmac.compare_digest``;
   ``pipelines.sharing.passwords``).  Wrong passwords are throttled per source with growing waits
   (``pipelines.sharing.signin``, process memory no visitor can clear); a signed-in session ends
   after :data:`IDLE_TIMEOUT_S` without use.  Every session (sign-in, link, presentation) is bound
   to the browser that opened it (address and user agent, checked on every run).  Without a
   password the therapist pages open only for a browser on this computer (:func:`is_remote`),
   so a client who reloads a link page from home never lands on them.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

import streamlit as st

from dashboard.client_facing.page import CLEAN_CSS, render
from dashboard.link_handoff import HANDOFF_COOKIE, HANDOFFS
from dashboard.state import AUTH_KEY, PRESENT_KEY, SHARE_KEY
from pipelines.sharing.links import INVALID_LINK_MESSAGE, resolve_token
from pipelines.sharing.passwords import check_password, password_is_set
from pipelines.sharing.signin import LOCAL_SOURCE, THROTTLE, wait_words
from pipelines.warehouse.db import DatabaseBusy

# A session is bound to the browser that opened it (its address and user agent): a session id seen
# elsewhere (it appears in upload URLs, which proxies log) is useless from another browser.
BOUND_KEY = "kw_bound_to"
SEEN_KEY = "kw_last_seen"
IDLE_TIMEOUT_S = 30 * 60.0  # a signed-in therapist session ends after this long without a click
IDLE_MESSAGE = "You were signed out after 30 minutes without use. Please sign in again."
IDLE_NOTICE_KEY = "kw_idle_notice"
HANDOFF_SEEN_KEY = "kw_link_code_seen"


def _now() -> float:
    return time.monotonic()


def is_client_session() -> bool:
    return SHARE_KEY in st.session_state or PRESENT_KEY in st.session_state


def gate(db: str, settings: dict | None = None, pages: list | None = None) -> bool:
    """Handle links, presentation mode and login.  True = this run is handled; stop the script.

    ``pages`` (the therapist ``st.Page`` list) is only used by the login form: it registers
    them hidden and runs none, so after signing in the therapist lands on the page whose
    address they opened.  Client sessions never register any page."""
    in_url = st.query_params.get("t")
    token = in_url if in_url is not None else _link_token()
    source, fingerprint = request_identity()
    if token is not None:
        st.session_state[SHARE_KEY] = str(token)
        st.session_state[BOUND_KEY] = fingerprint
        st.session_state.pop(AUTH_KEY, None)
        st.session_state.pop(PRESENT_KEY, None)
        if in_url is not None:
            st.query_params.clear()
    _check_binding(fingerprint)
    if SHARE_KEY in st.session_state:
        _link_view(db, settings if settings is not None else _practice_settings(db))
        return True
    if PRESENT_KEY in st.session_state:
        _presentation(db, settings if settings is not None else _practice_settings(db))
        return True
    if not password_is_set(db, None):
        if is_remote():
            _local_only()
            return True
        return False
    if st.session_state.get(AUTH_KEY) and _now() - st.session_state.get(SEEN_KEY, _now()) > IDLE_TIMEOUT_S:
        st.session_state.pop(AUTH_KEY, None)
        st.session_state[IDLE_NOTICE_KEY] = True
    if not st.session_state.get(AUTH_KEY):
        if pages:
            st.navigation(pages, position="hidden")  # keeps the requested address; nothing is run
        _login(db, source, fingerprint)
        return True
    st.session_state[SEEN_KEY] = _now()
    return False


def _link_token() -> str | None:
    """The token a link handed to this session through its one-time cookie, on the session's first
    run only (:mod:`dashboard.link_handoff`); None when there is none, or it was used already."""
    try:
        code = st.context.cookies.get(HANDOFF_COOKIE)
    except Exception:  # no browser session (bare run / AppTest)
        return None
    if not isinstance(code, str) or not code or st.session_state.get(HANDOFF_SEEN_KEY) == code:
        return None
    st.session_state[HANDOFF_SEEN_KEY] = code  # this session's cookie does not change: look once
    return HANDOFFS.take(code)


def request_identity() -> tuple[str, str]:
    """(where this browser is, for the sign-in throttle; a digest of address and user agent, for
    binding the session).  The source is ``local`` for this computer (:func:`is_remote`); behind a
    proxy, the address the nearest proxy appended to ``X-Forwarded-For`` (the part a client cannot
    choose); otherwise the socket's address."""
    try:
        ip = st.context.ip_address
        headers = {str(k).lower(): str(v) for k, v in (st.context.headers or {}).items()}
    except Exception:
        ip, headers = None, {}
    if ip is not None and not isinstance(ip, str):  # AppTest: no socket, no headers
        ip, headers = None, {}
    forwarded = [a.strip() for a in headers.get("x-forwarded-for", "").split(",") if a.strip()]
    address = forwarded[-1] if forwarded else (ip or "loopback")
    source = LOCAL_SOURCE if not is_remote() else address
    digest = hashlib.sha256(f"{address}\n{headers.get('user-agent', '')}".encode("utf-8", "replace")).hexdigest()
    return source, digest


def _check_binding(fingerprint: str) -> None:
    """End this session's sign-in, link or presentation when it is used from another browser."""
    bound = st.session_state.get(BOUND_KEY)
    if bound is None:
        st.session_state[BOUND_KEY] = fingerprint
        return
    if hmac.compare_digest(bound, fingerprint):
        return
    st.session_state.pop(AUTH_KEY, None)
    st.session_state.pop(PRESENT_KEY, None)
    if SHARE_KEY in st.session_state:
        st.session_state[SHARE_KEY] = ""  # still a client session, now with no valid link
    st.session_state[BOUND_KEY] = fingerprint


# Headers a reverse proxy adds; their presence means the browser is not on this computer.
FORWARD_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _hostname(netloc: str | None) -> str | None:
    try:
        return urlsplit(f"//{netloc.strip()}").hostname if netloc else None
    except ValueError:
        return None


def is_local_request(ip: object, headers: dict[str, str]) -> bool:
    """True only for a browser on this computer asking for this computer by a loopback name.

    * the socket's peer is loopback (Streamlit reports ``ip`` as None then);
    * no reverse-proxy header (a proxy makes every visitor look like 127.0.0.1);
    * ``Host`` is a loopback name: a DNS-rebinding page reaches 127.0.0.1 under its own name;
    * ``Origin`` is present and is exactly that loopback address, port included: a page served by
      another program on this computer (``http://localhost:3000``) is not this dashboard.
    ``headers`` has lower-case names.  Fails closed: a missing or odd header means "not local"."""
    if ip is not None or any(h in headers for h in FORWARD_HEADERS):
        return False
    host, origin = headers.get("host"), headers.get("origin")
    if _hostname(host) not in LOOPBACK_NAMES or not origin:
        return False
    try:
        origin_netloc = urlsplit(origin.strip()).netloc
    except ValueError:
        return False
    return origin_netloc.lower() == host.strip().lower()


def is_remote() -> bool:
    """True when this session's browser is not on the computer running Knotwork, or asked for it by
    a name that is not a loopback name (:func:`is_local_request`)."""
    try:
        ip = st.context.ip_address  # None for 127.0.0.1 / ::1
        headers = {str(k).lower(): str(v) for k, v in (st.context.headers or {}).items()}
    except Exception:
        return False  # no browser session (bare run / AppTest): nothing remote about it
    if ip is not None and not isinstance(ip, str):  # AppTest has no socket (it returns a mock): local
        return False
    return not is_local_request(ip, headers)


def _local_only() -> None:
    st.title("Knotwork")
    st.info(
        "The therapist pages open only on the computer that runs Knotwork until a password is set "
        "(`knotwork set-password`)."
    )
    st.write("If you are a client, please open the link your therapist sent you again.")


def _practice_settings(db: str) -> dict | None:
    """The practice's thresholds (its settings file over the defaults); defaults if unreadable."""
    from dashboard.queries import therapist as queries

    try:
        return queries.practice_settings(db)
    except Exception:
        return None


def _link_view(db: str, settings: dict | None) -> None:
    try:
        client_id = resolve_token(st.session_state[SHARE_KEY], db)
    except DatabaseBusy:
        raise  # streamlit_app shows the client's wording and retries by itself
    except Exception:  # no database, an old schema …: the same message as a bad link, nothing more
        client_id = None
    if client_id is None:
        st.markdown(CLEAN_CSS, unsafe_allow_html=True)
        st.title("Knotwork")
        st.warning(INVALID_LINK_MESSAGE)
        return
    render(db, client_id, mode="link", settings=settings)


def start_presentation(client_id: str) -> None:
    """Switch this session to the client view of ``client_id`` (therapist pages hidden)."""
    st.session_state[PRESENT_KEY] = client_id
    st.session_state.pop(AUTH_KEY, None)
    st.query_params.clear()
    st.rerun()


def _presentation(db: str, settings: dict | None) -> None:
    from dashboard.client_facing.page import render

    render(db, st.session_state[PRESENT_KEY], mode="present", settings=settings)
    st.divider()
    with st.expander("For your therapist"):
        needs_pw = password_is_set(db, None)
        with st.form("kw_end_presentation", clear_on_submit=True):
            pw = st.text_input("Therapist password", type="password", key="kw_end_pw") if needs_pw else ""
            done = st.form_submit_button("End presentation")
        if done:
            if not needs_pw:
                st.session_state.pop(PRESENT_KEY, None)
                st.rerun()
            source, _ = request_identity()
            if _try_password(db, pw, source):
                st.session_state.pop(PRESENT_KEY, None)
                st.rerun()


def _login(db: str, source: str, fingerprint: str) -> None:
    st.title("Knotwork")
    if st.session_state.pop(IDLE_NOTICE_KEY, False):
        st.info(IDLE_MESSAGE)
    st.write("The therapist pages are protected. Please enter the practice password.")
    st.caption("If you are a client, please open the link your therapist sent you again.")
    with st.form("kw_login", clear_on_submit=True):
        pw = st.text_input("Password", type="password", key="kw_login_pw")
        sent = st.form_submit_button("Sign in", type="primary")
    if sent and _try_password(db, pw, source):
        st.session_state[BOUND_KEY] = fingerprint
        st.rerun()


def _try_password(db: str, password: str, source: str) -> bool:
    """Check a password under the throttle; on success this session is signed in (True)."""
    wait = THROTTLE.wait_s(source)
    if wait > 0:
        st.error(f"Too many wrong passwords. Please wait {wait_words(wait)} and try again.")
        return False
    if check_password(password, db):
        THROTTLE.succeeded(source)
        st.session_state[AUTH_KEY] = True
        st.session_state[SEEN_KEY] = _now()
        return True
    wait = THROTTLE.failed(source)
    st.error("That password is not right." + (f" Please wait {wait_words(wait)} before the next try." if wait else ""))
    return False


def sign_out_button(db: str, key: str = "kw_sign_out") -> None:
    """ "Lock" for the therapist pages (shown only when a password is set)."""
    if password_is_set(db, None) and st.session_state.get(AUTH_KEY):
        if st.button("Lock", icon=":material/lock:", key=key, help="Sign out of the therapist pages"):
            st.session_state.pop(AUTH_KEY, None)
            st.rerun()
