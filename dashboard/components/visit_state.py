"""Log a visit's session state: which form is open (its generation), the problems of the last save,
the visit being edited, and the message of the last save or delete shown after the rerun.

A saved or cancelled form gets a new generation: every widget key carries it, so the next form
starts empty without clearing keys one by one.
"""

from __future__ import annotations

import streamlit as st

from dashboard.state import CLIENT_KEY
from dashboard.text import md
from pipelines.entry import forms as entry

ss = st.session_state

DEFAULTS = (("lv_gen", 0), ("lv_qgen", 0), ("lv_problems", []), ("lv_q_problems", []), ("lv_edit", None))


def prefix(client_id: str | None) -> str:
    """The key prefix of the open visit form's rows (entry_rows, body_picker): its generation and client."""
    return f"lv_{ss['lv_gen']}_{client_id}"


def _next_generation() -> None:
    """A new, empty form; the rows and body clicks of the one before are let go."""
    old = f"lv_{ss['lv_gen']}_"
    for key in [k for k in ss if str(k).startswith(old)]:
        del ss[key]
    ss["lv_gen"] += 1


def reset_form() -> None:
    _next_generation()
    ss["lv_problems"] = []
    ss["lv_edit"] = None
    ss["lv_prefill"] = None
    ss.pop("lv_edit_pick", None)


def client_changed() -> None:
    reset_form()
    ss["lv_q_problems"] = []
    if ss.get("lv_client"):
        st.query_params["client"] = ss["lv_client"]
        ss[CLIENT_KEY] = ss["lv_client"]


def start_edit(db: str) -> None:
    vid = ss.get("lv_edit_pick")
    _next_generation()
    ss["lv_problems"] = []
    ss["lv_edit"] = vid
    ss["lv_prefill"] = entry.load_visit(vid, db=db) if vid else None


def start(known_clients) -> None:
    """Set up the page's state before any widget: the client from the address or the last page, and a
    fresh form after a save or delete."""
    for key, default in DEFAULTS:
        ss.setdefault(key, default)
    ss.setdefault("lv_prefill", None)
    wanted = st.query_params.get("client") or ss.get(CLIENT_KEY)
    if wanted in known_clients and ss.get("lv_client") != wanted and not ss.get("lv_edit"):
        ss["lv_client"] = wanted  # opened from a link (client page, Clients page)
        reset_form()
    reset = ss.pop("lv_reset", None)
    if reset:
        reset_form()
        if reset == "new visit saved":  # the next visit is usually another client's: none selected
            ss["lv_client"] = None
            st.query_params.pop("client", None)
            ss.pop(CLIENT_KEY, None)


def show(*fields: str, kind: str = "lv_problems") -> None:
    """Each problem of these fields, right under the field."""
    for p in ss.get(kind, []):
        if p.field in fields:
            st.error(p.message, icon=":material/error:")


def flash(kind: str, message: str, extra: list[str], client_id: str, reset: str | None = None) -> None:
    """Say ``message`` after the rerun (and start a fresh form when ``reset`` says why)."""
    ss["lv_flash"] = (kind, message, extra, client_id)
    if reset:
        ss["lv_reset"] = reset
    st.rerun()


def show_flash(names: dict[str, str]) -> None:
    """The message of the last save or delete, with a link to the client's progress."""
    last = ss.pop("lv_flash", None)
    if not last:
        return
    kind, message, extra, client_id = last
    getattr(st, kind)(message, icon=":material/check_circle:" if kind == "success" else None)
    for w in extra:
        st.warning(w, icon=":material/info:")
    if client_id in names:
        progress_link(client_id, names[client_id])


def progress_link(client_id: str, name: str) -> None:
    st.page_link(
        "app_pages/client_progress.py",
        label=f"See {md(name)}'s progress",
        query_params={"client": client_id},
        icon=":material/monitoring:",
    )
