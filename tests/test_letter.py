"""The physician letter: content checked against SQL, what is missing said in words, one to two
pages on A4 and Letter for a short and a long history, and the button on the Client progress page."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import subprocess
import sys

import pytest

from dashboard.letter import build_letter_html, fmt, write_letter
from pipelines.clinical.change import pain_status
from pipelines.ingest.importer import ingest_files
from pipelines.warehouse.db import read_connection
from tests.conftest import write_csv
from tests.test_e2e_browser import browser, server  # noqa: F401  (fixtures)
from tests.test_reports import _pdf_pages, needs_chromium, needs_poppler

TODAY = dt.date(2026, 12, 1)


def _text(html: str) -> str:
    body = html.split("<body>", 1)[1]
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


def _fdate(d) -> str:
    return f"{d.day} {d:%b %Y}"


@pytest.fixture(scope="module")
def clients(sample_db) -> dict[str, str]:
    """The shortest (>= 2 visits) and the longest history with an NDI taken twice."""
    with read_connection(sample_db) as con:
        short = con.execute(
            "select client_id from marts.client_summary where n_visits >= 2 order by n_visits, client_id limit 1"
        ).fetchone()[0]
        long = con.execute(
            "select client_id from marts.client_summary where n_visits >= 15 and client_id in "
            "(select client_id from core.outcome_measures where instrument = 'NDI' group by 1 "
            "having count(*) >= 2) order by n_visits desc, client_id limit 1"
        ).fetchone()[0]
    return {"short": short, "long": long}


def test_letter_numbers_match_the_database(sample_db, clients):
    cid = clients["long"]
    text = _text(build_letter_html(sample_db, cid, today=TODAY))
    with read_connection(sample_db) as con:
        name, year, complaint = con.execute(
            "select display_name, birth_year, primary_complaint from core.clients where client_id = ?", [cid]
        ).fetchone()
        visits = con.execute(
            "select visit_date, pain_pre from core.visits where client_id = ? order by visit_date, visit_id", [cid]
        ).fetchall()
        ndi = con.execute(
            "select taken_on, item_1+item_2+item_3+item_4+item_5+item_6+item_7+item_8+item_9+item_10 "
            "from core.outcome_measures where client_id = ? and instrument = 'NDI' "
            "order by taken_on",
            [cid],
        ).fetchall()
    assert f"Progress report: {name}, born {year}" in text
    assert complaint in text
    assert f"{len(visits)} visits, {_fdate(visits[0][0])} to {_fdate(visits[-1][0])}" in text
    with_pain = [(d, p) for d, p in visits if p is not None]
    base, base_day = with_pain[0][1], with_pain[0][0]
    # The current level, computed here independently: the median of the last three readings after the
    # baseline day, before-visit pain and the client's check-ins together (the app's status rule).
    with read_connection(sample_db) as con:
        readings = con.execute(
            "select t, pain from (select visit_date::timestamp as t, pain_pre as pain, 1 as is_visit "
            "from core.visits where client_id = ? and pain_pre is not null and visit_date > ? "
            "union all select reported_at, pain, 0 from core.self_reports where client_id = ? and pain is not null "
            "and reported_at::date > ?) order by t, is_visit",
            [cid, base_day, cid, base_day],
        ).fetchall()
    last = sorted(p for _, p in readings[-3:])
    cur = last[len(last) // 2] if len(last) % 2 else (last[0] + last[1]) / 2
    assert (
        f"{fmt(base)}/10 ({_fdate(base_day)}) → {fmt(cur)}/10 (current level: median of the last {len(last)} "
        f"readings, visits and check-ins, to {_fdate(readings[-1][0])})"
    ) in text
    assert f"change {fmt(cur - base, signed=True)} points" in text
    sem_factor = {1: 1.0, 2: 0.5**0.5, 3: 0.4487**0.5}[len(last)]
    threshold = 1.96 * 1.02 * (1 + sem_factor**2) ** 0.5
    reliable = abs(cur - base) >= threshold - 1e-9
    status = pain_status(base, cur)
    if status == "clinically important improvement" and not reliable:
        status = "some improvement"
    assert f"Status: {status} by the practice's thresholds" in text
    assert ("a reliable change" if reliable else "not a reliable change") in text
    assert f"reliable change ≥ {fmt(threshold)} points" in text
    # NDI in % = raw /50 × 2 (complete forms in the sample), MIC 20 %-points
    if all(s is not None for _, s in ndi):
        first, last = ndi[0][1] * 2, ndi[-1][1] * 2
        assert re.search(
            rf"Neck Disability Index \(NDI\) {re.escape(fmt(first))} {re.escape(_fdate(ndi[0][0]))} "
            rf"{re.escape(fmt(last))} {re.escape(_fdate(ndi[-1][0]))} "
            rf"{re.escape(fmt(last - first, signed=True))} 20 ",
            text,
        ), text[:2000]
    # thresholds sourced in the footnote
    for source in ("Farrar", "Jacobson & Truax 1991", "Childs", "Young BA", "Boone"):
        assert source in text
    assert "clinical.md" not in text and "None" not in text and "nan" not in text.lower().split()


def test_the_letter_carries_the_latest_plan(sample_db, clients):
    cid = clients["long"]
    text = _text(build_letter_html(sample_db, cid, today=TODAY))
    with read_connection(sample_db) as con:
        row = con.execute(
            "select visit_date, plan from core.visits where client_id = ? and nullif(trim(plan), '') "
            "is not null order by visit_date desc, visit_id desc limit 1",
            [cid],
        ).fetchone()
    assert row is not None, "the sample's long history has a plan"
    assert f"Planned for the next visit (noted {row[0]:%d %b %Y}): {row[1].strip()}" in text


def test_rom_rows_are_first_and_latest_before_session_readings(sample_db, clients):
    cid = clients["long"]
    text = _text(build_letter_html(sample_db, cid, today=TODAY))
    with read_connection(sample_db) as con:
        rows = con.execute(
            """
            select r.joint, r.movement, r.side, first(r.degrees order by v.visit_date), last(r.degrees order by v.visit_date)
            from core.rom r join core.visits v using (visit_id)
            where v.client_id = ? and r.timing = 'pre' group by all order by all""",
            [cid],
        ).fetchall()
    assert rows
    for joint, movement, side, first, last in rows:
        side_txt = f" ({side})" if side in ("left", "right") else ""
        label = f"{joint.replace('_', ' ').capitalize()} {movement.replace('_', ' ')}{side_txt}"
        assert f"{label} {fmt(first, 0)}° {fmt(last, 0)}° {fmt(last - first, 0, signed=True)}°" in text, label


def test_a_bare_client_and_no_practice_details_are_said_not_failed(tmp_path):
    db = tmp_path / "bare.duckdb"
    ingest_files([write_csv(tmp_path, "clients.csv", "client_id,display_name\nB1,Bo R.\n")], db=db)
    text = _text(build_letter_html(db, "B1", today=TODAY))
    assert "Practice name not set" in text and "No contact details set" in text
    assert "birth year not recorded" in text and "Presenting complaint / reason for referral: not recorded" in text
    assert "No visits recorded yet" in text and "No questionnaires taken" in text
    assert "No pain scores before a visit are recorded" in text and "No range of motion measured" in text


def test_practice_settings_fill_the_letterhead(tmp_path):
    db = tmp_path / "p.duckdb"
    ingest_files([write_csv(tmp_path, "clients.csv", "client_id,display_name,birth_year\nP1,Pat K.,1970\n")], db=db)
    (tmp_path / "knotwork-settings.toml").write_text(
        '[practice]\nname = "Northside Trigger Point Clinic"\ntherapist = "Sam Rivera, LMT"\n'
        'phone = "+1 555 0100"\nemail = "sam@example.org"\n',
        encoding="utf-8",
    )
    text = _text(build_letter_html(db, "P1", today=TODAY))
    assert "Northside Trigger Point Clinic" in text and "Sam Rivera, LMT" in text and "+1 555 0100" in text
    assert "Practice name not set" not in text
    assert "Not recorded: practice details: address" in text  # the one still missing


def test_numbers_never_read_minus_zero():
    assert fmt(-0.0) == "0" and fmt(-0.04) == "0" and fmt(0.04, signed=True) == "0"
    assert fmt(None) == "—" and fmt(float("nan")) == "—"
    assert fmt(-4.5, signed=True) == "−4.5" and fmt(3.0) == "3" and fmt(82.4, 0, unit=" %") == "82 %"


@pytest.mark.browser
@needs_chromium
@needs_poppler
@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("history", ["short", "long"])
def test_letter_pdf_is_one_to_two_full_pages(tmp_path, sample_db, clients, paper, history):
    pdf = write_letter(sample_db, clients[history], tmp_path / f"letter-{history}-{paper}.pdf", paper=paper)
    pages = _pdf_pages(pdf)
    assert 1 <= len(pages) <= 2, len(pages)
    text = "\n".join(pages)
    assert "Progress report" in pages[0] and "Kind regards" in text
    assert re.search(r"(?<![\d.])-0(?![\d.])|−0(?![\d.])", text) is None
    lines = [ln for ln in pages[-1].splitlines() if ln.strip()]
    assert len(pages) == 1 or len(lines) >= 8, f"last page nearly empty: {lines}"


@pytest.mark.slow
@pytest.mark.browser
@needs_chromium
@needs_poppler
def test_cli_letter(tmp_path, sample_db, clients):
    run = lambda *a: subprocess.run(
        [sys.executable, "-m", "knotwork", "letter", *a, "--db", str(sample_db)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    for name in ("l.html", "l.pdf"):
        out = run(clients["short"], "--out", str(tmp_path / name))
        assert out.returncode == 0, out.stderr
    assert (tmp_path / "l.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Progress report" in (tmp_path / "l.html").read_text(encoding="utf-8")
    bad = run("NOPE", "--out", str(tmp_path / "x.pdf"))
    assert bad.returncode == 1 and "no client" in bad.stderr


@pytest.mark.usefixtures("clean_streamlit_caches")
def test_client_page_offers_the_letter(sample_db, clients, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard_apptest import APP, CLIENT_PAGE

    monkeypatch.setenv("KNOTWORK_DB", str(sample_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["client"] = clients["long"]
    at.run()
    at.switch_page(CLIENT_PAGE).run()
    assert not at.exception
    assert "Letter to the physician" in [h.value for h in at.subheader]
    assert any("practice name" in c.value for c in at.caption)  # the sample practice has no [practice] set
    assert [r.value for r in at.radio if r.key == "cp_letter_paper"] == ["A4"]


@pytest.mark.browser
@needs_chromium
@needs_poppler
def test_the_letter_downloads_from_the_client_page_in_a_browser(server, browser, tmp_path, clients):
    """A therapist opens Client progress in Chromium, clicks the letter button and gets a 1-2 page PDF
    for that client, and the export is in the audit log."""
    from tests.test_e2e_browser import wait_for_app

    url, db = server
    cid = clients["long"]
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{url}/?client={cid}")
    wait_for_app(page, 60_000)
    button = page.get_by_role("button", name="Download letter (PDF, A4)")
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=120_000) as download:
        button.click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    assert pdf.name.startswith("letter-") and pdf.read_bytes()[:5] == b"%PDF-"
    pages = _pdf_pages(pdf)
    with read_connection(db) as con:
        name = con.execute("select display_name from core.clients where client_id = ?", [cid]).fetchone()[0]
    assert 1 <= len(pages) <= 2 and f"Progress report: {name}" in re.sub(r"\s+", " ", pages[0])
    with read_connection(db) as con:
        details = [r[0] for r in con.execute("select detail from meta.audit where action = 'export'").fetchall()]
    assert any(d.startswith(f"physician letter of {cid}, PDF (A4)") for d in details), details


def test_values_from_the_database_are_escaped_in_the_letter(sample_db_copy):
    from pipelines.warehouse.db import write_connection
    from pipelines.warehouse.marts import rebuild_marts

    with write_connection(sample_db_copy) as con:
        con.execute(
            "UPDATE core.clients SET display_name = '<script>alert(1)</script>', "
            "primary_complaint = '<img src=x onerror=alert(2)>' WHERE client_id = 'C0002'"
        )
        con.execute("UPDATE core.visits SET homecare = '<b>stretch</b>' WHERE client_id = 'C0002'")
        rebuild_marts(con)
    html = build_letter_html(sample_db_copy, "C0002", today=TODAY)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<b>stretch</b>" not in html
