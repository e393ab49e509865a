"""The between-clients brief at the top of Client progress: how the client is doing now, what
was done and found last time, what was planned, and what the client has said since.

Streamlit rendering only: the status comes from ``pipelines.clinical.status`` (the one rule
every surface uses), the rows from ``dashboard.queries.brief``.  Text from the database goes
through :func:`_md` so a note cannot turn into Markdown or HTML.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import metrics
from dashboard.access import start_presentation
from dashboard.client_facing.words import region_words
from dashboard.reports import report_filename, report_html_download
from dashboard.text import md
from pipelines.clinical.change import PAIN_CLINICALLY_IMPORTANT, PAIN_SOME, PAIN_WORSE
from pipelines.clinical.settings import threshold_source
from pipelines.clinical.status import fmt, latest_words
from pipelines.entry.inbox import mark_checkins_seen
from pipelines.warehouse.audit import DASHBOARD
from pipelines.warehouse.db import DatabaseBusy


def _signed(x: float) -> str:
    return ("+" if x > 0 else "−" if x < 0 else "±") + fmt(abs(x))


def status_headline(row: pd.Series, head: metrics.Headline, settings: dict, today: dt.date) -> None:
    """Metrics and the one-sentence verdict, from a :func:`pipelines.clinical.status.current_status` row."""
    rule = metrics.pain_rule_text(settings)
    have = row["status"] is not None
    with st.container(horizontal=True):
        st.metric(
            "Visits",
            head.n_visits if head.n_visits == head.n_visits_total else f"{head.n_visits} of {head.n_visits_total}",
            border=True,
        )
        st.metric(
            "Pain: first visit → now",
            f"{fmt(row['baseline'])} → {fmt(row['level'])}" if have else "—",
            border=True,
            help="0–10 before the visit. Now = the middle (median) of the last three readings, "
            "before visits and the client's check-ins, so one odd day does not decide it.",
        )
        change = "—"
        if have:
            pct = row["pct_change"]
            change = _signed(row["change"]) + ("" if pd.isna(pct) else f" ({_signed(round(pct))} %)")
        st.metric("Change from first visit", change, border=True, help="Negative = less pain than at the first visit.")
        st.metric(
            "Days since last visit",
            head.days_since_last_visit if head.days_since_last_visit is not None else "—",
            border=True,
            help=f"Last visit {head.last_visit_date:%d %b %Y}" if head.last_visit_date else None,
        )

    if not have:
        st.info(row["missing"], icon=":material/help:")
        return
    n = int(row["n_level"])
    now = (
        f"pain now about {fmt(row['level'])} (95 % interval {fmt(row['level_low'])}–{fmt(row['level_high'])}; "
        f"the middle of the last {n} reading{'s' if n != 1 else ''}), {fmt(row['baseline'])} at the first visit"
    )
    noise = f"a change beyond measurement error is {fmt(row['reliable_change'])} points here"
    status = row["status"]
    important_level = metrics.important_pain_level(row["baseline"], settings)
    if status == PAIN_CLINICALLY_IMPORTANT:
        st.success(
            f"**Reliable and clinically important improvement**: {now}. That is {rule}, and beyond "
            "measurement error (a reliable change)."
        )
    elif status == PAIN_SOME and important_level is not None and row["level"] <= important_level + 1e-9:
        st.info(
            f"**Some improvement: clinically important in size, not yet reliable**: {now}. That is {rule}, but still "
            f"within measurement error: {noise}."
        )
    elif status == PAIN_SOME:
        st.info(f"**Some improvement**, not yet clinically important: {now}. Clinically important = {rule}; {noise}.")
    elif status == PAIN_WORSE:
        how = "by more than measurement error" if row["reliable"] else "for the last two readings in a row"
        st.error(
            f"**Worse than at the first visit** {how}: {now}. Worth discussing a different approach or a referral."
        )
    else:
        st.warning(f"**No important change yet**: {now}. Clinically important = {rule}; {noise}.")
    words = latest_words(row, today=today)
    if words:
        st.markdown(f"**Latest:** {words}.")  # built from numbers and fixed words
    st.caption(
        f"Rule: {rule} ({metrics.pain_rule_source(settings)}); reliable change after Jacobson & Truax (1991) "
        f"with the 0–10 scale's measurement error ({metrics.cite(threshold_source(settings, 'pain.sem'))})."
    )


PRESSURE_WORDS = {1: "light", 2: "moderate-light", 3: "moderate", 4: "deep", 5: "very deep"}
PGIC_WORDS = {
    1: "very much improved",
    2: "much improved",
    3: "minimally improved",
    4: "no change",
    5: "minimally worse",
    6: "much worse",
    7: "very much worse",
}
# Longer text is cut here with the whole of it one click away, so the first screen stays a brief.
SHORT_CHARS = 400
CHECKINS_SHOWN = 8


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _long(label: str, value, key: str, missing: str) -> None:
    text = _text(value)
    if text is None:
        st.markdown(f"**{label}:** {missing}")
        return
    if len(text) <= SHORT_CHARS:
        st.markdown(f"**{label}:** {md(text)}")
        return
    st.markdown(f"**{label}:** {md(text[:SHORT_CHARS].rsplit(' ', 1)[0])} …")
    with st.expander(f"The whole {label.lower()} ({len(text):,} characters)", key=key):
        st.markdown(md(text))


def _day(at, today: dt.date | None = None) -> str:
    day = pd.Timestamp(at).date()
    ago = (
        ""
        if today is None
        else {0: " (today)", 1: " (yesterday)"}.get((today - day).days, f" ({(today - day).days} days ago)")
    )
    return f"{day:%a} {day.day} {day:%b %Y}{ago}"


def last_visit(brief: dict[str, pd.DataFrame], pretty, today: dt.date) -> None:
    """The last visit and its plan, in a bordered card: date, what was done, what was found,
    home care, notes, what the client said and the plan for next time."""
    visit = brief["last_visit"]
    with st.container(border=True, key="brief_card"):
        if visit.empty:
            st.markdown("**Last visit:** none recorded yet.")
            return
        v = visit.iloc[0]
        st.markdown(f"#### Last visit · {_day(v['visit_date'], today)} · visit {int(v['visit_number'])}")
        _long("Next time", v["plan"], "brief_plan_all", "no plan was written at that visit.")
        done = ", ".join(pretty(t) for t in v["techniques"]) or "no techniques recorded"
        parts = [done]
        if pd.notna(v["pressure"]):
            parts.append(f"pressure {int(v['pressure'])} of 5 ({PRESSURE_WORDS.get(int(v['pressure']), '')})")
        if pd.notna(v["pain_pre"]):
            after = f" → {fmt(v['pain_post'])} just after" if pd.notna(v["pain_post"]) else ""
            parts.append(f"pain {fmt(v['pain_pre'])} before{after} (rated in the room)")
        if pd.notna(v["duration_min"]):
            parts.append(f"{int(v['duration_min'])} min")
        if _text(v["therapist"]):
            parts.append(f"by {_text(v['therapist'])}")
        st.markdown(f"**Done:** {md(' · '.join(parts))}")
        points = brief["trigger_points"]
        if points.empty:
            st.markdown("**Trigger points found:** none recorded.")
        else:
            found = []
            for p in points.itertuples():
                side = f" ({p.side})" if isinstance(p.side, str) and p.side not in ("none", "") else ""
                tender = f", tenderness {fmt(p.tenderness)}" if pd.notna(p.tenderness) else ""
                refers = f" → refers to {region_words(p.referral_region)}" if _text(p.referral_region) else ""
                found.append(f"{pretty(p.muscle)}{side}{tender}{refers}")
            st.markdown("**Trigger points found:** " + md("; ".join(found)))
        _long("Home care", v["homecare"], "brief_homecare_all", "none given.")
        _long("Notes", v["notes"], "brief_notes_all", "none.")
        if _text(v["client_feedback"]):
            _long("Client said", v["client_feedback"], "brief_feedback_all", "")


def checkins_since(brief: dict[str, pd.DataFrame], pretty, today: dt.date) -> None:
    """What the client reported since the last visit, newest first, with notes and home-care answers."""
    checkins = brief["checkins"]
    since = "since that visit" if len(brief["last_visit"]) else "so far"
    if checkins.empty:
        st.markdown(f"**Check-ins {since}:** none.")
        return
    n = len(checkins)
    st.markdown(f"**Check-ins {since}:** {n}, newest first")
    lines = []
    for c in checkins.head(CHECKINS_SHOWN).itertuples():
        bits = [f"pain {fmt(c.pain)}"]
        if _text(c.region):
            bits.append(region_words(c.region))
        if pd.notna(c.did_homecare):
            bits.append("did the home care" if bool(c.did_homecare) else "did not do the home care")
        if pd.notna(c.pgic):
            bits.append(f"feels {PGIC_WORDS.get(int(c.pgic), '')} since starting")
        note = f": “{md(_text(c.note))}”" if _text(c.note) else ""
        lines.append(f"- **{_day(c.reported_at, today)}** · {md(' · '.join(bits))}{note}")
    st.markdown("\n".join(lines))
    if n > CHECKINS_SHOWN:
        st.caption(f"And {n - CHECKINS_SHOWN} older check-ins since that visit: all are on the pain chart below.")


def unseen_through(brief: dict[str, pd.DataFrame]):
    """The newest check-in since the last visit that is not yet marked seen, or None."""
    checkins = brief["checkins"]
    if checkins.empty:
        return None
    newest = pd.Timestamp(checkins["reported_at"].max())
    seen = brief["seen"]
    if len(seen) and pd.Timestamp(seen["seen_through"].iloc[0]) >= newest:
        return None
    return newest.to_pydatetime()


def actions(db: str, client_id: str, name: str) -> None:
    """Log a visit, Show to client, Make a private link, Report: each for this client."""
    with st.container(horizontal=True, vertical_alignment="center", key="brief_actions"):
        st.page_link(
            "app_pages/log_visit.py",
            label="Log a visit",
            query_params={"client": client_id},
            icon=":material/edit_note:",
        )
        if st.button("Show to client", icon=":material/tablet:", key="cp_present", type="tertiary"):
            start_presentation(client_id)
        st.page_link(
            "app_pages/sharing.py",
            label="Make a private link",
            query_params={"client": client_id},
            icon=":material/link:",
        )
        # Built only when clicked; the download leaves an "export" row in the audit log like the Share page's.
        st.download_button(
            "Report",
            data=lambda: report_html_download(db, client_id, actor=DASHBOARD),
            file_name=report_filename(name, "html"),
            mime="text/html",
            on_click="ignore",
            icon=":material/download:",
            key="cp_report",
            type="tertiary",
            help="The client's progress report as a file that opens offline (PDF on the Share page).",
        )


def mark_seen(db: str, client_id: str, brief: dict[str, pd.DataFrame]) -> None:
    """The therapist has this client's page open: their check-ins since the last visit leave the
    practice inbox.  Written only when there is something new (a page load is otherwise read-only);
    when an import holds the database it is left for the next time the page opens."""
    through = unseen_through(brief)
    if through is None:
        return
    try:
        mark_checkins_seen(client_id, through, db=db)
    except DatabaseBusy:
        pass


def plan_reminder(brief: dict[str, pd.DataFrame]) -> None:
    """On Log a visit: what was planned last time, so the therapist sees it while filling in this one."""
    visit = brief["last_visit"]
    plan = _text(visit["plan"].iloc[0]) if len(visit) else None
    if plan is None:
        return
    day = pd.Timestamp(visit["visit_date"].iloc[0])
    short = plan if len(plan) <= SHORT_CHARS else plan[:SHORT_CHARS].rsplit(" ", 1)[0] + " …"
    st.info(f"**Planned last time** ({day.day} {day:%b %Y}): {md(short)}", icon=":material/flag:")
