"""The client's own view: their progress in plain words, their charts, what was done, home care,
and (through a private link) a pain check-in.

It is rendered by :mod:`dashboard.access` in two situations, never through the therapist
navigation:

* ``mode="link"``: someone opened a private link; the client id comes only from the
  server-side token lookup (``pipelines.sharing.links.resolve_token``).  A check-in form is shown.
* ``mode="present"``: the therapist pressed "Show to client" for one client on a tablet.

There is no client picker and no link to any therapist page here, and every read is
parameterised by the one ``client_id`` (``dashboard.client_facing.data.load_client``).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.body_frames import CLIENT_LEGEND, at_visit, practice_places, start_and_now, visit_regions, where_words
from dashboard.charts import client as client_charts
from dashboard.charts.body import body_chart
from dashboard.client_facing.data import ClientData, UnknownClient, load_client
from dashboard.client_facing.view import summarise
from dashboard.client_facing.words import REGION_WORDS, fmt_date
from dashboard.components.response_words import client_sentences
from dashboard.queries.client_response import client_rows
from dashboard.state import SHARE_KEY
from dashboard.text import md
from pipelines.sharing.links import resolve_token
from pipelines.warehouse import audit
from pipelines.warehouse.db import DatabaseBusy, data_version, read_connection

CHART_CONFIG = {"displayModeBar": False, "showSendToCloud": False, "displaylogo": False}

# Hide Streamlit's own chrome (header, toolbar, sidebar, "Made with" footer) in the client's view.
CLEAN_CSS = """
<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"], footer,
[data-testid="stTopNavLinkContainer"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem !important; max-width: 60rem; }
</style>
"""

TONE_BOX = {"good": st.success, "steady": st.info, "concern": st.warning, "none": st.info}


@st.cache_data(ttl="1h", max_entries=64, show_spinner=False)
def _client_data(db: str, version: str, client_id: str) -> ClientData:
    # client_id is a (hashed) argument: the cache is shared by every session, so each
    # client's data is cached under their own id only.
    return load_client(db, client_id)


@st.cache_data(ttl="1h", max_entries=8, show_spinner=False)
def _regions(db: str, version: str) -> list[str]:
    """Body regions a client can pick: the built-in list plus the practice's accepted entries."""
    extra: list[str] = []
    try:
        with read_connection(db) as con:
            extra = [
                r[0]
                for r in con.execute(
                    "SELECT value FROM core.vocabulary_extensions WHERE vocabulary = 'region' ORDER BY value"
                ).fetchall()
            ]
    except Exception:  # an old database without the table: the built-in list is enough
        extra = []
    return list(REGION_WORDS) + [r for r in extra if r not in REGION_WORDS]


def render(db: str, client_id: str, mode: str = "link", settings: dict | None = None) -> None:
    """Draw the whole client view for ``client_id`` (see the module docstring for ``mode``)."""
    st.markdown(CLEAN_CSS, unsafe_allow_html=True)
    try:
        data = _client_data(db, data_version(db), client_id)
    except UnknownClient:
        st.error("This page is not available.")
        return
    summary = summarise(data, settings, dt.date.today())

    st.title("Your progress", anchor=False)
    span = ""
    if summary.n_visits:
        span = (
            f" · {summary.n_visits} visit{'s' if summary.n_visits != 1 else ''} since {fmt_date(summary.first_visit)}"
        )
    st.caption(f"{md(data.display_name)}{span}")
    TONE_BOX.get(summary.tone, st.info)(summary.headline)
    for line in (summary.session_line, summary.checkin_line):
        if line:
            st.write(line)

    st.subheader("Pain", anchor=False)
    st.plotly_chart(
        client_charts.pain_chart(data, summary, title=None), config=CHART_CONFIG, key="cv_pain_chart", width="stretch"
    )
    if summary.goal_level is not None:
        st.caption(
            f"The green band is where your usual pain would count as \u201cmuch improved\u201d compared with "
            f"your first visit. {summary.rule_text}"
        )

    _where_it_hurts(data, settings)

    if summary.homecare:
        st.subheader("Your home care", anchor=False)
        for d, text in summary.homecare:
            st.markdown(f"- **{md(text)}** (from {fmt_date(d)})")

    if summary.rom_lines:
        st.subheader("How far you can move", anchor=False)
        for line in summary.rom_lines:
            st.markdown(f"- {md(line.text)}")
        fig = client_charts.rom_chart(data, title=None, summary=summary)
        if fig is not None:
            st.plotly_chart(fig, config=CHART_CONFIG, key="cv_rom_chart", width="stretch")
            st.caption(client_charts.ROM_CAPTION)

    if summary.techniques:
        st.subheader("What we did", anchor=False)
        for name, what, n in summary.techniques:
            st.markdown(f"- **{md(name)}**{' – ' + md(what) if what else ''} ({n} visit{'s' if n != 1 else ''})")

    helps = client_sentences(client_rows(db, data_version(db), client_id).to_dict("records"))
    if helps:
        st.subheader("What seems to help you", anchor=False)
        st.markdown("\n".join(f"- {md(line)}" for line in helps))
        st.caption("Worked out from your own visits; a guide for the two of you, not a rule.")

    if mode == "link":
        _checkin_form(db, data)

    _download(db, client_id, data.display_name, settings, mode)


