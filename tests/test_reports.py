"""Client progress reports: self-contained HTML that renders with the network off, and PDFs on
A4 and Letter whose charts are neither split across pages nor clipped."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.client_facing.data import load_client
from dashboard.client_facing.view import rom_series, summarise
from dashboard.reports import PLOTLY_CONFIG, build_report_html, write_report
from pipelines.warehouse.db import read_connection
from tests.sharing_helpers import PLOTLY_JS_MIN, new_plot_calls, strip_plotly_js

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdfinfo"),
    reason="poppler-utils (pdftotext, pdfinfo) not installed",
)


@pytest.fixture(scope="module")
def long_client(sample_db) -> str:
    """The sample client with the fewest visits among those with at least 20."""
    with read_connection(sample_db) as con:
        row = con.execute(
            "SELECT client_id FROM marts.client_summary WHERE n_visits >= 20 ORDER BY n_visits, client_id LIMIT 1"
        ).fetchone()
    assert row, "the sample needs a client with at least 20 visits"
    return row[0]


@pytest.fixture(scope="module")
def report(sample_db, long_client) -> str:
    return build_report_html(sample_db, long_client)


def test_html_has_no_remote_script_style_font_or_image(report):
    assert "<script src" not in report.lower()
    assert not re.search(r"<script[^>]*\ssrc\s*=", report, re.I)  # no external script tag anywhere
    ours = strip_plotly_js(report).lower()  # the file minus the plotly.js library source
    assert not re.search(r"\ssrc\s*=", ours)  # no <img src>, <iframe src>, …
    assert "<link" not in ours and "@import" not in ours and "url(" not in ours
    assert "https://cdn" not in ours
    assert not re.findall(r"https?://", ours)
    assert "default-src 'none'" in report  # Content-Security-Policy: the browser refuses any fetch
    # plotly.js itself is embedded (once), not referenced
    assert sum(len(m) >= PLOTLY_JS_MIN for m in re.findall(r"<script[^>]*>(.*?)</script>", report, re.S)) == 1


def test_every_chart_has_the_cloud_button_and_logo_switched_off(report):
    calls = new_plot_calls(report)
    assert len(calls) == 4  # pain, the body at the start and now, and ROM for this client
    for _data, _layout, config in calls:
        assert config["showSendToCloud"] is False
        assert config["displaylogo"] is False
        assert config["displayModeBar"] is False
        assert config == {**config, **PLOTLY_CONFIG}
    stripped = strip_plotly_js(report)
    assert "sendDataToCloud" not in stripped and "Share chart" not in stripped


def test_report_says_the_plain_language_headline_and_what_was_done(sample_db, long_client, report):
    data = load_client(sample_db, long_client)
    assert data.display_name in report
    assert "Your progress" in report
    assert re.search(r"pain (is now usually about|is about the same)", report)
    assert "What we did" in report and "Your home care" in report
    assert report.count('<tr><td class="num">') == len(data.visits)  # one row per visit


def test_values_from_the_database_are_escaped(sample_db_copy):
    with __import__("pipelines.warehouse.db", fromlist=["write_connection"]).write_connection(sample_db_copy) as con:
        con.execute("UPDATE core.clients SET display_name = '<script>alert(1)</script> & Co' WHERE client_id = 'C0001'")
        con.execute("UPDATE core.visits SET homecare = '<img src=x onerror=alert(2)>' WHERE client_id = 'C0001'")
        from pipelines.warehouse.marts import rebuild_marts

        rebuild_marts(con)
    html = build_report_html(sample_db_copy, "C0001")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html


def test_one_visit_client_gets_a_helpful_first_visit_report(sample_db):
    with read_connection(sample_db) as con:
        cid = con.execute(
            "SELECT client_id FROM marts.client_summary WHERE n_visits = 1 AND client_id NOT IN "
            "(SELECT client_id FROM core.self_reports) ORDER BY client_id LIMIT 1"
        ).fetchone()[0]
    html = build_report_html(sample_db, cid)
    assert "At your first visit" in html
    assert "much improved" not in html.split("<footer")[0].split("<h2>")[0]  # no claim of change


# ---------------------------------------------------------------------------
# In a real browser, with the network off
# ---------------------------------------------------------------------------


@pytest.mark.browser
@needs_chromium
def test_html_renders_in_chromium_with_every_network_request_refused(tmp_path, report):
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    path.write_text(report, encoding="utf-8")
    attempted: list[str] = []
    console_errors: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
            page.route("**/*", guard)
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length === 4 && "
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4"
            )
            n_points = page.locator(".js-plotly-plot .scatterlayer .point").count()
            share_buttons = page.locator("[data-title^='Share chart'], [data-title*='Cloud']").count()
            modebars = page.locator(".modebar-btn").count()
            # Printable width of A4 with 15 mm margins is 680 CSS px: every chart must fit inside it.
            page.set_viewport_size({"width": 680, "height": 1400})
            page.emulate_media(media="print")
            right_edges = page.eval_on_selector_all(
                ".js-plotly-plot .main-svg", "els => els.map(e => e.getBoundingClientRect().right)"
            )
            body_right = page.evaluate("document.querySelector('.report').getBoundingClientRect().right")
        finally:
            browser.close()
    assert attempted == []
    assert not [e for e in console_errors if "Content Security Policy" in e or "Refused" in e], console_errors
    assert n_points > 20  # the charts have their data, not just axes
    assert share_buttons == 0 and modebars == 0
    assert right_edges and max(right_edges) <= min(body_right, 680) + 0.5


def _pdf_pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for i in range(1, n + 1)
    ]


def _page_size(pdf: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()
    return float(w), float(h)


def _one_page_holds_all(pages: list[str], labels: list[str]) -> bool:
    squash = [re.sub(r"\s+", " ", p) for p in pages]
    return any(all(label in p for label in labels) for p in squash)


@pytest.mark.browser
@needs_chromium
@needs_poppler
@pytest.mark.parametrize("paper, size", [("A4", (595.9, 842.9)), ("Letter", (612.0, 792.0))])
def test_pdf_on_a4_and_letter_keeps_each_chart_whole(tmp_path, sample_db, long_client, paper, size):
    pdf = write_report(sample_db, long_client, tmp_path / f"report-{paper}.pdf", paper=paper)
    w, h = _page_size(pdf)
    assert abs(w - size[0]) < 1.5 and abs(h - size[1]) < 1.5
    pages = _pdf_pages(pdf)
    assert 2 <= len(pages) <= 6, len(pages)
    data = load_client(sample_db, long_client)
    text = "\n".join(pages)
    assert data.display_name in text
    # A chart split over two pages would put its labels on different pages.
    assert _one_page_holds_all(
        pages,
        ["Pain (0 = none, 10 = worst)", "When you arrived", "Just after the session", "\u201cMuch improved\u201d zone"],
    )
    rom_labels = list(dict.fromkeys(rom_series(data, first=[r.label for r in summarise(data).rom_lines])["label"]))
    assert rom_labels and _one_page_holds_all(pages, ["Measured at the start of each visit", *rom_labels])
    # the last visit row and the footer made it (nothing cut off at the end)
    assert "How to read this report" in pages[-1]


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
@needs_poppler
def test_cli_report_writes_html_and_pdf(tmp_path, sample_db, long_client):
    for name in ("r.html", "r.pdf"):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "knotwork",
                "report",
                long_client,
                "--out",
                str(tmp_path / name),
                "--db",
                str(sample_db),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert out.returncode == 0, out.stderr
        assert (tmp_path / name).stat().st_size > 10_000
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    bad = subprocess.run(
        [sys.executable, "-m", "knotwork", "report", "NOPE", "--out", str(tmp_path / "x.html"), "--db", str(sample_db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "no client" in bad.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "knotwork",
            "report",
            long_client,
            "--out",
            str(tmp_path / "x.docx"),
            "--db",
            str(sample_db),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and ".html or .pdf" in bad.stderr


# ---------------------------------------------------------------------------
# Issue 20: no "-0", questionnaires and the practice on the report, no near-empty pages
# ---------------------------------------------------------------------------


def _fills(pdf: Path) -> list[float]:
    """How far down each page the content reaches (0 = blank page, 1 = to the bottom edge)."""
    import io

    from PIL import Image

    data = subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf)], capture_output=True, check=True).stdout
    out = []
    while data:
        im = Image.open(io.BytesIO(data))
        im.load()
        w, h = im.size
        px = im.load()
        rows = [y for y in range(h) if any(px[x, y] < 200 for x in range(w))]
        out.append(rows[-1] / h if rows else 0.0)
        data = data[len(f"P5\n{w} {h}\n255\n".encode()) + w * h :]
    return out


@pytest.fixture(scope="module")
def short_client(sample_db) -> str:
    with read_connection(sample_db) as con:
        return con.execute(
            "SELECT client_id FROM marts.client_summary WHERE n_visits = 2 ORDER BY client_id LIMIT 1"
        ).fetchone()[0]


@pytest.mark.browser
@needs_chromium
@needs_poppler
@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("history", ["short", "long"])
def test_pdf_has_no_near_empty_page(tmp_path, sample_db, short_client, long_client, paper, history):
    cid = short_client if history == "short" else long_client
    pdf = write_report(sample_db, cid, tmp_path / f"r-{history}-{paper}.pdf", paper=paper)
    fills = _fills(pdf)
    assert len(fills) <= (3 if history == "short" else 5), fills
    # every page but the last is at least 60 % full, the last at least a quarter
    assert all(f >= 0.6 for f in fills[:-1]) and fills[-1] >= 0.25, fills
    text = "\n".join(_pdf_pages(pdf))
    assert re.search(r"(?<![\d.\w])-0(?![\d.])", text) is None


def test_minus_zero_pain_reads_zero(sample_db_copy):
    from pipelines.warehouse.db import write_connection
    from pipelines.warehouse.marts import rebuild_marts

    with write_connection(sample_db_copy) as con:
        vid = con.execute("SELECT min(visit_id) FROM core.visits WHERE client_id = 'C0002'").fetchone()[0]
        con.execute("UPDATE core.visits SET pain_post = -0.0 WHERE visit_id = ?", [vid])
        rebuild_marts(con)
    html = build_report_html(sample_db_copy, "C0002")
    rows = re.findall(r'<td class="num">([^<]*)</td>', strip_plotly_js(html))
    assert "0" in rows and "-0" not in rows


def test_report_has_questionnaires_and_the_practice(sample_db_copy):
    settings_file = sample_db_copy.parent / "knotwork-settings.toml"
    settings_file.write_text(
        '[practice]\nname = "Northside Trigger Point Clinic"\ntherapist = "Sam Rivera"\nphone = "+1 555 0100"\n',
        encoding="utf-8",
    )
    with read_connection(sample_db_copy) as con:
        cid, first, last = con.execute(
            "WITH ndi AS (SELECT client_id, taken_on, item_1+item_2+item_3+item_4+item_5+item_6+item_7+item_8+item_9"
            "+item_10 AS raw FROM core.outcome_measures WHERE instrument = 'NDI') "
            "SELECT client_id, first(raw ORDER BY taken_on), last(raw ORDER BY taken_on) FROM ndi GROUP BY client_id "
            "HAVING count(*) >= 2 AND count(raw) = count(*) ORDER BY client_id LIMIT 1"
        ).fetchone()
    html = build_report_html(sample_db_copy, cid)
    body = strip_plotly_js(html)
    assert "<h2>Questionnaires</h2>" in body
    assert f"Neck Disability Index</strong>: {first * 2:g} on" in body and f", {last * 2:g} on" in body
    assert "Northside Trigger Point Clinic &middot; Sam Rivera &middot; +1 555 0100" in body
    settings_file.unlink()
    assert "Northside" not in build_report_html(sample_db_copy, cid)  # nothing shown when nothing is set
