"""Expected course (pipelines/techniques/course.py): calibrated on held-out clients, drawn on the
pain chart, and "ahead of / as / behind expected"."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.ingest.importer import ingest_files
from pipelines.sample.practice import generate
from pipelines.techniques import course
from tests import test_dashboard_apptest as dash


@pytest.fixture(scope="module")
def practice_300(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("course")
    generate(folder / "csv", n_clients=300, seed=11)
    db = folder / "p300.duckdb"
    reports = ingest_files([folder / "csv" / "clients.csv", folder / "csv" / "visits.csv"], db=db)
    assert all(r.error is None for r in reports)
    return str(db)


def test_band_covers_about_80_percent_of_held_out_clients_readings(practice_300, sample_db):
    big = course.calibration(course.load_visits(practice_300), seed=0)
    small = course.calibration(course.load_visits(sample_db), seed=0)
    print(
        f"\n80 % band, cross-validated by client: {big['coverage']:.1%} of {big['n_readings']} later readings "
        f"({big['n_clients']} clients); sample practice {small['coverage']:.1%} of {small['n_readings']}"
    )
    assert 0.76 <= big["coverage"] <= 0.84
    assert 0.70 <= small["coverage"] <= 0.88


def _visits(rows):
    return pd.DataFrame(
        rows,
        columns=[
            "client_id",
            "visit_date",
            "visit_number",
            "pain_pre",
            "baseline",
            "baseline_visit",
            "complaint_region",
            "age_band",
        ],
    )


def test_too_small_a_practice_gets_no_model():
    rows = [
        (
            f"C{c}",
            pd.Timestamp("2026-01-01") + pd.Timedelta(days=7 * v),
            float(v),
            6.0 - 0.2 * v,
            6.0,
            1.0,
            "neck",
            "30-44",
        )
        for c in range(course.MIN_CLIENTS - 1)
        for v in range(1, 6)
    ]
    assert course.fit(_visits(rows)) is None


def test_ahead_as_and_behind_expected():
    rows = []
    for c in range(40):
        for v in range(1, 9):
            rows.append(
                (
                    f"C{c}",
                    pd.Timestamp("2026-01-01") + pd.Timedelta(days=7 * v),
                    float(v),
                    6.0 - 0.3 * (v - 1) + (0.5 if (c + v) % 2 else -0.5),
                    6.0,
                    1.0,
                    "neck",
                    "30-44",
                )
            )
    visits = _visits(rows)
    model = course.fit(visits)
    band = course.expected(model, 6.0, "neck", "30-44", [7])
    assert band["low"].iloc[0] < band["expected"].iloc[0] < band["high"].iloc[0]
    assert band["expected"].iloc[0] == pytest.approx(6.0 - 0.3 * 7, abs=0.4)
    for last_pain, where in ((0.5, course.AHEAD), (6.0 - 0.3 * 7, course.AS_EXPECTED), (8.0, course.BEHIND)):
        me = _visits(
            [
                ("ME", pd.Timestamp("2026-01-01"), 1.0, 6.0, 6.0, 1.0, "neck", "30-44"),
                ("ME", pd.Timestamp("2026-02-01"), 8.0, last_pain, 6.0, 1.0, "neck", "30-44"),
            ]
        )
        assert course.standing(course.client_course(model, me, "ME")) == where
    assert course.standing(course.client_course(model, me.iloc[:1], "ME")) is None


@pytest.mark.usefixtures("clean_streamlit_caches")
def test_band_is_drawn_on_the_client_pain_chart(sample_db, monkeypatch):
    monkeypatch.setenv("KNOTWORK_DB", str(sample_db))
    visits = course.load_visits(sample_db)
    expected = course.client_course(course.fit(visits), visits, "C0012")
    at = AppTest.from_file(dash.APP, default_timeout=dash.TIMEOUT)
    at.query_params["client"] = "C0012"
    at.run()
    assert not at.exception
    fig = dash.figure(at, "Pain before and after each visit")
    band = dash.trace(fig, "Expected for clients like this (80 % band)")
    assert dash.decode(band["y"]) == pytest.approx(expected["low"].to_numpy())
    mid = dash.trace(fig, "Expected pain before the visit")
    assert dash.decode(mid["y"]) == pytest.approx(expected["expected"].to_numpy())
    words = {course.AHEAD: "ahead of expected", course.AS_EXPECTED: "as expected", course.BEHIND: "behind expected"}
    assert f"**{words[course.standing(expected)]}**" in dash.texts(at.markdown)


def test_every_clients_standing_at_once_matches_one_at_a_time(sample_db):
    visits = course.load_visits(sample_db)
    model = course.fit(visits)
    every = course.latest_standings(model, visits)
    assert len(every) > 30 and set(every) <= {course.AHEAD, course.AS_EXPECTED, course.BEHIND}
    for client_id in every.index[:12]:
        assert every[client_id] == course.standing(course.client_course(model, visits, client_id))
