"""'Reliable and important' when both hold: questionnaires (MCID and MDC) and pain (the practice rule
and a Jacobson & Truax reliable change), in the words the app shows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import metrics
from dashboard.charts.questionnaires import change_caption, questionnaire_change_chart
from pipelines.clinical import outcomes as oc
from pipelines.clinical.settings import default_settings
from pipelines.ingest.importer import ingest_files
from tests.conftest import ROOT, write_csv


@pytest.mark.parametrize(
    "category, beyond, words",
    [
        ("improved", True, "reliable and important improvement"),
        ("recovered", True, "reliable and important improvement"),
        ("improved", False, "important improvement, but within measurement error"),
        ("unchanged", True, "reliable change, smaller than an important one"),
        ("unchanged", False, "no important change"),
        ("deteriorated", True, "reliable and important worsening"),
        ("deteriorated", False, "important worsening, but within measurement error"),
        ("improved", None, "important improvement"),  # no MDC in the settings: importance only
        (None, None, None),
    ],
)
def test_verdict_says_which_of_important_and_reliable_hold(category, beyond, words):
    assert oc.verdict(category, beyond) == words


def _ndi(scores: list[float]) -> pd.DataFrame:
    days = [dt.date(2026, 1, 5) + dt.timedelta(days=14 * i) for i in range(len(scores))]
    return pd.DataFrame({"client_id": "C1", "taken_on": days, "instrument": "NDI", "score": scores, "scorable": True})


def test_questionnaire_summary_chart_and_caption_say_reliable_and_important():
    summary = oc.outcome_summary(oc.classify_outcomes(_ndi([40.0, 30.0, 16.0])), None)
    row = summary.iloc[0]
    assert (row["category"], row["beyond_mdc"], row["verdict"]) == ("improved", True, oc.RELIABLE_IMPORTANT_IMPROVEMENT)
    caption = change_caption(summary, metrics.cite)
    assert "40.0 → 16.0 (−24.0): reliable and important improvement" in caption
    assert "reliable = at least the MDC" in caption
    fig = questionnaire_change_chart(summary)
    assert "Reliable and important improvement" in fig.data[0].customdata[0][5]  # the hover text


def test_an_important_change_inside_the_measurement_error_says_so():
    settings = default_settings()
    settings["questionnaires"]["NDI"]["mcid"] = 6.0  # a practice's smaller MCID, below the MDC of 10
    summary = oc.outcome_summary(oc.classify_outcomes(_ndi([40.0, 32.0]), settings), settings)
    assert summary.iloc[0]["verdict"] == oc.IMPORTANT_NOT_RELIABLE
    assert "important improvement, but within measurement error" in change_caption(summary, metrics.cite)
    summary = oc.outcome_summary(oc.classify_outcomes(_ndi([40.0, 28.0])), None)  # 12 %-points: > MDC, < MCID
    assert summary.iloc[0]["verdict"] == oc.RELIABLE_SMALL


@pytest.mark.parametrize(
    "pains, headline",
    [
        # median of the last three 4: 2 points and 33 % down = important in size, but a reliable change
        # with three readings needs 1.96 x 1.02 x sqrt(1 + 0.4487) = 2.4 points
        ([6, 5, 4, 4, 4], "Some improvement: clinically important in size, not yet reliable"),
        ([8, 6, 4, 3, 3], "Reliable and clinically important improvement"),
    ],
)
def test_the_client_page_says_reliable_and_important_only_when_both_hold(tmp_path, monkeypatch, pains, headline):
    db = tmp_path / "k.duckdb"
    today = dt.date.today()
    clients = write_csv(tmp_path, "clients.csv", "client_id,display_name,complaint_region\nC1,Ann Example,neck\n")
    rows = ["visit_id,client_id,visit_date,pain_pre,pain_post,techniques"]
    for i, pain in enumerate(pains):
        rows.append(f"V{i},C1,{(today - dt.timedelta(days=7 * (len(pains) - i))).isoformat()},{pain},{pain},swedish")
    visits = write_csv(tmp_path, "visits.csv", "\n".join(rows) + "\n")
    assert all(r.error is None for r in ingest_files([clients, visits], db=db))
    monkeypatch.setenv("KNOTWORK_DB", str(db))
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=90)
    at.query_params["client"] = "C1"
    at.run()
    assert not at.exception, at.exception
    shown = "\n".join(el.value for kind in ("success", "info", "warning") for el in at.get(kind))
    assert f"**{headline}**" in shown
    st.cache_data.clear()
