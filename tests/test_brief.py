"""The between-clients brief (issue 15): the plan field, the last visit & plan card with the check-ins
since, the robust status on the client page, the actions, the check-in inbox, and the navigation
keeping the chosen client.  Real DuckDB files; pages through the entry point with AppTest."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.entry import forms as E
from pipelines.ingest.importer import ingest_files
from pipelines.warehouse.db import data_version
from pipelines.warehouse.migrate import migrate
from tests.conftest import write_csv

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "streamlit_app.py")
CLIENT_PAGE = "app_pages/client_progress.py"
PRACTICE_PAGE = "app_pages/practice_overview.py"
LOG_PAGE = "app_pages/log_visit.py"
SHARE_PAGE = "app_pages/sharing.py"

pytestmark = pytest.mark.usefixtures("clean_streamlit_caches")

TODAY = dt.date.today()
# Mia: months at 2-3 after a start at 7; since the last visit a check-in at 3, then a flare-up to 6.
PAINS = [7, 5, 3, 2, 3, 2, 3, 2, 3]
FIRST = TODAY - dt.timedelta(days=7 * (len(PAINS) - 1) + 3)
LAST = FIRST + dt.timedelta(days=7 * (len(PAINS) - 1))
PLAN = "Check SCM and scalenes; add pec minor release if the arm tingles again"
NOTES = "L UT active TrP refers to temple"
HOMECARE = "Doorway pec stretch 3x30 s daily"


def _practice(tmp_path: Path, db: Path) -> Path:
    clients = write_csv(
        tmp_path,
        "clients.csv",
        """
client_id,display_name,complaint_region,primary_complaint
MIA,Mia Flare,neck,Neck and headache
BO,Bo Quiet,low_back,Low back
""",
    )
    rows = ["visit_id,client_id,visit_date,pain_pre,pain_post,techniques,pressure,homecare,notes,Next time"]
    for i, pain in enumerate(PAINS):
        day = FIRST + dt.timedelta(days=7 * i)
        last = i == len(PAINS) - 1
        rows.append(
            f"M{i + 1},MIA,{day.isoformat()},{pain},{max(pain - 2, 0)},trigger_point;stretching,4,"
            f"{HOMECARE if last else 'Heat'},{NOTES if last else ''},{PLAN if last else 'Same again'}"
        )
    rows.append(f"B1,BO,{(TODAY - dt.timedelta(days=30)).isoformat()},5,4,swedish,2,,,")
    rows.append(f"B2,BO,{(TODAY - dt.timedelta(days=20)).isoformat()},5,4,swedish,2,,,")
    visits = write_csv(tmp_path, "visits.csv", "\n".join(rows) + "\n")
    points = write_csv(
        tmp_path,
        "trigger_points.csv",
        f"""
visit_id,muscle,side,referral_region,tenderness,released
M{len(PAINS)},upper_trapezius,left,head,7,partial
""",
    )
    older = (LAST - dt.timedelta(days=3)).isoformat()
    reports = write_csv(
        tmp_path,
        "self_reports.csv",
        f"""
