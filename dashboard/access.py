"""Who may see what: private links, presentation mode and the therapist password.

``dashboard/streamlit_app.py`` calls :func:`gate` **before** ``st.navigation``.  When it
returns True this run belongs to a client (or to the login form) and the entry point stops:
no navigation is built, so no therapist page can be reached from this session.

1. **Private link** (``?t=TOKEN``): the token is moved from the URL into
   ``st.session_state`` at once and ``st.query_params.clear()`` removes it from the address
   bar.  Every rerun resolves it again on the server (``pipelines.sharing.links.resolve_token``), so
   a link revoked or expiring while the page is open stops working on the next click.  A
   session that arrived through a link stays a client session for good, valid or not: an
   invalid token gets one generic message (:data:`pipelines.sharing.links.INVALID_LINK_MESSAGE`)
   and nothing else — not even the login form.
2. **Presentation mode** (the therapist pressed "Show to client"): only that client's view.
   Entering it signs the therapist out of this session, so leaving it needs the password
   when one is set.
3. **Therapist login**: when ``[security] password_hash`` is set (``knotwork set-password``),
   every therapist page waits for the password (scrypt hash, ``hmac.compare_digest``;
   ``pipelines.sharing.passwords``).  Failed attempts are throttled per server process.  Without a
   password the therapist pages open only for a browser on this computer (:func:`is_remote`),
   so a client who reloads a link page from home never lands on them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from urllib.parse import urlsplit

import streamlit as st

from dashboard.client_facing.page import CLEAN_CSS, render
from dashboard.state import AUTH_KEY, PRESENT_KEY, SHARE_KEY
from pipelines.warehouse.db import DatabaseBusy
from pipelines.sharing.passwords import check_password, password_is_set
from pipelines.sharing.links import INVALID_LINK_MESSAGE, resolve_token


# Login throttle (all sessions of this server): at most MAX_FAILURES wrong passwords per WINDOW_S.
MAX_FAILURES = 10
WINDOW_S = 60.0
FAIL_DELAY_S = 0.5


@st.cache_resource
def _failures() -> tuple[deque, threading.Lock]:
    return deque(maxlen=1000), threading.Lock()


def _throttled() -> bool:
    times, lock = _failures()
    now = time.monotonic()
    with lock:
        while times and now - times[0] > WINDOW_S:
            times.popleft()
        return len(times) >= MAX_FAILURES


def _record_failure() -> None:
    times, lock = _failures()
    with lock:
        times.append(time.monotonic())


def is_client_session() -> bool:
    return SHARE_KEY in st.session_state or PRESENT_KEY in st.session_state


def gate(db: str, settings: dict | None = None, pages: list | None = None) -> bool:
    """Handle links, presentation mode and login.  True = this run is handled; stop the script.

    ``pages`` (the therapist ``st.Page`` list) is only used by the login form: it registers
    them hidden and runs none, so after signing in the therapist lands on the page whose
    address they opened.  Client sessions never register any page."""
    token = st.query_params.get("t")
    if token is not None:
        st.session_state[SHARE_KEY] = str(token)
        st.session_state.pop(AUTH_KEY, None)
        st.session_state.pop(PRESENT_KEY, None)
        st.query_params.clear()
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
    if not st.session_state.get(AUTH_KEY):
        if pages:
            st.navigation(pages, position="hidden")  # keeps the requested address; nothing is run
        _login(db)
        return True
    return False


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
    st.info("The therapist pages open only on the computer that runs Knotwork until a password is set "
            "(`knotwork set-password`).")
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


def show_to_client_button(client_id: str, key: str = "kw_show_to_client") -> None:
    """A "Show to client" button for any therapist page."""
    if st.button("Show to client", icon=":material/tablet:", type="primary", key=key,
                 help="A clean full-screen view of this client only, for a tablet during the visit. "
                      "Leaving it needs the therapist password when one is set."):
        start_presentation(client_id)


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
            elif _throttled():
                st.error("Too many wrong passwords. Wait a minute and try again.")
            elif check_password(pw, db):
                st.session_state.pop(PRESENT_KEY, None)
                st.session_state[AUTH_KEY] = True
                st.rerun()
            else:
                _record_failure()
                time.sleep(FAIL_DELAY_S)
                st.error("That password is not right.")


def _login(db: str) -> None:
    st.title("Knotwork")
    st.write("The therapist pages are protected. Please enter the practice password.")
    st.caption("If you are a client, please open the link your therapist sent you again.")
    with st.form("kw_login", clear_on_submit=True):
        pw = st.text_input("Password", type="password", key="kw_login_pw")
        sent = st.form_submit_button("Sign in", type="primary")
    if not sent:
        return
    if _throttled():
        st.error("Too many wrong passwords. Wait a minute and try again.")
        return
    if check_password(pw, db):
        st.session_state[AUTH_KEY] = True
        st.rerun()
    _record_failure()
    time.sleep(FAIL_DELAY_S)
    st.error("That password is not right.")


def sign_out_button(db: str, key: str = "kw_sign_out") -> None:
    """"Lock" for the therapist pages (shown only when a password is set)."""
    if password_is_set(db, None) and st.session_state.get(AUTH_KEY):
        if st.button("Lock", icon=":material/lock:", key=key, help="Sign out of the therapist pages"):
            st.session_state.pop(AUTH_KEY, None)
            st.rerun()
