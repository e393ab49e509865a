"""The dashboard's pure parts: summaries (dashboard.metrics), figures (dashboard.charts.progress), the serve command."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import metrics, server
from dashboard.charts import progress as charts
from pipelines.clinical.settings import default_settings

SETTINGS = default_settings()


def visits_frame(pre, post=None, techniques=None, start=dt.date(2026, 1, 5), every_days=7) -> pd.DataFrame:
    n = len(pre)
    post = post if post is not None else [None] * n
    df = pd.DataFrame(
        {
            "visit_id": [f"V{i + 1}" for i in range(n)],
            "visit_date": pd.to_datetime([start + dt.timedelta(days=every_days * i) for i in range(n)]),
            "visit_number": range(1, n + 1),
            "pain_pre": pd.array(pre, dtype="Float64").astype(float),
            "pain_post": pd.array(post, dtype="Float64").astype(float),
            "techniques": techniques if techniques is not None else [[] for _ in range(n)],
            "pressure": [3.0] * n,
        }
    )
    df["pain_change"] = df["pain_post"] - df["pain_pre"]
    first = df["pain_pre"].dropna()
    df["baseline_pain"] = first.iloc[0] if len(first) else np.nan
    df["baseline_date"] = df.loc[first.index[0], "visit_date"] if len(first) else pd.NaT
    df["technique_set"] = ["+".join(sorted(t)) for t in df["techniques"]]
    return df


# --- metrics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("baseline,level", [(7.0, 4.9), (5.0, 3.0), (10.0, 7.0), (2.0, 0.0), (1.5, None), (None, None)])
def test_important_pain_level_is_two_points_and_thirty_percent_below_baseline(baseline, level):
    got = metrics.important_pain_level(baseline, SETTINGS)
    assert got == (pytest.approx(level) if level is not None else None)


def test_headline_counts_baseline_and_days():
    v = visits_frame([8, 7, 5, 4.5])
    head = metrics.client_headline(v, today=dt.date(2026, 2, 1))
    assert (head.n_visits, head.n_visits_total, head.baseline) == (4, 4, 8.0)
    assert head.baseline_date == dt.date(2026, 1, 5)
    assert head.days_since_last_visit == (dt.date(2026, 2, 1) - dt.date(2026, 1, 26)).days
    one = metrics.client_headline(visits_frame([6]), today=dt.date(2026, 1, 6), n_visits_total=3)
    assert (one.n_visits, one.n_visits_total, one.baseline, one.days_since_last_visit) == (1, 3, 6.0, 1)


def test_theil_sen_trend_recovers_a_straight_line_and_needs_three_visits():
    v = visits_frame([8 - 0.7 * i for i in range(6)])  # −0.7 points per week
    trend = metrics.theil_sen_trend(v)
    assert trend.slope_per_month == pytest.approx(-0.1 * metrics.DAYS_PER_MONTH)
    assert trend.values == pytest.approx([8.0, 4.5])
    assert metrics.theil_sen_trend(visits_frame([8, 6])) is None


def test_wilson_interval_known_value():
    low, high = metrics.wilson_interval(np.array([5]), np.array([10]))
    assert (low[0], high[0]) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))


def test_improvement_by_visit_uses_the_pain_rule_per_visit_number():
    progress = pd.DataFrame(
        {
            "client_id": ["A", "A", "A", "B", "B", "C"],
            "visit_number": [1, 2, 3, 1, 2, 1],
            "baseline_pain": [8.0, 8.0, 8.0, 5.0, 5.0, 4.0],
            "pain_pre": [8.0, 5.0, 6.5, 5.0, 3.0, 4.0],
        }
    )
    out = metrics.improvement_by_visit(progress, SETTINGS, max_visit=4).set_index("visit_number")
    assert out["n_clients"].tolist() == [3, 2, 1, 0]
    assert out["n_improved"].tolist() == [0, 2, 0, 0]  # A: 8→5 (3 pts, 37.5 %); B: 5→3 (2 pts, 40 %)
    assert out.loc[2, "pct_improved"] == 100.0 and np.isnan(out.loc[4, "pct_improved"])


def attention_inputs(rows):
    """(client_summary rows, current_status rows) from (id, name, status, pains before each weekly visit)."""
    from pipelines.clinical.status import current_status, readings_from

    clients, readings, baselines = [], [], []
    for cid, name, status, pains in rows:
        v = visits_frame(pains).assign(client_id=cid)
        clients.append((cid, name, status, len(pains), pains[0]))
        readings.append(readings_from(v))
        baselines.append((cid, pains[0], v["visit_date"].iloc[0]))
    summary = pd.DataFrame(clients, columns=["client_id", "display_name", "status", "n_visits", "baseline_pain"])
    statuses = current_status(
        pd.concat(readings), pd.DataFrame(baselines, columns=["client_id", "baseline", "baseline_date"]), SETTINGS
    )
    return summary, statuses


def test_attention_list_rules():
    clients, statuses = attention_inputs(
        [
            ("W", "Worse early", "active", [4, 6, 6]),  # worse for two readings: any visit count
            ("S", "Stalled", "active", [6, 5, 5, 5]),  # no important change after 4 visits
            ("E", "Early", "active", [6, 5.5, 5]),  # too early to judge
            ("F", "Flare-up", "active", [8, 3, 2, 3, 2, 3, 6]),  # one bad day after sustained improvement
            ("I", "Improved", "active", [8, 5, 4, 4, 3, 4]),  # clinically important improvement
            ("D", "Discharged", "discharged", [6, 7, 8, 9]),  # not an active client
            ("O", "One visit", "active", [6]),
        ]
    )
    out = metrics.attention_list(clients, statuses, SETTINGS)
    assert out["client_id"].tolist() == ["W", "S"]
    assert out["reason"].tolist() == ["worse than at the first visit", "no important improvement after 4+ visits"]
    assert out["pain_now"].tolist() == [6.0, 5.0]

    # A practice large enough to model its expected course: the stalled rule is "behind expected".
    from pipelines.techniques.course import AS_EXPECTED, BEHIND

    standings = pd.Series({"W": AS_EXPECTED, "S": AS_EXPECTED, "E": BEHIND, "I": AS_EXPECTED})
    out = metrics.attention_list(clients, statuses, SETTINGS, standings)
    assert out["client_id"].tolist() == ["W", "E"]
    assert out["reason"].tolist() == ["worse than at the first visit", metrics.BEHIND_REASON]

    custom = default_settings()
    custom["attention"]["no_important_change_after_visits"] = 3
    custom["attention"]["flag_worse_than_baseline"] = False
    assert sorted(metrics.attention_list(clients, statuses, custom)["client_id"]) == ["E", "S", "W"]


def test_cited_sources_are_papers_not_project_notes():
    """What a therapist reads under a threshold names the paper; no setting points into docs/."""

    def sources(node):
        for key, value in node.items():
            if isinstance(value, dict):
                yield from sources(value)
            elif key.endswith("source"):
                yield str(value)

    cited = list(sources(default_settings()))
    assert cited and not [s for s in cited if re.search(r"\.md\b|§", s)]
    assert "Farrar" in metrics.pain_rule_source(SETTINGS)


def test_rom_series_flags_changes_within_measurement_error():
    rom = pd.DataFrame(
        {
            "visit_id": ["V1", "V2"],
            "visit_date": pd.to_datetime(["2026-01-05", "2026-01-12"]),
            "visit_number": [1, 2],
            "joint": ["cervical", "cervical"],
            "movement": ["rotation", "rotation"],
            "side": ["left", "left"],
            "degrees_pre": [45.0, 48.0],
            "degrees_post": [52.0, 60.0],
            "degrees_change": [7.0, 12.0],
            "instrument": ["crom", "crom"],
            "measured_by": ["Sam", "Sam"],
        }
    )
    (s,) = metrics.rom_series(rom, SETTINGS)
    assert (s.mdc, s.normal, s.title) == (10.0, 60.0, "Cervical rotation (left)")
    assert s.readings["is_real"].tolist() == [False, True]


# --- charts ----------------------------------------------------------------------------------


def test_charts_module_does_not_import_streamlit():
    """Client reports reuse the figures outside Streamlit."""
    code = "import sys, dashboard.charts.progress, dashboard.metrics; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_pain_chart_band_traces_and_units():
    v = visits_frame([7, 6, 4.5], [5, None, 3])
    reports = pd.DataFrame(
        {"reported_at": pd.to_datetime(["2026-01-08 19:00"]), "pain": [5.0], "days_since_last_visit": [3]}
    )
    trend = metrics.theil_sen_trend(v)
    fig = charts.pain_chart(v, reports, baseline=7.0, important_level=4.9, band_label="band", trend=trend)
    names = [t.name for t in fig.data]
    assert {"Pain before the visit", "Pain after the visit", "Self-report between visits", "band"} <= set(names)
    after = next(t for t in fig.data if t.name == "Pain after the visit")
    assert list(after.y) == [5.0, 3.0]
    (rect,) = [s for s in fig.layout.shapes if s.type == "rect"]
    assert (rect.y0, rect.y1) == (0, 4.9)
    assert fig.layout.yaxis.title.text == charts.PAIN_AXIS
    assert fig.layout.xaxis.type == "date"


def test_single_visit_charts_keep_a_readable_date_axis():
    fig = charts.pain_chart(visits_frame([6]), None, baseline=6.0)
    lo, hi = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert hi - lo >= pd.Timedelta(days=14)


def test_rom_chart_draws_the_norm_and_hollow_markers_for_noise():
    (s,) = metrics.rom_series(
        pd.DataFrame(
            {
                "visit_id": ["V1", "V2"],
                "visit_date": pd.to_datetime(["2026-01-05", "2026-01-12"]),
                "visit_number": [1, 2],
                "joint": ["knee"] * 2,
                "movement": ["flexion"] * 2,
                "side": ["right"] * 2,
                "degrees_pre": [110.0, 112.0],
                "degrees_post": [113.0, 120.0],
                "degrees_change": [3.0, 8.0],
                "instrument": ["goniometer"] * 2,
                "measured_by": ["Sam"] * 2,
            }
        ),
        SETTINGS,
    )
    fig = charts.rom_chart(s.readings, title=s.title, normal=s.normal, normal_label="normal 130°", mdc=s.mdc)
    hollow = next(t for t in fig.data if t.name == "After (within measurement error)")
    real = next(t for t in fig.data if t.name == "After (real change)")
    assert (list(hollow.y), list(real.y)) == ([113.0], [120.0])
    assert hollow.marker.symbol == "circle-open"
    assert [sh.y0 for sh in fig.layout.shapes if sh.type == "line"] == [130.0]
    assert fig.layout.yaxis.title.text == "Degrees"


def test_relief_histogram_counts_every_visit_once():
    relief = pd.DataFrame({"pain_change": [-2.0, -2.0, -1.5, 0.0, 1.0, np.nan]})
    fig = charts.relief_histogram(relief)
    assert sum(sum(t.y) for t in fig.data) == 5
    assert {t.name for t in fig.data} == {"Less pain after", "No change", "More pain after"}


def test_palette_is_okabe_ito_and_config_has_no_cloud_button():
    assert set(charts.COLORS.values()) - {charts.GREY, charts.LIGHT_GREY} <= set(charts.OKABE_ITO.values())
    assert charts.PLOTLY_CONFIG["showSendToCloud"] is False and charts.PLOTLY_CONFIG["displaylogo"] is False


# --- serve and demo --------------------------------------------------------------------------


def test_serve_command_keeps_everything_local_and_quiet():
    cmd = server.build_command(port=8765)
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("web.py")
    assert flags == {
        **flags,
        "--server.headless": "true",
        "--browser.gatherUsageStats": "false",
        "--client.showErrorDetails": "none",
        "--client.toolbarMode": "viewer",
        "--client.disableDataExport": "true",
        "--server.address": "127.0.0.1",
        "--server.port": "8765",
        "--server.fileWatcherType": "none",
        "--global.developmentMode": "false",
    }
    env = server.server_env("rel/x.duckdb", base={})
    assert env == {"KNOTWORK_DB": str(Path("rel/x.duckdb").resolve())}


def test_demo_generates_a_sample_when_none_is_shipped_and_rebuilds_only_when_stale(tmp_path, monkeypatch):
    monkeypatch.setattr(server, "packaged_sample_dir", lambda: tmp_path / "not-shipped")
    data_dir = tmp_path / "data"
    db = server.ensure_demo_db(data_dir, log=lambda m: None)
    assert db == data_dir / "demo.duckdb" and (data_dir / "sample" / "visits.csv").exists()
    built = db.stat().st_mtime_ns
    assert server.ensure_demo_db(data_dir, log=lambda m: None).stat().st_mtime_ns == built
    earlier = built / 1e9 - 3600  # the sample files changed after the demo was built
    os.utime(db, (earlier, earlier))
    assert server.demo_is_stale(db, [data_dir / "sample" / "visits.csv"])
    server.ensure_demo_db(data_dir, log=lambda m: None)
    assert not server.demo_is_stale(db, [data_dir / "sample" / "visits.csv"])