client_id,reported_at,pain,region,did_homecare,note
MIA,{older}T20:00:00,2,neck,yes,before the last visit
MIA,{(LAST + dt.timedelta(days=1)).isoformat()}T09:00:00,3,neck,yes,Better today
MIA,{(LAST + dt.timedelta(days=2)).isoformat()}T09:00:00,6,neck,no,Stiff after the long drive
BO,{(TODAY - dt.timedelta(days=25)).isoformat()}T09:00:00,5,low_back,no,
""",
    )
    results = ingest_files([clients, visits, points, reports], db=db)
    assert all(r.error is None for r in results) and all(r.rejected == 0 for r in results), [
        (r.error, r.rejects) for r in results
    ]
    return db


@pytest.fixture
def practice(tmp_path, db, monkeypatch) -> Path:
    monkeypatch.setenv("KNOTWORK_DB", str(db))
    return _practice(tmp_path, db)


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def run(client: str | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
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


def text(at: AppTest) -> str:
    """What the page says, with the Markdown escapes of dashboard.text.md undone (as the browser shows it)."""
    parts = []
    for kind in ("markdown", "success", "info", "warning", "error", "caption", "metric"):
        for el in at.get(kind):
            parts.append(str(getattr(el, "value", "")))
    return re.sub(r"\\([\\`*_{}\[\]()<>#+\-.!|~$:&])", r"\1", "\n".join(parts))


# --- the plan field ---------------------------------------------------------------------------


def test_a_next_time_column_is_imported_as_the_plan_and_reaches_the_marts(practice):
    assert rows(practice, "SELECT plan FROM core.visits WHERE visit_id = ?", [f"M{len(PAINS)}"]) == [(PLAN,)]
    assert rows(practice, "SELECT plan FROM marts.visit_outcomes WHERE visit_id = 'M1'") == [("Same again",)]
    assert rows(practice, "SELECT plan FROM core.visits WHERE visit_id = 'B1'") == [(None,)]


def test_a_logged_visit_keeps_its_plan_through_save_and_edit(practice):
    saved = E.save_visit(
        E.VisitEntry(
            client_id="BO", visit_date=TODAY, pain_pre=4, techniques=["swedish"], plan="Try positional release for QL"
        ),
        db=practice,
    )
    assert rows(practice, "SELECT plan FROM marts.visit_outcomes WHERE visit_id = ?", [saved.key]) == [
        ("Try positional release for QL",)
    ]
    entry = E.load_visit(saved.key, db=practice)
    assert entry.plan == "Try positional release for QL"
    entry.plan = "QL again"
    E.save_visit(entry, db=practice, visit_id=saved.key)
    assert rows(practice, "SELECT plan FROM core.visits WHERE visit_id = ?", [saved.key]) == [("QL again",)]


def test_migration_0005_adds_the_plan_and_the_seen_table_to_an_older_database(db):
    con = duckdb.connect(str(db))
    try:
        migrate(con, upto="0004_audit_actor.sql")
        con.execute("INSERT INTO core.visits (visit_id, client_id, visit_date) VALUES ('V1', 'C1', DATE '2026-01-05')")
        assert "0005_brief.sql" in migrate(con)
        assert con.execute("SELECT visit_id, plan FROM core.visits").fetchall() == [("V1", None)]
        assert con.execute("SELECT count(*) FROM meta.checkins_seen").fetchone() == (0,)
    finally:
        con.close()


# --- the client page: status, last visit & plan, check-ins since ------------------------------------


def test_the_brief_shows_the_last_visit_its_plan_and_the_check_ins_since(practice):
    at = run(client="MIA")
    shown = text(at)
    # How she is doing: one flare-up after months at 2-3 leaves her "improved", and the flare-up is named.
    assert "Reliable and clinically important improvement" in "\n".join(s.value for s in at.success)
    assert not at.error
    metric = {m.label: m.value for m in at.metric}
    assert metric["Pain: first visit → now"] == "7 → 3"
    assert "**Latest:** 6 yesterday (a check-in), above the client's usual 2–3: a flare-up." in shown
    # What we did and found, what we planned.
    assert f"**Next time:** {PLAN}" in shown
    assert f"**Notes:** {NOTES}" in shown
    assert "**Home care:** Doorway pec stretch 3x30 s daily" in shown
    assert "Upper trapezius (left), tenderness 7 → refers to head" in shown
    assert (
        "Stretching, Trigger point · pressure 4 of 5 (deep) · pain 3 before → 1 just after (rated in the room)" in shown
    )
    # What she told us since, newest first, with notes and home-care answers; not the check-in before the visit.
    assert "**Check-ins since that visit:** 2, newest first" in shown
    newer, older = shown.index("Stiff after the long drive"), shown.index("Better today")
    assert newer < older
    assert "did not do the home care" in shown and "did the home care" in shown
    assert "before the last visit" not in shown
    for bad in ("None", "nan", "-0"):
        assert bad not in shown.replace("None.", "")


def test_missing_pieces_are_said_plainly(practice):
    at = run(client="BO")
    shown = text(at)
    assert "**Next time:** no plan was written at that visit." in shown
    assert "**Trigger points found:** none recorded." in shown
    assert "**Check-ins since that visit:** none." in shown
    assert "No important change yet" in shown
    assert "None" not in shown.replace("none", "") and "nan" not in shown


def test_a_plan_longer_than_a_screen_is_cut_with_the_whole_one_click_away(practice):
    long_plan = "Work the posterior chain slowly. " * 40
    E.save_visit(E.VisitEntry(client_id="BO", visit_date=TODAY, pain_pre=4, plan=long_plan), db=practice)
    at = run(client="BO")
    first = next(m.value for m in at.markdown if m.value.startswith("**Next time:**"))
    assert first.endswith("…") and len(first) < 450
    assert [e.label for e in at.expander if e.label.startswith("The whole next time")]


# --- actions and the chosen client -------------------------------------------------------------------


def test_actions_open_with_this_client_and_the_navigation_keeps_it(practice):
    at = run(client="MIA")
    links = {link.proto.label: link.proto for link in at.page_link}
    assert links["Log a visit"].query_string == "client=MIA"
    assert links["Make a private link"].query_string == "client=MIA"
    assert "Report" in [b.proto.label for b in at.get("download_button")]
    assert [b.label for b in at.button if b.label == "Show to client"]
    # Through the top navigation (no ?client= in the address) the next page starts on Mia.
    at.query_params.clear()
    at.switch_page(LOG_PAGE).run()
    assert at.selectbox(key="lv_client").value == "MIA"
    at.query_params.clear()
    at.switch_page(SHARE_PAGE).run()
    assert at.selectbox(key="sh_client").value == "MIA"


def test_the_share_page_honours_client_in_the_address(practice):
    at = run(client="BO", page=SHARE_PAGE)
    assert at.selectbox(key="sh_client").value == "BO"


# --- the check-in inbox ----------------------------------------------------------------------------


def _inbox_clients(at: AppTest) -> list[str]:
    return sorted(
        link.proto.query_string.removeprefix("client=")
        for link in at.page_link
        if link.proto.label.startswith(("Mia", "Bo")) and "check-in" in link.proto.label
    )


def test_inbox_lists_unseen_check_ins_until_the_clients_page_is_opened_and_survives_a_restart(practice):
    version = data_version(practice)
    at = run(page=PRACTICE_PAGE)
    # Mia's two check-ins since her last visit; Bo's came before his last visit (seen at that visit).
    assert _inbox_clients(at) == ["MIA"]
    assert "Stiff after the long drive" in text(at) and "Better today" not in text(at)  # the newest note
    assert data_version(practice) == version  # the overview only reads
    assert rows(practice, "SELECT count(*) FROM meta.checkins_seen") == [(0,)]

    at.switch_page(CLIENT_PAGE)  # the therapist opens Mia's page
    at.query_params["client"] = "MIA"
    at.run()
    assert not at.exception and "Stiff after the long drive" in text(at)
    assert rows(practice, "SELECT client_id FROM meta.checkins_seen") == [("MIA",)]
    at.query_params.clear()
    at.switch_page(PRACTICE_PAGE).run()
    assert _inbox_clients(at) == []
    restarted = run(page=PRACTICE_PAGE)  # a new session: the inbox comes from the database
    assert _inbox_clients(restarted) == []
    assert "No new check-ins" in text(restarted)

    # A new check-in brings Mia back.
    from pipelines.sharing.checkin import record_checkin

    assert record_checkin("MIA", {"pain": 5, "note": "Headache back"}, db=practice, source="link").ok
    again = run(page=PRACTICE_PAGE)
    assert _inbox_clients(again) == ["MIA"] and "Headache back" in text(again)


def test_log_a_visit_shows_what_was_planned_last_time(practice):
    at = run(client="MIA", page=LOG_PAGE)
    assert "**Planned last time**" in "\n".join(i.value for i in at.info)
    assert PLAN in "\n".join(i.value for i in at.info)
    bo = run(client="BO", page=LOG_PAGE)  # no plan written: no reminder
    assert not [i for i in bo.info if "Planned last time" in i.value]


def test_the_client_hears_the_same_status_in_words_that_match_the_numbers(practice):
    from dashboard.client_facing.data import load_client
    from dashboard.client_facing.view import summarise
    from dashboard.reports import build_report_html

    mia = summarise(load_client(practice, "MIA"), as_of=TODAY)
    assert mia.status == "clinically important improvement" and mia.tone == "good"
    assert "now usually about 3 out of 10, down from 7" in mia.headline
    assert "\u201cmuch improved\u201d" in mia.headline
    assert "6 yesterday (a check-in), above your usual 2–3: a flare-up" in mia.headline
    assert "One harder day does not change the overall picture" in mia.headline
    assert "change the plan" not in mia.headline
    assert "rated it in the room" in mia.session_line
    assert "change most people notice" not in mia.rule_text and "Farrar" in mia.rule_text
    # Bo: 5 then 5, no change inside the measurement error: nobody asks to change the plan.
    bo = summarise(load_client(practice, "BO"), as_of=TODAY)
    assert bo.status == "no important change"
    assert "change the plan" not in bo.headline and "about the same" in bo.headline
    html = build_report_html(practice, "MIA", today=TODAY)
    assert "now usually about 3 out of 10" in html and "a flare-up" in html


def test_show_to_client_from_the_client_page_opens_that_clients_own_view(practice):
    at = run(client="MIA")
    at.button(key="cp_present").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Your progress"]
    shown = text(at)
    assert "Mia Flare" in shown and "Bo Quiet" not in shown
    assert "now usually about 3 out of 10" in shown
