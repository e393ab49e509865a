"""Client progress: how one client is doing across visits (pain, ROM, techniques, trigger points)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import metrics, page_parts
from dashboard.charts import progress as charts
from dashboard.components import brief, client_response, trial
from dashboard.components.body_map import client_body_map
from dashboard.letter_download import letter_download
from dashboard.queries import brief as brief_queries
from dashboard.queries import therapist as queries
from dashboard.state import CLIENT_KEY
from dashboard.text import md
from pipelines.clinical.settings import threshold_source
from pipelines.clinical.status import client_status

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
today = dt.date.today()

st.title("Client progress")
clients = page_parts.clients_or_stop(db, ver)

# --- Client picker, kept in sync with ?client=ID so a link (or a reload) opens the same client.
ids = clients["client_id"].tolist()
labels = queries.client_labels(db, ver)  # built once per data version: 100,000 of them in a network
page_parts.preselect_client("cp_client", labels)


pick, dates = st.columns([3, 2], vertical_alignment="bottom")
options = ids
if len(ids) > metrics.PICKER_FULL_LIST_MAX:
    # A clinic group or network: a drop-down of every client is sent to the browser on every click
    # (100,000 names cost ~0.4 s a rerun) and nobody scrolls it. Search first, then pick from the matches.
    found = pick.text_input(
        "Find a client", key="cp_find", placeholder=f"Part of a name or client id ({len(ids):,} clients)"
    )
    current = st.session_state.get("cp_client")
    options = [current] if current in labels else []
    if found.strip():
        hits = clients.loc[
            clients["display_name"].str.contains(found.strip(), case=False, regex=False)
            | clients["client_id"].str.contains(found.strip(), case=False, regex=False),
            "client_id",
        ]
        options += [c for c in hits.head(metrics.PICKER_MATCHES_SHOWN) if c != current]
        if len(hits) > metrics.PICKER_MATCHES_SHOWN:
            pick.caption(
                f"{len(hits):,} clients match; the first {metrics.PICKER_MATCHES_SHOWN} are listed. "
                "Type more of the name to narrow it."
            )
        elif hits.empty:
            pick.caption("No client matches that.")
client_id = pick.selectbox(
    "Client",
    options,
    index=None,
    key="cp_client",
    on_change=page_parts.remember_client,
    args=("cp_client",),
    format_func=labels.__getitem__,
    placeholder=("Type a name or client id to search…" if options is ids else "Choose from the clients found above…"),
)

if client_id is None:
    recent = clients[clients["last_visit_date"].notna()].sort_values("last_visit_date", ascending=False).head(8)
    if len(recent):
        st.markdown("**Seen recently**")
        with st.container(horizontal=True):
            for row in recent.itertuples():
                st.page_link(
                    "app_pages/client_progress.py",
                    label=f"{md(row.display_name)} ({md(row.client_id)})",
                    query_params={"client": row.client_id},
                    icon=":material/person:",
                )
    st.stop()

st.session_state[CLIENT_KEY] = client_id
st.query_params["client"] = client_id
summary = queries.client(db, ver, client_id).iloc[0]
first, last = summary["first_visit_date"], summary["last_visit_date"]
if pd.isna(first):
    st.info(
        f"{md(summary['display_name'])} has no visits recorded yet. Their progress appears here after the first visit "
        "is imported.",
        icon=":material/event_available:",
    )
    st.stop()
first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
# Up to today by default: self-reports since the last visit are what a therapist wants to see first.
until = max(last, today)
chosen = dates.date_input("Dates", value=(first, until), min_value=first, max_value=until, key=f"cp_dates_{client_id}")
start, end = chosen if isinstance(chosen, (tuple, list)) and len(chosen) == 2 else (first, until)

complaint = summary["primary_complaint"] if pd.notna(summary["primary_complaint"]) else "no complaint recorded"
status_txt = charts.pretty(summary["status"]) if pd.notna(summary["status"]) else "status not recorded"
st.caption(f"{md(complaint)} · {status_txt} · first visit {first:%d %b %Y}")

brief.actions(db, client_id, summary["display_name"])

# --- The brief: how the client is doing now (all their readings, whatever the dates chosen above),
# what was done and planned last time, and what the client has said since.
visits = queries.client_visits(db, ver, client_id, start, end)
head = metrics.client_headline(
    visits, today, n_visits_total=int(summary["n_visits"]), last_visit_date=summary["last_visit_date"]
)
now = client_status(
    client_id, queries.client_visits(db, ver, client_id), queries.client_self_reports(db, ver, client_id), settings
)
brief.status_headline(now, head, settings, today)
last = brief_queries.client_brief(db, ver, client_id)
brief.last_visit(last, charts.pretty, today)
brief.checkins_since(last, charts.pretty, today)
brief.mark_seen(db, client_id, last)
rule = metrics.pain_rule_text(settings)

if visits.empty:
    st.info(
        "No visits in the selected dates. Widen the date range to see this client's visits.",
        icon=":material/date_range:",
    )
    st.stop()

# --- Pain across visits -------------------------------------------------------------------
st.subheader("Pain across visits")
reports = queries.client_self_reports(db, ver, client_id, start, end)
level = metrics.important_pain_level(head.baseline, settings)
trend = metrics.theil_sen_trend(visits)
band_label = f"Clinically important improvement: pain ≤ {charts.fmt_points(level)}" if level is not None else ""
if visits["pain_pre"].notna().any() or len(reports):
    fig = charts.pain_chart(
        visits,
        reports,
        baseline=head.baseline,
        important_level=level,
        band_label=band_label,
        trend=trend,
        categories=metrics.pain_category_per_visit(visits, settings),
    )
    course = client_response.expected_course(db, ver, client_id, start, end, fig)
    st.plotly_chart(fig, config=charts.PLOTLY_CONFIG, key="cp_pain")
    client_response.course_caption(course)
    notes = []
    if level is None and head.baseline is not None:
        notes.append(
            f"a baseline of {charts.fmt_points(head.baseline)} is too low for a {rule} change, so no band is drawn"
        )
    if trend is None:
        notes.append("the trend line needs at least 3 visits with pain scores")
    n_no_post = int(visits["pain_post"].isna().sum())
    if n_no_post:
        notes.append(f"pain after the visit was not recorded for {n_no_post} of {len(visits)} visits")
    st.caption(
        "Green band: " + rule + ". Trend: Theil–Sen median slope of pain before each visit (robust to "
        "one-off bad days)." + ("" if not notes else " Note: " + "; ".join(notes) + ".")
    )
else:
    st.info("No pain scores recorded for these visits.", icon=":material/info:")

# --- Range of motion ----------------------------------------------------------------------
st.subheader("Range of motion")
series = metrics.rom_series(queries.client_rom(db, ver, client_id, start, end), settings)
if not series:
    st.info("No range-of-motion readings recorded for this client in these dates.", icon=":material/straighten:")
else:
    cols = st.columns(2)
    for i, s in enumerate(series):
        label = f"normal {s.normal:g}°" if s.normal else ""
        fig = charts.rom_chart(s.readings, title=s.title, normal=s.normal, normal_label=label, mdc=s.mdc)
        cols[i % 2].plotly_chart(fig, config=charts.PLOTLY_CONFIG, key=f"cp_rom_{i}")
    sources = sorted({metrics.cite(s.normal_source) for s in series if s.normal_source})
    mdcs = sorted({s.mdc for s in series})
    st.caption(
        "**Blue**: before the visit. **Orange**: after the visit; filled when the change is larger than the "
        f"measurement error (MDC {', '.join(f'{m:g}°' for m in mdcs)}), hollow when it is within it and may not be "
        "real. **Dashed line**: normal active range (" + "; ".join(sources) + "). MDC: "
        f"{metrics.cite(threshold_source(settings, 'rom.mdc_same_rater_extremity_goniometer'))}; "
        f"{metrics.cite(threshold_source(settings, 'rom.mdc_spine_crom_or_between_raters'))}."
    )

# --- Techniques ---------------------------------------------------------------------------
st.subheader("Techniques and immediate relief")
if not any(len(t) for t in visits["techniques"]):
    st.info("No techniques recorded for these visits.", icon=":material/info:")
else:
    st.plotly_chart(charts.technique_grid_chart(visits), config=charts.PLOTLY_CONFIG, key="cp_grid")
    st.caption(
        "Cells are coloured by the visit's immediate relief (pain before − after); grey cells: relief not "
        "recorded. Bars below: relief per visit (red = pain went up). Squares: pressure (1 light … 5 very deep)."
    )
    client_response.render(db, ver, client_id)

trial.render(db, client_id)

client_body_map(db, client_id, visits, queries.client_trigger_points(db, ver, client_id, start, end), settings)

# --- Trigger points -----------------------------------------------------------------------
st.subheader("Trigger points")
points = queries.client_trigger_points(db, ver, client_id, start, end)
if points.empty:
    st.info("No trigger points recorded for this client in these dates.", icon=":material/info:")
else:
    tp = metrics.trigger_point_summary(points)
    left, right = st.columns(2)
    left.plotly_chart(charts.trigger_point_frequency_chart(tp), config=charts.PLOTLY_CONFIG, key="cp_tp_freq")
    right.plotly_chart(charts.tenderness_chart(points), config=charts.PLOTLY_CONFIG, key="cp_tp_tender")
    with st.expander("Referral regions and tenderness per muscle"):
        st.dataframe(
            pd.DataFrame(
                {
                    "Muscle": tp["muscle"].map(charts.pretty),
                    "Side": tp["side"].map(charts.pretty),
                    "Visits found": tp["times_found"],
                    "Refers to": tp["referral_regions"],
                    "First tenderness": tp["first_tenderness"],
                    "Last tenderness": tp["last_tenderness"],
                    "Fully released": tp["released_fully"],
                }
            ),
            hide_index=True,
            key="cp_tp_table",
        )

# --- Questionnaires -----------------------------------------------------------------------
scores = queries.client_outcome_scores(db, ver, client_id, start, end)
if len(scores):
    st.subheader("Questionnaires")
    instruments = [i for i in scores["instrument"].dropna().unique()]
    cols = st.columns(2)
    for i, name in enumerate(instruments):
        part = scores[scores["instrument"] == name]
        q = settings.get("questionnaires", {}).get(name, {})
        mcid = q.get("mcid")
        label = f"Clinically important improvement (MCID {mcid:g})" if mcid else ""
        fig = charts.outcome_chart(
            part,
            instrument=name,
            unit=q.get("score_unit", "score"),
            higher_is_better=q.get("direction") == "higher_is_better",
            mcid=mcid,
            mcid_label=label,
            score_range=tuple(q["range"]) if q.get("range") else None,
        )
        cols[i % 2].plotly_chart(fig, config=charts.PLOTLY_CONFIG, key=f"cp_q_{i}")
    sources = [
        f"{n}: {metrics.cite(threshold_source(settings, f'questionnaires.{n}.mcid'))}."
        for n in instruments
        if settings.get("questionnaires", {}).get(n, {}).get("mcid")
    ]
    unscored = scores[~scores["scorable"].astype(bool)]
    st.caption(
        "Green band: a clinically important improvement on the first score. "
        + " · ".join(sources)
        + (
            f" {len(unscored)} questionnaire(s) could not be scored: "
            + "; ".join(sorted(set(unscored["reason"].astype(str))))
            if len(unscored)
            else ""
        )
    )
    # Verdict per questionnaire since the first one (issue 6: pipelines/clinical/outcomes.py, dashboard/charts/questionnaires.py).
    from dashboard.charts.questionnaires import change_caption, questionnaire_change_chart
    from pipelines.clinical.outcomes import classify_outcomes, outcome_summary

    q_summary = outcome_summary(classify_outcomes(scores, settings), settings)
    if (q_summary["n"] >= 2).any():
        st.plotly_chart(questionnaire_change_chart(q_summary), config=charts.PLOTLY_CONFIG, key="cp_q_change")
        st.caption(change_caption(q_summary, metrics.cite))
    st.page_link(
        "app_pages/log_visit.py",
        label="Enter a questionnaire",
        query_params={"client": client_id, "tab": "questionnaire"},
        icon=":material/checklist:",
    )

# --- Letter to a referring physician --------------------------------------------------------
letter_download(db, client_id, summary["display_name"], settings)