# What a download gives once the link has ended while its page was still open.
LINK_ENDED_HTML = (
    "<!DOCTYPE html><html lang='en'><meta charset='utf-8'><title>Knotwork</title>"
    "<p>This link is not valid any more. Please ask your therapist for a new one.</p></html>"
)


def link_report(db: str, client_id: str, token: str, settings: dict | None) -> str:
    """The report for a client's link, built only if the link still resolves to that client now (it
    may have been revoked or have expired since the page was drawn); otherwise a short notice."""
    from dashboard.reports import report_html_download

    if resolve_token(token, db) != client_id:
        return LINK_ENDED_HTML
    return report_html_download(db, client_id, settings, actor=audit.CLIENT_LINK)


def _where_it_hurts(data: ClientData, settings: dict | None) -> None:
    """Where it hurt at the start and where it hurts now, in words and on the body."""
    places = practice_places(settings)
    words = where_words(data.visits, data.trigger_points, places)
    if not words:
        return
    st.subheader("Where it hurts", anchor=False)
    for line in words:
        st.markdown(f"- {md(line)}")
    regions = visit_regions(data.visits)
    for column, (label, vid) in zip(st.columns(2), start_and_now(data.visits, data.trigger_points)):
        fig = body_chart(
            at_visit(regions, vid),
            at_visit(data.trigger_points, vid),
            title=label,
            places=places,
            show_scales=False,
            height=440,
        )
        column.plotly_chart(fig, config=CHART_CONFIG, key=f"cv_body_{label.split(' ·')[0]}", width="stretch")
    st.caption(CLIENT_LEGEND)


def _download(db: str, client_id: str, name: str, settings: dict | None, mode: str) -> None:
    from dashboard.reports import report_filename, report_html_download

    st.subheader("Keep a copy", anchor=False)
    if mode == "link":
        # Built when clicked, outside this run: the link is checked again then.
        token = st.session_state.get(SHARE_KEY, "")
        data = lambda: link_report(db, client_id, token, settings)  # noqa: E731
    else:  # shown in the room by the therapist: the export is theirs
        data = lambda: report_html_download(db, client_id, settings, actor=audit.DASHBOARD)  # noqa: E731
    st.download_button(
        "Download your report (HTML)",
        data=data,
        file_name=report_filename(name, "html"),
        mime="text/html",
        on_click="ignore",
        icon=":material/download:",
        key="cv_download_html",
    )
    st.caption("The file opens in any web browser, works without internet and can be printed.")


def _checkin_form(db: str, data: ClientData) -> None:
    from pipelines.sharing.checkin import record_checkin

    st.subheader("How are you today?", anchor=False)
    st.write("Tell your therapist how your pain has been since your last visit. Only your therapist sees this.")
    regions = _regions(db, data_version(db))
    default_region = data.complaint_region if data.complaint_region in regions else None
    # The form is emptied only after a check-in is stored (not on every Send), so nothing the client
    # typed is lost when it cannot be saved yet.
    if st.session_state.pop("cv_clear", False):
        for key in ("cv_pain", "cv_region", "cv_homecare", "cv_note"):
            st.session_state.pop(key, None)
    with st.form("cv_checkin", clear_on_submit=False):
        pain = st.segmented_control(
            "Pain right now (0 = none, 10 = the worst you can imagine)", list(range(11)), key="cv_pain"
        )
        region = st.selectbox(
            "Where?",
            regions,
            index=regions.index(default_region) if default_region else None,
            format_func=lambda r: REGION_WORDS.get(r, str(r).replace("_", " ")).capitalize(),
            key="cv_region",
            placeholder="Choose a body area",
        )
        homecare = st.radio(
            "Did you do your home care since your last visit?",
            ["Yes", "No"],
            index=None,
            horizontal=True,
            key="cv_homecare",
        )
        note = st.text_area("Anything else? (optional)", max_chars=2000, key="cv_note")
        sent = st.form_submit_button("Send", type="primary")
    thanks = st.session_state.pop("cv_thanks", None)
    if thanks:
        st.success(thanks)
    if not sent:
        return
    if pain is None:
        st.error("pain: please choose a number from 0 to 10.")
        return
    values = {
        "pain": pain,
        "region": region,
        "did_homecare": None if homecare is None else homecare == "Yes",
        "note": note.strip() or None,
    }
    try:
        result = record_checkin(data.client_id, values, db=db, source="link")
    except DatabaseBusy:
        st.warning(
            "Your check-in could not be saved just yet: your therapist’s records are being updated. "
            "What you entered is still here. Please press Send again in a minute."
        )
        return
    if result.ok:
        st.session_state["cv_thanks"] = "Thank you! Your check-in was saved and your therapist will see it."
        st.session_state["cv_clear"] = True
        st.rerun()
    else:
        st.error("Nothing was saved. Please check: " + "; ".join(result.errors))
