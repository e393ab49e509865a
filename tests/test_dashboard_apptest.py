"""The therapist dashboard, driven through its entry point with Streamlit's AppTest.

Every page is reached the way a user reaches it (``dashboard/streamlit_app.py`` +
``switch_page``), and the charts are checked for what they *contain*: the figure JSON is
decoded and compared with ground truth computed here, independently, from ``core`` tables.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.charts import progress as charts
from pipelines.ingest.vocab import ROM_NORMS
from pipelines.techniques import client_response as cr
from pipelines.techniques.suggest import suggest
from tests.conftest import write_csv

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
CLIENT_PAGE = "app_pages/client_progress.py"
PRACTICE_PAGE = "app_pages/practice_overview.py"
TIMEOUT = 30


pytestmark = pytest.mark.usefixtures("clean_streamlit_caches")


@pytest.fixture
def use_db(monkeypatch):
    def use(path: Path) -> Path:
        monkeypatch.setenv("KNOTWORK_DB", str(path))
        return path

    return use


@pytest.fixture
def sample(use_db, sample_db) -> Path:
    return use_db(sample_db)


def sql(db: Path, query: str, params: list | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, params or []).df()
    finally:
        con.close()


def run_app(client: str | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if client is not None:
        at.query_params["client"] = client
    at.run()
    if page is not None:
        at.switch_page(page)
        if client is not None:
            at.query_params["client"] = client
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- reading Plotly figures out of AppTest ---------------------------------------------------


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def title(fig: dict) -> str:
    t = fig["layout"].get("title", {})
    return t.get("text", "") if isinstance(t, dict) else str(t)


def figure(at: AppTest, starts_with: str) -> dict:
    found = [f for f in figures(at) if title(f).startswith(starts_with)]
    assert len(found) == 1, [title(f) for f in figures(at)]
    return found[0]


def decode(values) -> np.ndarray:
    """Plotly 7 sends numeric arrays as base64 typed arrays: {'dtype': 'f8', 'bdata': '...'}."""
    if isinstance(values, dict) and "bdata" in values:
        arr = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return arr.reshape(values["shape"]) if "shape" in values and isinstance(values["shape"], list) else arr
    return np.asarray(values)


def trace(fig: dict, name: str) -> dict:
    found = [t for t in fig["data"] if t.get("name") == name]
    assert len(found) == 1, [t.get("name") for t in fig["data"]]
    return found[0]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one dataframe on the page that has ``column`` (AppTest does not expose display keys)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


# --- client progress -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_client(sample_db) -> str:
    """The sample client with the most visits (ties by id): some lack pain after the visit."""
    return sql(
        sample_db,
        """
        SELECT client_id FROM core.visits GROUP BY client_id ORDER BY count(*) DESC, client_id LIMIT 1
    """,
    ).iloc[0, 0]


def test_client_page_starts_with_a_searchable_picker(sample):
    """It lists every client as "Name (ID)" and offers recently seen clients as links."""
    at = run_app()
    picker = at.selectbox(key="cp_client")
    clients = sql(sample, "SELECT client_id, display_name FROM core.clients")
    assert picker.value is None
    assert sorted(picker.options) == sorted(f"{n} ({c})" for c, n in zip(clients.client_id, clients.display_name))
    assert len(at.get("plotly_chart")) == 0
    links = at.page_link
    assert 1 <= len(links) <= 8
    ids = set(clients.client_id)
    assert all(link.proto.query_string.removeprefix("client=") in ids for link in links)


def test_large_practice_picker_searches_first(sample, busy_client, monkeypatch):
    """Beyond PICKER_FULL_LIST_MAX clients (a network has 100,000) the picker lists only the clients
    matching what was typed, the chosen client stays chosen while searching again, and a ?client=
    link still opens its client."""
    from dashboard import metrics

    monkeypatch.setattr(metrics, "PICKER_FULL_LIST_MAX", 5)
    monkeypatch.setattr(metrics, "PICKER_MATCHES_SHOWN", 3)
    names = sql(sample, "SELECT client_id, display_name FROM core.clients")
    at = run_app()
    assert at.selectbox(key="cp_client").options == []  # nothing sent until something is typed
    name = names.set_index("client_id").display_name[busy_client]
    at.text_input(key="cp_find").input(name).run()
    expected = names[
        names.display_name.str.contains(name, case=False, regex=False)
        | names.client_id.str.contains(name, case=False, regex=False)
    ]
    assert (
        at.selectbox(key="cp_client").options
        == [f"{n} ({c})" for c, n in zip(expected.client_id, expected.display_name)][:3]
    )
    at.selectbox(key="cp_client").select(busy_client).run()
    assert not at.exception
    assert at.query_params["client"] == [busy_client] or at.query_params["client"] == busy_client
    assert len(at.get("plotly_chart")) > 0
    at.text_input(key="cp_find").input("C0").run()  # many matches: capped, and the chosen client kept
    picker = at.selectbox(key="cp_client")
    assert picker.value == busy_client and 3 <= len(picker.options) <= 1 + 3
    assert any("clients match" in c.value for c in at.caption)
    linked = run_app(client=busy_client, page=CLIENT_PAGE)
    assert linked.selectbox(key="cp_client").value == busy_client


def test_pain_chart_holds_exactly_the_clients_visits(sample, busy_client):
    """Picking a client draws their visits, and only theirs: dates and pain before/after from core.visits."""
    at = run_app()
    at.selectbox(key="cp_client").select(busy_client).run()
    assert not at.exception
    assert at.query_params["client"] in (busy_client, [busy_client])

    fig = figure(at, "Pain before and after each visit")
    truth = sql(
        sample,
        "SELECT visit_id, visit_date, pain_pre, pain_post FROM core.visits WHERE client_id = ? "
        "ORDER BY visit_date, visit_id",
        [busy_client],
    )
    pre = truth[truth.pain_pre.notna()]
    before = trace(fig, "Pain before the visit")
    assert list(before["x"]) == [d.date().isoformat() for d in pre.visit_date]
    np.testing.assert_allclose(decode(before["y"]), pre.pain_pre.to_numpy(dtype=float))
    assert [row[0] for row in before["customdata"]] == list(pre.visit_id)

    post = truth[truth.pain_post.notna()]
    assert len(post) < len(truth), "the chosen client should have a visit without pain after"
    after = trace(fig, "Pain after the visit")
    assert list(after["x"]) == [d.date().isoformat() for d in post.visit_date]
    np.testing.assert_allclose(decode(after["y"]), post.pain_post.to_numpy(dtype=float))

    reports = sql(sample, "SELECT pain FROM core.self_reports WHERE client_id = ? ORDER BY reported_at", [busy_client])
    np.testing.assert_allclose(
        decode(trace(fig, "Self-report between visits")["y"]), reports.pain.to_numpy(dtype=float)
    )
    assert any(t["name"].startswith("Trend (Theil–Sen)") for t in fig["data"])
    assert fig["layout"]["yaxis"]["title"]["text"] == "Pain (0–10 NPRS)"


def test_headline_and_band_follow_the_pain_rule(sample, busy_client):
    """Visits, first visit → now (median of the last 3 readings after the first visit's day, visits and
    check-ins) and the band edge (2 points and 30 % below baseline) match core tables."""
    at = run_app(client=busy_client)
    truth = sql(
        sample,
        "SELECT visit_date, pain_pre FROM core.visits WHERE client_id = ? ORDER BY visit_date, visit_id",
        [busy_client],
    )
    with_pain = truth.dropna(subset=["pain_pre"])
    baseline, first_day = with_pain.pain_pre.iloc[0], with_pain.visit_date.iloc[0]
    readings = sql(
        sample,
        """
        SELECT "at", pain FROM (SELECT CAST(visit_date AS TIMESTAMP) AS "at", pain_pre AS pain, 'visit' AS source
                              FROM core.visits WHERE client_id = ? AND pain_pre IS NOT NULL
                              UNION ALL SELECT reported_at, pain, 'check-in' FROM core.self_reports WHERE client_id = ?)
        WHERE CAST("at" AS DATE) > ? ORDER BY "at", source""",
        [busy_client, busy_client, first_day],
    )
    level = float(np.median(readings.pain.to_numpy()[-3:]))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Visits"] == str(len(truth))
    assert metrics["Pain: first visit → now"] == f"{baseline:g} → {level:g}"
    fig = figure(at, "Pain before and after each visit")
    band = [s for s in fig["layout"]["shapes"] if s.get("type") == "rect"]
    assert len(band) == 1
    assert band[0]["y1"] == pytest.approx(baseline - max(2.0, 0.3 * baseline))
    drop = baseline - level
    improved = drop >= 2 and drop / baseline >= 0.3 and drop >= 1.96 * 1.02 * np.sqrt(1 + 0.4487)
    if improved:
        assert "Reliable and clinically important improvement" in texts(at.success)
    else:
        assert not at.success


def test_rom_charts_one_per_joint_movement_side_with_the_norm(sample, busy_client):
    at = run_app(client=busy_client)
    series = sql(
        sample,
        """
        SELECT DISTINCT rom.joint, rom.movement, rom.side
        FROM core.rom JOIN core.visits USING (visit_id) WHERE visits.client_id = ?""",
        [busy_client],
    )
    assert len(series) > 0
    rom_figs = [f for f in figures(at) if any(t.get("name") == "Before" for t in f["data"])]
    assert len(rom_figs) == len(series)
    for fig in rom_figs:
        degrees = {tuple(r) for r in series.itertuples(index=False)}
        assert fig["layout"]["yaxis"]["title"]["text"] == "Degrees"
        lines = [s for s in fig["layout"].get("shapes", []) if s.get("type") == "line"]
        norms = {n.normal for (j, m), n in ROM_NORMS.items() if any(j == d[0] and m == d[1] for d in degrees)}
        assert all(line["y0"] in norms for line in lines)


def test_technique_grid_and_response_table(sample, busy_client):
    at = run_app(client=busy_client)
    fig = figure(at, "What was done in each visit")
    techniques = sql(
        sample, "SELECT DISTINCT unnest(techniques) AS t FROM core.visits WHERE client_id = ?", [busy_client]
    ).t
    heat = [t for t in fig["data"] if t["type"] == "heatmap"][0]
    assert len(heat["y"]) == len(techniques)
    n_visits = sql(sample, "SELECT count(*) AS n FROM core.visits WHERE client_id = ?", [busy_client]).n[0]
    assert len(heat["x"]) == n_visits
    # This client's own response (pipelines.techniques.client_response), words first, then numbers.
    table = table_with(at, "Visits with")
    assert len(table) == len(techniques)
    both = sql(
        sample,
        "SELECT count(*) AS n FROM core.visits WHERE client_id = ? AND pain_pre IS NOT NULL "
        "AND pain_post IS NOT NULL AND len(techniques) > 0",
        [busy_client],
    ).n[0]
    assert ((table["Visits with"] + table["Visits without"]) == both).all()
    expected = cr.client_response(cr.fit_practice(cr.load_visits(sample)), busy_client)
    assert table["Technique"].tolist() == [charts.pretty(t) for t in expected["technique"]]
    assert table["This client"].tolist() == [cr.points(v) for v in expected["effect"]]
    assert "None" not in table.to_string() and "nan" not in table.to_string()
    shown = expected.dropna(subset=["effect"])
    chart = trace(figure(at, "This client's response to each technique"), "This client (95 % interval)")
    assert decode(chart["x"]) == pytest.approx(-shown["effect"].to_numpy()[::-1])
    page_text = texts(at.markdown)
    assert "What seems to help" in page_text or "No technique has clearly helped" in page_text
    for row in shown[shown["verdict"] == cr.HELPS].to_dict("records"):
        assert f"{charts.pretty(row['technique'])} has helped this client" in page_text
    suggestions = suggest(cr.fit_practice(cr.load_visits(sample)), busy_client)
    assert suggestions and "A suggestion for the next visit" in page_text
    for s in suggestions:
        assert f"{s.action.capitalize()}: {charts.pretty(s.technique)}**, because {s.reason}." in page_text


def test_one_visit_client_gets_a_helpful_message(sample):
    one = sql(
        sample,
        "SELECT client_id FROM core.visits WHERE client_id NOT IN (SELECT client_id FROM core.self_reports) "
        "GROUP BY client_id HAVING count(*) = 1 ORDER BY 1 LIMIT 1",
    )
    at = run_app(client=one.iloc[0, 0])
    assert "Only one pain score so far" in texts(at.info)
    assert "trend line needs at least 3 visits" in texts(at.caption)
    assert len(figure(at, "Pain before and after each visit")["data"]) >= 1


def test_client_with_no_visits(use_db, tmp_path):
    tiny_practice(use_db, tmp_path)
    at = run_app(client="N1")
    assert "has no visits recorded yet" in texts(at.info)
    assert len(at.get("plotly_chart")) == 0


def test_visits_without_post_pain_or_rom(use_db, tmp_path):
    """Nothing to compare before/after and no ROM: the page says so in place of each chart."""
    tiny_practice(use_db, tmp_path)
    at = run_app(client="P1")
    info = texts(at.info)
    assert "No range-of-motion readings recorded" in info
    assert (
        "Cannot tell yet which techniques help this client, because no visit has pain recorded both before and after"
        in info
    )
    assert "No trigger points recorded" in info
    assert "pain after the visit was not recorded for 3 of 3 visits" in texts(at.caption)
    fig = figure(at, "Pain before and after each visit")
    assert [t["name"] for t in fig["data"] if t["name"] == "Pain after the visit"] == []
    np.testing.assert_allclose(decode(trace(fig, "Pain before the visit")["y"]), [7.0, 6.0, 6.5])


def test_unknown_client_in_the_url_is_ignored(sample):
    at = run_app(client="NOPE")
    assert at.selectbox(key="cp_client").value is None
    assert len(at.get("plotly_chart")) == 0


# --- practice overview ---------------------------------------------------------------------

# The robust rule, written again in SQL: pain now = median of the last 3 readings (before visits and
# check-ins) after the first visit's day; worse = up by the reliable change (1.96·SEM·√(1 + f²), f the
# median's error factor) or the last two readings both ≥ baseline + 1; stalled = 4+ visits and not
# (≥ 2 points, ≥ 30 % and the reliable change down).
ATTENTION_TRUTH = """
WITH base AS (
    SELECT client_id, count(*) AS n_visits,
           arg_min(pain_pre, (visit_date, visit_id)) FILTER (WHERE pain_pre IS NOT NULL) AS baseline,
           min(visit_date) FILTER (WHERE pain_pre IS NOT NULL) AS baseline_date
    FROM core.visits GROUP BY client_id
),
readings AS (
    SELECT client_id, CAST(visit_date AS TIMESTAMP) AS "at", pain_pre AS pain, 'visit' AS source
    FROM core.visits WHERE pain_pre IS NOT NULL
    UNION ALL
    SELECT client_id, reported_at, pain, 'check-in' FROM core.self_reports
),
after_base AS (
    SELECT r.*, row_number() OVER (PARTITION BY r.client_id ORDER BY "at" DESC, source DESC) AS back
    FROM readings r JOIN base USING (client_id)
    WHERE CAST(r."at" AS DATE) > base.baseline_date
),
now AS (
    SELECT client_id, median(pain) FILTER (WHERE back <= 3) AS level,
           count(*) FILTER (WHERE back <= 3) AS n_level,
           count(*) FILTER (WHERE back <= 2 AND pain >= baseline + 1) AS n_rising
    FROM after_base JOIN base USING (client_id) GROUP BY client_id
),
judged AS (
    SELECT base.client_id, n_visits, baseline, level - baseline AS change, n_rising,
           1.96 * 1.02 * sqrt(1 + CASE n_level WHEN 1 THEN 1 WHEN 2 THEN 0.5 ELSE 0.4487 END) AS rc
    FROM base JOIN now USING (client_id)
)
SELECT client_id, change > 0 AND (change >= rc OR n_rising = 2) AS worse
FROM judged JOIN core.clients USING (client_id)
WHERE coalesce(clients.status, 'active') = 'active'
ORDER BY 1
"""


def test_needs_attention_list_matches_an_independent_sql_ground_truth(sample):
    """Worse (the SQL above), or behind the practice's expected course (the sample is large enough to
    model it: pipelines.techniques.course, whose calibration tests/test_course.py checks)."""
    from pipelines.techniques import course

    at = run_app(page=PRACTICE_PAGE)
    judged = sql(sample, ATTENTION_TRUTH)
    visits = course.load_visits(sample)
    behind = course.latest_standings(course.fit(visits), visits)
    behind = set(behind[behind == course.BEHIND].index)
    truth = sorted(judged[judged["worse"].fillna(False) | judged["client_id"].isin(behind)].client_id)
    assert truth, "the sample practice should have clients who need attention"
    shown = table_with(at, "Reason")
    ids = sorted(shown["Client"].str.extract(r"\((\w+)\)$")[0])
    assert ids == truth
    assert {m.label: m.value for m in at.metric}["Need attention"] == str(len(truth))
    linked = sorted(
        link.proto.query_string.removeprefix("client=")
        for link in at.page_link
        if "new check-in" not in link.proto.label
    )  # the check-in inbox links too
    assert linked == truth


def test_practice_charts_hold_the_practice_numbers(sample):
    at = run_app(page=PRACTICE_PAGE)
    weekly = figure(at, "Visits per week")
    assert decode(weekly["data"][0]["y"]).sum() == sql(sample, "SELECT count(*) AS n FROM core.visits").n[0]

    relief = figure(at, "Immediate change in pain during visits")
    both = sql(
        sample, "SELECT pain_post - pain_pre AS d FROM core.visits WHERE pain_pre IS NOT NULL AND pain_post IS NOT NULL"
    )
    assert sum(decode(t["y"]).sum() for t in relief["data"]) == len(both)
    assert "negative = relief" in relief["layout"]["xaxis"]["title"]["text"]

    by_visit = figure(at, "Share of clients with a clinically important improvement")
    pts = by_visit["data"][0]
    x, y = decode(pts["x"]), decode(pts["y"])
    # Visit 3, computed here from core.visits: pain before visit 3 at least 2 points and 30 % below the first.
    k3 = sql(
        sample,
        """
        WITH o AS (SELECT client_id, pain_pre, row_number() OVER (PARTITION BY client_id ORDER BY visit_date, visit_id) k
                   FROM core.visits),
             b AS (SELECT client_id, arg_min(pain_pre, k) FILTER (WHERE pain_pre IS NOT NULL) AS base FROM o GROUP BY 1)
        SELECT count(*) AS n, count(*) FILTER (WHERE base - pain_pre >= 2 AND base - pain_pre >= 0.3 * base) AS k
        FROM o JOIN b USING (client_id) WHERE o.k = 3 AND pain_pre IS NOT NULL AND base IS NOT NULL""",
    )
    assert y[list(x).index(3)] == pytest.approx(k3.k[0] / k3.n[0] * 100)
    assert f"n={k3.n[0]}" in by_visit["layout"]["xaxis"]["ticktext"][2]
    assert x.min() == 1 and x.max() <= 12


def test_practice_aggregates_from_sql_give_the_same_numbers_as_every_row(sample):
    """The overview reads counts (per visit, baseline and pain; per pain change) instead of every
    visit; the figures must be exactly those computed from the rows themselves."""
    from dashboard import metrics
    from dashboard.queries import therapist as queries

    rows = sql(sample, "SELECT client_id, visit_number, baseline_pain, pain_pre FROM marts.client_progress")
    counts = queries.practice_progress_counts(str(sample), "v", metrics.MAX_VISIT_NUMBER)
    assert counts["n_rows"].sum() < len(rows)  # it is an aggregate
    pd.testing.assert_frame_equal(metrics.improvement_by_visit(counts, None), metrics.improvement_by_visit(rows, None))

    relief = queries.practice_relief_counts(str(sample), "v")
    every = sql(
        sample, "SELECT pain_post - pain_pre AS d FROM core.visits WHERE pain_pre IS NOT NULL AND pain_post IS NOT NULL"
    )
    assert dict(zip(relief["pain_change"], relief["n_visits"])) == every["d"].value_counts().to_dict()


def test_client_page_batch_is_one_client_and_follows_the_dates(sample, busy_client):
    """One read for the whole client page; the date picker then narrows it without the database,
    and nothing of another client is in it."""
    from dashboard.queries import therapist as queries

    data = queries.load_client_page(str(sample), busy_client)
    for name in ("visits", "self_reports", "trigger_points", "outcome_measures"):
        if "client_id" in data[name]:
            assert set(data[name]["client_id"]) <= {busy_client}, name
    ids = sql(
        sample, "SELECT visit_id FROM core.visits WHERE client_id = ? ORDER BY visit_date, visit_id", [busy_client]
    )
    assert data["visits"]["visit_id"].tolist() == ids["visit_id"].tolist()
    assert set(data["rom"]["visit_id"]) <= set(ids["visit_id"])
    dates = sorted(data["visits"]["visit_date"])
    start, end = dates[2].date(), dates[-3].date()
    narrowed = queries.client_visits(str(sample), queries.version(str(sample)), busy_client, start, end)
    truth = sql(
        sample,
        "SELECT visit_id FROM core.visits WHERE client_id = ? AND visit_date BETWEEN ? AND ? "
        "ORDER BY visit_date, visit_id",
        [busy_client, start, end],
    )
    assert narrowed["visit_id"].tolist() == truth["visit_id"].tolist()
    assert 0 < len(narrowed) < len(ids)


# --- empty, missing, busy and outdated databases -------------------------------------------


def empty_db(path: Path) -> Path:
    from pipelines.warehouse.db import write_connection
    from pipelines.warehouse.marts import rebuild_marts

    with write_connection(path) as con:
        rebuild_marts(con)
    return path


@pytest.mark.parametrize("page", [None, PRACTICE_PAGE])
def test_empty_database_explains_what_to_do(use_db, tmp_path, page):
    use_db(empty_db(tmp_path / "empty.duckdb"))
    at = run_app(page=page)
    assert "No clients in this database yet" in texts(at.info)
    assert len(at.get("plotly_chart")) == 0


def test_missing_database_file(use_db, tmp_path):
    use_db(tmp_path / "nowhere.duckdb")
    at = run_app()
    assert "There is no Knotwork database" in texts(at.info)


def test_busy_database_shows_a_friendly_message(sample, monkeypatch):
    """An import holding the write lock past the retry window must not put a traceback on screen."""
    import contextlib

    from dashboard.queries import therapist as queries
    from pipelines.warehouse.db import DatabaseBusy

    @contextlib.contextmanager
    def busy(*args, **kwargs):
        raise DatabaseBusy("held by an import")
        yield

    monkeypatch.setattr(queries, "read_connection", busy)
    for page in (None, PRACTICE_PAGE):
        st.cache_data.clear()
        at = run_app(page=page)
        assert "data is being updated" in texts(at.warning)


def test_database_from_an_older_version_says_how_to_refresh(use_db, sample_db_copy):
    """A database whose marts predate this dashboard (no practice_weekly) gets instructions, not a traceback."""
    from pipelines.warehouse.db import write_connection

    with write_connection(sample_db_copy) as con:
        con.execute("DROP TABLE marts.practice_weekly")
    use_db(sample_db_copy)
    at = run_app(page=PRACTICE_PAGE)
    assert "knotwork init" in texts(at.warning)


# --- a tiny hand-made practice -------------------------------------------------------------


def tiny_practice(use_db, tmp_path: Path) -> Path:
    """P1: three visits with pain before only, no ROM or trigger points.  N1: no visits at all."""
    from pipelines.ingest.importer import ingest_files

    d = tmp_path / "csv"
    d.mkdir()
    today = dt.date.today()
    days = [today - dt.timedelta(days=n) for n in (30, 20, 10)]
    files = [
        write_csv(d, "clients.csv", "client_id,display_name,status\nP1,Pat Lee,active\nN1,Noor Ahmed,active\n"),
        write_csv(
            d,
            "visits.csv",
            "visit_id,client_id,visit_date,pain_pre,pain_post,techniques\n"
            f"V1,P1,{days[0]},7,,trigger point;stretching\n"
            f"V2,P1,{days[1]},6,,swedish\n"
            f"V3,P1,{days[2]},6.5,,trigger point\n",
        ),
    ]
    db = tmp_path / "tiny.duckdb"
    reports = ingest_files(files, db=db)
    assert all(r.error is None and r.rejected == 0 for r in reports), [(r.error, r.rejects) for r in reports]
    return use_db(db)
