"""The body map: pure chart checks, and Client progress through the app's entry point, its markers
and shaded regions compared with the client's rows read here, independently, with SQL."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.body_frames import where_words
from dashboard.charts.body import body_chart, unplaced_terms
from pipelines.clinical.settings import load_settings, settings_path_for
from pipelines.ingest.anatomy import BODY_WIDTH, load_anatomy
from pipelines.ingest.importer import ingest_files
from tests.conftest import write_csv

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
CLIENT_PAGE = "app_pages/client_progress.py"

pytestmark = pytest.mark.usefixtures("clean_streamlit_caches")


def sql(db: Path, query: str, params: list | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, params or []).df()
    finally:
        con.close()


def traces(fig, kind: str) -> list[dict]:
    data = fig["data"] if isinstance(fig, dict) else [t.to_plotly_json() for t in fig.data]
    return [t for t in data if (t.get("meta") or {}).get("kind") == kind]


def markers(fig) -> set[tuple[str, str, str]]:
    """(muscle, side, visit date) of every trigger point marker."""
    return {tuple(c) for t in traces(fig, "trigger_points") for c in t["customdata"]}


def shaded(fig) -> dict[str, float | None]:
    return {t["meta"]["region"]: t["meta"]["pain"] for t in traces(fig, "pain_region")}


# --- the chart alone -----------------------------------------------------------------------------

POINTS = pd.DataFrame(
    {
        "muscle": ["upper_trapezius", "gluteus_medius", "rotatores"],
        "side": ["right", "none", "left"],
        "tenderness": [7.0, None, 2.0],
        "released": ["no", "yes", None],
        "visit_date": pd.Timestamp("2026-03-14"),
        "referral_region": ["temple", None, "thoracic zone"],
    }
)
REGIONS = pd.DataFrame({"region": ["neck", "temple", "my sore spot"], "pain": [6.0, None, 3.0]})


def test_chart_marks_each_point_on_its_side_and_lists_what_it_cannot_place():
    fig = body_chart(REGIONS, POINTS)
    assert markers(fig) == {("upper_trapezius", "right", "14 Mar 2026"), ("gluteus_medius", "none", "14 Mar 2026")}
    back = [t for t in traces(fig, "trigger_points") if t["xaxis"] == "x2"][0]
    xs = dict(zip([tuple(c[:2]) for c in back["customdata"]], back["x"]))
    assert xs[("upper_trapezius", "right")] > BODY_WIDTH / 2  # from behind, the client's right is on the right
    assert sum(c[0] == "gluteus_medius" for c in back["customdata"]) == 2  # both sides: side not one of them
    assert shaded(fig) == {"neck": 6.0, "temple": None}
    assert [t["meta"]["region"] for t in traces(fig, "referral")] == ["temple"]
    assert unplaced_terms(REGIONS, POINTS) == ["my sore spot", "rotatores", "thoracic zone"]
    hover = [h for t in traces(fig, "trigger_points") for h in t["hovertext"]]
    assert (
        "<b>Upper trapezius</b> (right)<br>Tenderness 7/10 · not released<br>Visit 14 Mar 2026"
        "<br>Usually refers to: Neck, Temple, Jaw, Back of the head"
    ) in hover
    assert any(
        h.startswith("<b>Gluteus medius</b> (both sides / midline)<br>Tenderness not recorded · released")
        for h in hover
    )


def test_a_placed_practice_term_is_drawn_where_the_therapist_put_it():
    places = {"rotatores": "multifidus", "my sore spot": "low_back"}
    fig = body_chart(REGIONS, POINTS, places=places)
    assert ("rotatores", "left", "14 Mar 2026") in markers(fig)
    assert "my sore spot" in shaded(fig)
    assert unplaced_terms(REGIONS, POINTS, places) == ["thoracic zone"]


def test_plain_words_for_the_client():
    visits = pd.DataFrame(
        {
            "visit_id": ["a", "b", "c"],
            "visit_date": pd.to_datetime(["2026-01-05", "2026-01-19", "2026-02-02"]),
            "pain_region": ["temple", None, "neck"],
            "pain_pre": [7.0, 5.0, 3.0],
        }
    )
    points = pd.DataFrame(
        {"visit_id": ["a", "a"], "muscle": ["upper_trapezius", "suboccipitals"], "side": ["right", "left"]}
    )
    assert where_words(visits, points) == [
        "At the start (5 Jan 2026): it hurt in the temple (7 out of 10); 2 tight spots (trigger points) in the "
        "suboccipitals, upper trapezius.",
        "Now (2 Feb 2026): it hurts in the neck (3 out of 10).",
    ]
    assert where_words(visits.assign(pain_region=None), points.iloc[0:0]) == []


# --- Client progress through the entry point -----------------------------------------------------


def run_client(db: Path, client: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("KNOTWORK_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page(CLIENT_PAGE)
    at.query_params["client"] = client
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def body_figures(at: AppTest) -> dict[str, dict]:
    out = {}
    for el in at.get("plotly_chart"):
        fig = json.loads(el.proto.spec)
        title = (fig["layout"].get("title") or {}).get("text", "")
        if title.startswith(("First visit", "Latest visit", "Visit ·")):
            out[title.split(" · ")[0]] = fig
    return out


VISIT_POINTS_SQL = """
select t.muscle, t.side, strftime(v.visit_date, '%d %b %Y') as visit
from core.trigger_points t join core.visits v using (visit_id)
where v.visit_id = ?
"""


@pytest.fixture(scope="module")
def mapped_client(sample_db) -> tuple[str, list[str]]:
    """The sample client with the most visits that have both a pain region and trigger points."""
    rows = sql(
        sample_db,
        """
        select v.client_id, v.visit_id, v.visit_date
        from core.visits v
        where v.pain_region is not null and exists (select 1 from core.trigger_points t where t.visit_id = v.visit_id)
        order by v.client_id, v.visit_date, v.visit_id
    """,
    )
    client = rows.groupby("client_id").size().sort_values(ascending=False).index[0]
    return client, rows.loc[rows["client_id"] == client, "visit_id"].tolist()


def expected(db: Path, visit_id: str) -> tuple[set, dict]:
    points = sql(db, VISIT_POINTS_SQL, [visit_id])
    visit = sql(db, "select pain_region, pain_pre from core.visits where visit_id = ?", [visit_id]).iloc[0]
    regions = (
        {visit.pain_region: (None if pd.isna(visit.pain_pre) else float(visit.pain_pre))} if visit.pain_region else {}
    )
    return set(points.itertuples(index=False, name=None)), regions


def test_client_progress_body_map_shows_the_clients_trigger_points_and_regions(sample_db, mapped_client, monkeypatch):
    client, visit_ids = mapped_client
    at = run_client(sample_db, client, monkeypatch)
    figs = body_figures(at)
    assert set(figs) == {"First visit", "Latest visit"}
    mapped = sql(
        sample_db,
        """
        select visit_id from core.visits v where client_id = ?
          and (pain_region is not null or exists (select 1 from core.trigger_points t where t.visit_id = v.visit_id))
        order by visit_date, visit_id
    """,
        [client],
    )["visit_id"].tolist()
    for label, vid in (("First visit", mapped[0]), ("Latest visit", mapped[-1])):
        want_points, want_regions = expected(sample_db, vid)
        assert markers(figs[label]) == want_points, label
        assert shaded(figs[label]) == want_regions, label
    # The slider moves the right-hand map to another visit.
    middle = visit_ids[len(visit_ids) // 2]
    at.select_slider(key=f"bm_visit_{client}").set_value(middle).run()
    figs = body_figures(at)
    want_points, want_regions = expected(sample_db, middle)
    right = figs["Latest visit" if middle == mapped[-1] else "Visit"]
    assert markers(right) == want_points and want_points
    assert shaded(right) == want_regions
    # The head view zooms in on the same data.
    at.segmented_control(key="bm_zoom").set_value("head").run()
    head = body_figures(at)["First visit"]
    assert head["layout"]["xaxis"]["range"][1] - head["layout"]["xaxis"]["range"][0] < BODY_WIDTH / 2


@pytest.fixture
def small_practice(tmp_path) -> Path:
    db = tmp_path / "p.duckdb"
    files = [
        write_csv(tmp_path, "clients.csv", "client_id,display_name\nC1,Ana Alves\nC2,Ben Brook\n"),
        write_csv(
            tmp_path,
            "visits.csv",
            "visit_id,client_id,visit_date,pain_pre,pain_region\n"
            "V1,C1,2026-01-05,7,temple\nV2,C1,2026-01-19,4,back of the knee pit\n"
            "V3,C2,2026-01-06,5,\n",
        ),
        write_csv(
            tmp_path,
            "trigger_points.csv",
            "visit_id,muscle,side,tenderness,released\nV1,upper trap,right,8,no\nV2,rotatores,left,5,partial\n",
        ),
    ]
    reports = ingest_files(files, db=db)
    assert all(r.error is None and r.rejected == 0 for r in reports), [(r.error, r.rejected) for r in reports]
    return db


def test_unknown_terms_are_listed_and_placed_once(small_practice, monkeypatch):
    at = run_client(small_practice, "C1", monkeypatch)
    warning = "\n".join(w.value for w in at.warning)
    assert "Not placed on the body: Back of the knee pit, Rotatores." in warning
    latest = body_figures(at)["Latest visit"]
    assert markers(latest) == set() and shaded(latest) == {}
    at.selectbox(key="bm_place_C1_term").set_value("rotatores").run()
    at.selectbox(key="bm_place_C1_target").set_value("multifidus").run()
    at.button(key="bm_place_C1_save").click().run()
    assert not at.exception
    assert load_settings(settings_path_for(small_practice))["body_map"]["places"] == {"rotatores": "multifidus"}
    assert "Not placed on the body: Back of the knee pit." in "\n".join(w.value for w in at.warning)
    assert markers(body_figures(at)["Latest visit"]) == {("rotatores", "left", "19 Jan 2026")}
    first = body_figures(at)["First visit"]
    assert markers(first) == {("upper_trapezius", "right", "05 Jan 2026")} and shaded(first) == {"temple": 7.0}


def test_a_client_with_nothing_to_draw_gets_a_sentence(small_practice, monkeypatch):
    at = run_client(small_practice, "C2", monkeypatch)
    assert body_figures(at) == {}
    assert any("nothing to draw on the body" in i.value for i in at.info)


# --- the client's own view and report ------------------------------------------------------------


def test_client_view_and_report_show_where_it_hurt_at_the_start_and_now(sample_db_copy, mapped_client, monkeypatch):
    from dashboard.reports import build_report_html
    from pipelines.sharing.links import create_link
    from tests.sharing_helpers import app_test, new_plot_calls, page_strings, plotly_specs

    db = sample_db_copy
    client, _ = mapped_client
    mapped = sql(
        db,
        """
        select visit_id from core.visits v where client_id = ?
          and (pain_region is not null or exists (select 1 from core.trigger_points t where t.visit_id = v.visit_id))
        order by visit_date, visit_id
    """,
        [client],
    )["visit_id"].tolist()
    start, now = expected(db, mapped[0]), expected(db, mapped[-1])

    def body_maps(figs: list[dict]) -> list[dict]:
        return [f for f in figs if traces(f, "pain_region") or traces(f, "trigger_points")]

    report = build_report_html(db, client)
    assert "<h2>Where it hurts</h2>" in report and "<li>At the start (" in report and "<li>Now (" in report
    maps = body_maps([{"data": data, "layout": layout} for data, layout, _ in new_plot_calls(report)])
    assert [f["layout"]["title"]["text"].split(" ·")[0] for f in maps] == ["At the start", "Now"]
    for fig, (want_points, want_regions) in zip(maps, (start, now)):
        assert markers(fig) == want_points and shaded(fig) == want_regions

    # The client's own view, opened through their private link: the same two maps, the same words.
    at = app_test(db, monkeypatch, token=create_link(client, db=db).token)
    assert not at.exception
    text = "\n".join(page_strings(at))
    assert "Where it hurts" in text and "At the start (" in text
    maps = body_maps(plotly_specs(at))
    assert len(maps) == 2
    for fig, (want_points, want_regions) in zip(maps, (start, now)):
        assert markers(fig) == want_points and shaded(fig) == want_regions


def test_practice_overview_body_map_counts_clients_per_region_and_trigger_point(sample_db, monkeypatch):
    monkeypatch.setenv("KNOTWORK_DB", str(sample_db))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("app_pages/practice_overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    figs = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    fig = [f for f in figs if traces(f, "practice_trigger_points")][0]
    drawn = {tuple(c) for t in traces(fig, "practice_trigger_points") for c in t["customdata"]}
    want = sql(
        sample_db,
        """select t.muscle, t.side, count(distinct v.client_id) as n from core.trigger_points t
                             join core.visits v using (visit_id) group by all""",
    )
    assert drawn == {(m, s, int(n)) for m, s, n in want.itertuples(index=False)}
    regions = sql(sample_db, "select distinct pain_region from core.visits where pain_region is not null")
    assert set(shaded(fig)) == set(regions["pain_region"])
    assert any("Found most:" in c.value for c in at.caption)


def test_log_a_visit_body_shows_the_visit_being_edited(sample_db_copy, mapped_client, monkeypatch):
    client, visit_ids = mapped_client
    db = sample_db_copy
    vid = sql(
        db,
        "select visit_id from core.visits where visit_id in (select unnest(?)) order by visit_date desc limit 1",
        [visit_ids],
    ).iloc[0, 0]
    monkeypatch.setenv("KNOTWORK_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("app_pages/log_visit.py")
    at.query_params["client"] = client
    at.run()
    at.selectbox(key="lv_edit_pick").set_value(vid).run()
    assert not at.exception, [e.value for e in at.exception]
    picker = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    picker = [f for f in picker if traces(f, "pick")]
    assert len(picker) == 1
    want_points, want_regions = expected(db, vid)
    assert markers(picker[0]) == want_points
    assert set(shaded(picker[0])) == set(want_regions)
    picks = {tuple(c) for t in traces(picker[0], "pick") for c in t["customdata"]}
    assert ("muscle", "upper_trapezius", "right") in picks and ("region", "temple", "none") in picks
    assert not at.warning or all("Session State" not in w.value for w in at.warning)
