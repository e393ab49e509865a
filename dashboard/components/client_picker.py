"""The one client picker every page uses: "Name (ID)" labels, search-first in a large practice, and the
chosen client kept in the address (``?client=``) and for the other pages.

Which client a page starts on:

- ``?client=ID`` in the address (a link from another page, a reload, a shared address) wins;
- without one, the client last chosen on any page (``dashboard.state.CLIENT_KEY``: the navigation keeps
  it), unless the page asks not to (``start_on_remembered=False``: the Clients page opens on a new client);
- a filter (``keep=False``, the Records page) starts on nobody and keeps nothing: its choice narrows one
  table, it does not change which client the therapist is working with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from dashboard import metrics
from dashboard.state import CLIENT_KEY
from dashboard.text import md


def _start_on(key: str, known: Mapping[str, str], start_on_remembered: bool) -> None:
    """Put the picker on the client in the address or, without one, the remembered client
    (set before the widget exists, the only moment Streamlit lets a page choose a widget's value)."""
    wanted = st.query_params.get("client") or (st.session_state.get(CLIENT_KEY) if start_on_remembered else None)
    if wanted in known and st.session_state.get(key) != wanted:
        st.session_state[key] = wanted


def _remember(key: str, forget_on_none: bool, then: Callable[[], None] | None) -> None:
    """``on_change``: the choice goes into the address (a reload or a shared link opens the same client)
    and is kept for the other pages."""
    chosen = st.session_state.get(key)
    if chosen:
        st.query_params["client"] = chosen
        st.session_state[CLIENT_KEY] = chosen
    else:
        st.query_params.pop("client", None)
        if forget_on_none:
            st.session_state.pop(CLIENT_KEY, None)
    if then is not None:
        then()


def _search(where, key: str, find_key: str, ids: Sequence[str], labels: Mapping[str, str]) -> list[str]:
    """A clinic group or network: a drop-down of every client is sent to the browser on every click
    (100,000 names cost ~0.4 s a rerun) and nobody scrolls it. Search first, then pick from the matches."""
    found = where.text_input(
        "Find a client", key=find_key, placeholder=f"Part of a name or client id ({len(ids):,} clients)"
    ).strip()
    current = st.session_state.get(key)
    options = [current] if current in labels else []
    if found:
        needle = found.lower()
        # The label is "Name (ID)": one test covers the name and the id.
        hits = [c for c in ids if needle in labels[c].lower()]
        options += [c for c in hits[: metrics.PICKER_MATCHES_SHOWN] if c != current]
        if len(hits) > metrics.PICKER_MATCHES_SHOWN:
            where.caption(
                f"{len(hits):,} clients match; the first {metrics.PICKER_MATCHES_SHOWN} are listed. "
                "Type more of the name to narrow it."
            )
        elif not hits:
            where.caption("No client matches that.")
    return options


def client_picker(
    key: str,
    ids: Sequence[str],
    labels: Mapping[str, str],
    *,
    where=st,
    label: str = "Client",
    placeholder: str = "Type a name or client id to search…",
    new_label: str | None = None,
    start_on_remembered: bool = True,
    keep: bool = True,
    on_change: Callable[[], None] | None = None,
    disabled: bool = False,
) -> str | None:
    """The chosen client id, or None.

    ``ids`` in the order to list them, ``labels`` ``{id: "Name (ID)"}`` (``queries.client_labels``).
    ``new_label`` puts a "new client" entry (None) first; ``where`` is the column or container to draw in;
    ``on_change`` runs after the choice is kept. The search box (over ``metrics.PICKER_FULL_LIST_MAX``
    clients) has the key ``<prefix>_find`` for a picker keyed ``<prefix>_client``."""
    if keep:
        _start_on(key, labels, start_on_remembered)
    options: list = list(ids)
    searching = len(ids) > metrics.PICKER_FULL_LIST_MAX
    if searching:
        options = _search(where, key, key.rsplit("_", 1)[0] + "_find", ids, labels)
    if new_label is not None:
        options = [None, *options]
    if searching:
        placeholder = "Choose from the clients found above…"
    chosen = where.selectbox(
        label,
        options,
        index=None if new_label is None else 0,
        key=key,
        format_func=lambda c: new_label if c is None else labels.get(c, c),
        placeholder=placeholder,
        on_change=_remember if keep else on_change,
        args=(key, start_on_remembered, on_change) if keep else (),
        disabled=disabled,
    )
    if keep and chosen is not None:
        # Chosen without a change event (the remembered client, a client just added): the address and
        # the other pages follow, so a reload opens the same client.
        st.query_params["client"] = chosen
        st.session_state[CLIENT_KEY] = chosen
    return chosen


def recently_seen(clients: pd.DataFrame, page: str, n: int = 8) -> None:
    """Links to the clients seen most recently (``clients`` with ``last_visit_date``), each opening ``page``."""
    recent = clients[clients["last_visit_date"].notna()].sort_values("last_visit_date", ascending=False).head(n)
    if len(recent):
        st.markdown("**Seen recently**")
        with st.container(horizontal=True):
            for row in recent.itertuples():
                st.page_link(
                    page,
                    label=f"{md(row.display_name)} ({md(row.client_id)})",
                    query_params={"client": row.client_id},
                    icon=":material/person:",
                )
