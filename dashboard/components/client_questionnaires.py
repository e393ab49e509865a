"""Client progress: "Questionnaires", each instrument's scores with its MCID band and the verdict since the
first one (the classification: pipelines/clinical/outcomes.py)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import metrics
from dashboard.charts import progress as charts
from dashboard.charts.questionnaires import change_caption, questionnaire_change_chart
from dashboard.queries import therapist as queries
from pipelines.clinical.outcomes import classify_outcomes, outcome_summary
from pipelines.clinical.settings import threshold_source


def questionnaires_section(db: str, ver: str, client_id: str, start: dt.date, end: dt.date, settings: dict) -> None:
    """Nothing at all when the client has no questionnaire in these dates."""
    scores = queries.client_outcome_scores(db, ver, client_id, start, end)
    if not len(scores):
        return
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
