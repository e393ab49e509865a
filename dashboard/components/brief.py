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
from pipelines.clinical.change import PAIN_CLINICALLY_IMPORTANT, PAIN_SOME, PAIN_WORSE
from pipelines.clinical.settings import threshold_source
from pipelines.clinical.status import fmt, latest_words


def _md(text) -> str:
    out = str(text)
    for ch in "\\`*_[]<>#|~$":
        out = out.replace(ch, "\\" + ch)
    return out


def _signed(x: float) -> str:
    return ("+" if x > 0 else "−" if x < 0 else "±") + fmt(abs(x))


def status_headline(row: pd.Series, head: metrics.Headline, settings: dict, today: dt.date) -> None:
    """Metrics and the one-sentence verdict, from a :func:`pipelines.clinical.status.current_status` row."""
    rule = metrics.pain_rule_text(settings)
    have = row["status"] is not None
    with st.container(horizontal=True):
        st.metric("Visits", head.n_visits if head.n_visits == head.n_visits_total
                  else f"{head.n_visits} of {head.n_visits_total}", border=True)
        st.metric("Pain: first visit → now", f"{fmt(row['baseline'])} → {fmt(row['level'])}" if have else "—",
                  border=True, help="0–10 before the visit. Now = the middle (median) of the last three readings, "
                                    "before visits and the client's check-ins, so one odd day does not decide it.")
        change = "—"
        if have:
            pct = row["pct_change"]
            change = _signed(row["change"]) + ("" if pd.isna(pct) else f" ({_signed(round(pct))} %)")
        st.metric("Change from first visit", change, border=True, help="Negative = less pain than at the first visit.")
        st.metric("Days since last visit", head.days_since_last_visit if head.days_since_last_visit is not None else "—",
                  border=True, help=f"Last visit {head.last_visit_date:%d %b %Y}" if head.last_visit_date else None)

    if not have:
        st.info(row["missing"], icon=":material/help:")
        return
    n = int(row["n_level"])
    now = (f"pain now about {fmt(row['level'])} (95 % interval {fmt(row['level_low'])}–{fmt(row['level_high'])}; "
           f"the middle of the last {n} reading{'s' if n != 1 else ''}), {fmt(row['baseline'])} at the first visit")
    noise = f"a change beyond measurement error is {fmt(row['reliable_change'])} points here"
    status = row["status"]
    if status == PAIN_CLINICALLY_IMPORTANT:
        st.success(f"**Clinically important improvement**: {now}. That is {rule}, and beyond measurement error.")
    elif status == PAIN_SOME:
        st.info(f"**Some improvement**, not yet clinically important: {now}. Clinically important = {rule}; {noise}.")
    elif status == PAIN_WORSE:
        how = "by more than measurement error" if row["reliable"] else "for the last two readings in a row"
        st.error(f"**Worse than at the first visit** {how}: {now}. Worth discussing a different approach or a referral.")
    else:
        st.warning(f"**No important change yet**: {now}. Clinically important = {rule}; {noise}.")
    words = latest_words(row, today=today)
    if words:
        st.markdown(f"**Latest:** {_md(words[0].upper() + words[1:])}.")
    st.caption(f"Rule: {rule} ({metrics.pain_rule_source(settings)}); reliable change after Jacobson & Truax (1991) "
               f"with the 0–10 scale's measurement error ({metrics.cite(threshold_source(settings, 'pain.sem'))}).")
