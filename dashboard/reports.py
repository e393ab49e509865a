"""The client's progress report: one self-contained HTML file, or a PDF printed from it.

* **HTML** (:func:`build_report_html`): everything inline.  plotly.js is embedded once
  (``include_plotlyjs=True`` on the first chart, ``False`` after), every chart has
  ``showSendToCloud: False`` and ``displaylogo: False`` (and no mode bar at all), there is no
  ``<script src>``, no stylesheet, font or image from anywhere, and a Content-Security-Policy
  ``<meta>`` (``default-src 'none'``) makes the browser refuse any network request the file
  might still try.  Every value from the database goes through :func:`html.escape`.
* **PDF** (:func:`html_to_pdf`): headless Chromium prints the same HTML, through Playwright's
  ``page.pdf`` when Playwright is installed (every non-``file:`` request is aborted), else
  through ``chromium --headless --print-to-pdf``.  Charts have a fixed width
  (:data:`dashboard.charts.client.PRINT_WIDTH` = 660 px, inside the 680 px printable width of
  A4 with 15 mm margins; Letter is wider), each chart block has ``break-inside: avoid``, the
  visit table repeats its header and never splits a row, and ``@page`` sets the margins.

Only the one client's data is read (``dashboard.client_facing.data.load_client``).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from string import Template

import pandas as pd
import plotly.io as pio

from dashboard.body_frames import CLIENT_LEGEND, at_visit, start_and_now, visit_regions, where_words
from dashboard.charts import client as charts
from dashboard.charts.body import body_chart
from dashboard.client_facing.data import ClientData, load_client
from dashboard.client_facing.view import ClientSummary, summarise
from dashboard.client_facing.words import fmt_date, fmt_pain, technique_words
from dashboard.components.response_words import client_sentences
from dashboard.metrics import cite
from pipelines.clinical.outcomes import classify_outcomes, outcome_summary
from pipelines.clinical.settings import load_settings, settings_path_for
from pipelines.exports.record import load_questionnaires
from pipelines.techniques import client_response
from pipelines.warehouse.db import resolve_db_path

PAPERS = {"A4": "A4", "LETTER": "Letter"}
MARGIN_MM = 15
PLOTLY_CONFIG = {
    "showSendToCloud": False,
    "displaylogo": False,
    "displayModeBar": False,
    "responsive": False,
    "scrollZoom": False,
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The report loads nothing: scripts and styles are inline, images are data: URIs.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)


class ReportError(RuntimeError):
    pass


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="$csp">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>$title</title>
<style>
$css
</style>
</head>
<body>
<main class="report">
$body
</main>
</body>
</html>
""")

CSS = """
@page { margin: %(m)smm; %(size)s }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; padding: 24px 16px; color: #222; background: #fff;
       font-family: Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.45; }
.report { max-width: 680px; margin: 0 auto; }
header { border-bottom: 3px solid #0072B2; padding-bottom: 8px; margin-bottom: 14px; }
h1 { font-size: 26px; margin: 0 0 2px 0; }
h2 { font-size: 18px; margin: 22px 0 6px 0; color: #0b3c5d; break-after: avoid; page-break-after: avoid; }
.meta { color: #555; margin: 0; }
.headline { border-left: 6px solid #7F7F7F; background: #f4f4f4; padding: 10px 14px; margin: 10px 0 8px 0;
            font-size: 17px; break-inside: avoid; page-break-inside: avoid; }
.headline .tag { display: block; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: #555; }
.tone-good { border-color: #009E73; background: #eaf7f2; }
.tone-steady { border-color: #0072B2; background: #eaf2f9; }
.tone-concern { border-color: #D55E00; background: #fbefe6; }
.chart { break-inside: avoid; page-break-inside: avoid; margin: 10px 0 4px 0; width: %(w)spx; max-width: 100%%; }
.keep { break-inside: avoid; page-break-inside: avoid; }
ul { padding-left: 20px; margin: 6px 0; }
li { margin: 3px 0; }
table { border-collapse: collapse; width: 100%%; font-size: 13px; margin: 6px 0; }
table.visits { table-layout: fixed; }
.tail table.visits { margin-top: 0; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.date { white-space: nowrap; }
.muted { color: #666; }
footer { margin-top: 14px; border-top: 1px solid #ccc; padding-top: 6px; font-size: 12.5px; color: #444; }
@media print {
  body { padding: 0; font-size: 10.5pt; }
  .report { max-width: none; }
  h1 { font-size: 20pt; }
  h2 { font-size: 13pt; }
  .headline { font-size: 12pt; }
  table { font-size: 9pt; }
  footer { font-size: 8.5pt; }
  /* Charts print at 85 per cent: the tall ROM block then fits beside the other sections instead of
     pushing them onto a page of their own (page fill is tested on A4 and Letter). */
  .chart { zoom: 0.85; }
}
"""

TONE_TAG = {
    "good": "Good news",
    "steady": "Where things stand",
    "concern": "Worth talking about",
    "none": "Getting started",
}


def _chart_html(fig, first: bool, div_id: str) -> str:
    inner = pio.to_html(
        fig,
        include_plotlyjs=True if first else False,
        full_html=False,
        config=PLOTLY_CONFIG,
        default_width=f"{charts.PRINT_WIDTH}px",
        div_id=div_id,
    )
    return f'<div class="chart">{inner}</div>'


def _visit_rows(data: ClientData) -> str:
    rows = []
    for _, v in data.visits.sort_values(["visit_date", "visit_number"]).iterrows():
        names = ", ".join(sorted(technique_words(t)[0] for t in v["techniques"])) or "–"
        pre = fmt_pain(None if v["pain_pre"] != v["pain_pre"] else float(v["pain_pre"]))
        post = fmt_pain(None if v["pain_post"] != v["pain_post"] else float(v["pain_post"]))
        rows.append(
            f'<tr><td class="num">{esc(int(v["visit_number"]))}</td><td class="date">{esc(fmt_date(v["visit_date"]))}</td>'
            f'<td class="num">{esc(pre)}</td><td class="num">{esc(post)}</td><td>{esc(names)}</td></tr>'
        )
    return rows


# The last visits travel with the closing notes, so the final page never holds the notes alone.
VISIT_TAIL = 4
VISIT_COLS = (
    '<colgroup><col style="width:5%"><col style="width:14%"><col style="width:17%">'
    '<col style="width:11%"><col style="width:53%"></colgroup>'
)
VISIT_HEAD = (
    '<thead><tr><th class="num">#</th><th>Date</th><th class="num">Pain when you arrived</th>'
    '<th class="num">Just after</th><th>What we did</th></tr></thead>'
)


def _visit_table(rows: list[str], footer: str) -> str:
    """The visit table and the closing notes; its last rows and the notes are one unbreakable block."""
    if not rows:
        return footer
    head, tail = rows[:-VISIT_TAIL], rows[-VISIT_TAIL:]
    table = lambda body, thead="": f'<table class="visits">{VISIT_COLS}{thead}<tbody>{"".join(body)}</tbody></table>'
    if not head:
        return f'<h2>Visit by visit</h2><div class="keep">{table(tail, VISIT_HEAD)}{footer}</div>'
    return f'<h2>Visit by visit</h2>{table(head, VISIT_HEAD)}<div class="keep tail">{table(tail)}{footer}</div>'


def _section(title: str, inner: list[str]) -> str:
    return f'<section class="keep"><h2>{esc(title)}</h2>' + "\n".join(inner) + "</section>"


QUESTIONNAIRE_VERDICT = {
    "improved": "a change most people notice",
    "unchanged": "about the same (less than the change most people notice)",
    "deteriorated": "worse, by more than the change most people notice",
}


def _questionnaire_items(q: pd.DataFrame) -> list[str]:
    """One plain sentence per questionnaire: first and latest score, direction, verdict, threshold."""
    items = []
    for r in q.itertuples(index=False):
        better = "higher is better" if r.higher_is_better else "lower is better"
        if r.n < 2:
            items.append(
                f"<li><strong>{esc(r.name)}</strong>: {esc(fmt_pain(round(r.first_score, 1)))} on "
                f"{esc(fmt_date(r.first_date))} ({better}). Taking it again later shows the change.</li>"
            )
            continue
        verdict = QUESTIONNAIRE_VERDICT.get(r.category, "")
        mic = f" (that is a change of at least {fmt_pain(r.mcid)})" if r.category == "improved" and r.mcid else ""
        items.append(
            f"<li><strong>{esc(r.name)}</strong>: {esc(fmt_pain(round(r.first_score, 1)))} on "
            f"{esc(fmt_date(r.first_date))}, {esc(fmt_pain(round(r.latest_score, 1)))} on "
            f"{esc(fmt_date(r.latest_date))} ({better}): {esc(verdict)}{esc(mic)}.</li>"
        )
    return items


def _practice_line(practice: dict | None) -> str:
    """The practice's name, therapist and contact under the title (only what is set)."""
    p = practice or {}
    parts = [str(p.get(k, "") or "").strip() for k in ("name", "therapist", "phone", "email", "address")]
    parts = [x for x in parts if x]
    return f'<p class="meta practice">{" &middot; ".join(esc(x) for x in parts)}</p>' if parts else ""


def _body_section(data: ClientData) -> list[str]:
    """Where it hurt at the start and where it hurts now: sentences and the two body maps side by side."""
    words = where_words(data.visits, data.trigger_points)
    if not words:
        return []
    regions, half = visit_regions(data.visits), charts.PRINT_WIDTH // 2 - 4
    maps = []
    for i, (label, vid) in enumerate(start_and_now(data.visits, data.trigger_points)):
        fig = body_chart(
            at_visit(regions, vid), at_visit(data.trigger_points, vid), title=label, show_scales=False, height=380
        ).update_layout(width=half)
        maps.append(
            pio.to_html(
                fig,
                include_plotlyjs=False,
                full_html=False,
                config=PLOTLY_CONFIG,
                default_width=f"{half}px",
                div_id=f"kw-body-{i}",
            )
        )
    return [
        _section(
            "Where it hurts",
            [
                "<ul>" + "".join(f"<li>{esc(w)}</li>" for w in words) + "</ul>",
                '<div class="chart" style="display:flex;gap:8px">' + "".join(maps) + "</div>",
                f'<p class="muted">{esc(CLIENT_LEGEND)}</p>',
            ],
        )
    ]


def report_body(
    data: ClientData,
    summary: ClientSummary,
    today: dt.date,
    questionnaires: pd.DataFrame | None = None,
    practice: dict | None = None,
    helps: list[str] = (),
) -> str:
    parts: list[str] = []
    span = ""
    if summary.n_visits:
        span = (
            f"{summary.n_visits} visit{'s' if summary.n_visits != 1 else ''}, "
            f"{fmt_date(summary.first_visit)} to {fmt_date(summary.last_visit)}"
        )
    parts.append(
        f"<header><h1>Your progress</h1>"
        f'<p class="meta"><strong>{esc(summary.name)}</strong>'
        + (
            f" &middot; {esc(data.primary_complaint or summary.region.capitalize())}"
            if (data.primary_complaint or summary.region)
            else ""
        )
        + (f" &middot; {esc(span)}" if span else "")
        + f'</p>{_practice_line(practice)}<p class="meta">Report made on {esc(fmt_date(today))}</p></header>'
    )
    parts.append(
        f'<div class="headline tone-{esc(summary.tone)}"><span class="tag">{esc(TONE_TAG.get(summary.tone, ""))}</span>'
        f"{esc(summary.headline)}</div>"
    )
    for line in (summary.session_line, summary.checkin_line):
        if line:
            parts.append(f"<p>{esc(line)}</p>")

    # Each section is one unbreakable block (heading, chart and caption stay together on a page).
    # Order: the pain chart and the short sections fill the first page; the tall, unbreakable ROM
    # chart then starts the second one (a block placed later would leave a half-empty page behind
    # it), and the tables, whose rows may split over pages, come last.
    pain = [
        _chart_html(
            charts.pain_chart(data, summary, width=charts.PRINT_WIDTH, title=None), first=True, div_id="kw-pain-chart"
        )
    ]
    if summary.goal_level is not None:
        pain.append(
            f'<p class="muted">The green band is where your usual pain would count as \u201cmuch improved\u201d '
            f"compared with your first visit ({esc(fmt_pain(summary.baseline))} out of 10).</p>"
        )
    parts.append(_section("Pain", pain))
    parts.extend(_body_section(data))

    if questionnaires is not None and len(questionnaires):
        parts.append(_section("Questionnaires", ["<ul>" + "".join(_questionnaire_items(questionnaires)) + "</ul>"]))

    if summary.homecare:
        items = "".join(
            f'<li><strong>{esc(text)}</strong> <span class="muted">(from {esc(fmt_date(d))})</span></li>'
            for d, text in summary.homecare
        )
        parts.append(_section("Your home care", [f"<ul>{items}</ul>"]))
    else:
        parts.append(_section("Your home care", ['<p class="muted">No home care has been written down yet.</p>']))

    rom_fig = charts.rom_chart(
        data, width=charts.PRINT_WIDTH, title="Measured at the start of each visit", summary=summary
    )
    if summary.rom_lines or rom_fig is not None:
        # The heading travels with the (tall, unbreakable) chart; the sentences follow as a list
        # that may continue on the next page.
        chart = (
            []
            if rom_fig is None
            else [
                _chart_html(rom_fig, first=False, div_id="kw-rom-chart"),
                f'<p class="muted">{esc(charts.ROM_CAPTION)}</p>',
            ]
        )
        parts.append(_section("How far you can move", chart))
        if summary.rom_lines:
            parts.append("<ul>" + "".join(f"<li>{esc(r.text)}</li>" for r in summary.rom_lines) + "</ul>")

    if summary.techniques:
        rows = "".join(
            f'<tr><td>{esc(name)}</td><td>{esc(what)}</td><td class="num">{esc(n)}</td></tr>'
            for name, what, n in summary.techniques
        )
        parts.append(
            "<h2>What we did</h2>"
            '<table><thead><tr><th>Technique</th><th>What it is</th><th class="num">Visits</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )

    if helps:  # this client's own technique response, in their words (pipelines.techniques.client_response)
        parts.append(
            _section(
                "What seems to help you",
                [
                    "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in helps) + "</ul>",
                    '<p class="muted">Worked out from your own visits; a guide for the two of you, not a rule.</p>',
                ],
            )
        )

    footer = (
        "<footer><p><strong>How to read this report.</strong> Pain is on a scale from 0 (none) to 10 "
        f"(the worst you can imagine). {esc(summary.rule_text)} Measurements of how far you can move vary by a few "
        "degrees from day to day, so a change only counts when it is bigger than that (5° for arms and legs measured "
        "by the same person with a goniometer, 10° for the spine or other instruments; Boone 1978, Fletcher &amp; "
        "Bandy 2008)."
        + (
            " A questionnaire change counts as one most people notice when it reaches the minimal important change "
            "for that questionnaire (" + esc("; ".join(_questionnaire_sources(questionnaires))) + ")."
            if questionnaires is not None and len(questionnaires)
            else ""
        )
        + "</p><p>This report was made on your therapist\u2019s computer for you alone. Everything it needs "
        "is inside this file: it loads nothing from the internet and sends nothing anywhere.</p></footer>"
    )
    parts.append(_visit_table(_visit_rows(data), footer))
    return "\n".join(parts)


def _questionnaire_sources(q: pd.DataFrame) -> list[str]:
    return [
        f"{r.instrument} {fmt_pain(r.mcid)}: {cite(r.mcid_source)}" for r in q.itertuples(index=False) if r.mcid_source
    ]


def build_report_html(
    db, client_id: str, settings: dict | None = None, today: dt.date | None = None, paper: str | None = None
) -> str:
    """The complete, self-contained report for ``client_id``.  ``paper`` ('A4' or 'Letter')
    adds an ``@page size`` for printing; the default lets the reader's printer choose."""
    path = resolve_db_path(db)
    if settings is None:
        settings = load_settings(settings_path_for(path))
    data = load_client(path, client_id)
    summary = summarise(data, settings, today or dt.date.today())
    scores = load_questionnaires(path, client_id).assign(client_id=client_id)
    questionnaires = outcome_summary(classify_outcomes(scores, settings), settings) if len(scores) else None
    size = f"size: {_paper(paper)};" if paper else ""
    css = CSS % {"m": MARGIN_MM, "size": size, "w": charts.PRINT_WIDTH}
    return PAGE.substitute(
        csp=CSP,  # a constant without double quotes
        title=esc(f"Progress report \u2013 {data.display_name}"),
        css=css,
        body=report_body(
            data, summary, today or dt.date.today(), questionnaires, settings.get("practice"), _helps(path, client_id)
        ),
    )


def _helps(path: Path, client_id: str) -> list[str]:
    fit = client_response.fit_practice(client_response.load_visits(path))
    return client_sentences(client_response.client_response(fit, client_id).to_dict("records"))


def _paper(paper: str | None) -> str:
    key = (paper or "A4").strip().upper()
    if key not in PAPERS:
        raise ReportError(f"paper must be A4 or Letter, got {paper!r}")
    return PAPERS[key]


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def chromium_path() -> str | None:
    env = os.environ.get("KNOTWORK_CHROMIUM")
    if env:
        return env
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name) if not name.startswith("/") else (name if os.path.exists(name) else None)
        if found:
            return found
    return None


def html_to_pdf(html_text: str, out: Path, paper: str = "A4", timeout_s: float = 60.0) -> Path:
    """Print ``html_text`` to ``out`` with headless Chromium (Playwright if available)."""
    paper = _paper(paper)
    exe = chromium_path()
    if exe is None:
        raise ReportError("PDF reports need Chromium (Debian: apt-get install chromium); HTML reports work without it")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="knotwork-report-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(html_text, encoding="utf-8")
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            _pdf_with_cli(exe, src, out, timeout_s)
        else:
            _pdf_with_playwright(exe, src, out, paper, timeout_s)
    if not out.exists() or out.stat().st_size == 0:
        raise ReportError("Chromium did not write the PDF")
    return out


def _pdf_with_playwright(exe: str, src: Path, out: Path, paper: str, timeout_s: float) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith(("file:", "data:", "blob:")) else route.abort()
                ),
            )
            page.goto(src.as_uri(), wait_until="load", timeout=timeout_s * 1000)
            n_charts = page.locator(".chart").count()
            if n_charts:
                page.wait_for_function(
                    "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n && "
                    "document.querySelectorAll('.js-plotly-plot').length >= n",
                    arg=n_charts,
                    timeout=timeout_s * 1000,
                )
            page.emulate_media(media="print")
            margin = f"{MARGIN_MM}mm"
            page.pdf(
                path=str(out),
                format=paper,
                print_background=True,
                prefer_css_page_size=False,
                margin={"top": margin, "bottom": margin, "left": margin, "right": margin},
            )
        finally:
            browser.close()


def _pdf_with_cli(exe: str, src: Path, out: Path, timeout_s: float) -> None:
    cmd = [
        exe,
        "--headless",
        *CHROMIUM_ARGS,
        "--no-pdf-header-footer",
        "--virtual-time-budget=15000",
        f"--print-to-pdf={out}",
        src.as_uri(),
    ]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout_s)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise ReportError(f"Chromium could not print the report ({exc})") from exc


def report_pdf_bytes(
    db, client_id: str, paper: str = "A4", settings: dict | None = None, actor: str | None = None
) -> bytes:
    with tempfile.TemporaryDirectory(prefix="knotwork-pdf-") as tmp:
        out = Path(tmp) / "report.pdf"
        html_to_pdf(build_report_html(db, client_id, settings, paper=paper), out, paper)
        data = out.read_bytes()
    audit_export(db, client_id, f"PDF ({_paper(paper)})", actor)
    return data


def report_html_download(db, client_id: str, settings: dict | None = None, actor: str | None = None) -> str:
    """The HTML report for a download button: built, then its export audited."""
    text = build_report_html(db, client_id, settings)
    audit_export(db, client_id, "HTML", actor)
    return text


def audit_export(
    db, client_id: str, what: str, actor: str | None = None, out: Path | None = None, document: str = "progress report"
) -> bool:
    """One ``export`` row in the audit log.  An export only reads, so this is a short write of
    its own, made *after* the file exists: if an import holds the database the file is still
    delivered and the row waits in the queue (pipelines.warehouse.audit.record_soon).  False = queued."""
    from pipelines.warehouse import audit

    where = f" to {out}" if out is not None else " (downloaded)"
    return audit.record_soon(
        db,
        "export",
        "report",
        client_id,
        client_id=client_id,
        actor=actor,
        detail=f"{document} of {client_id}, {what}{where}",
    )


def write_document(
    db,
    client_id: str,
    out: str | Path,
    build,
    paper: str | None = None,
    actor: str | None = None,
    document: str = "progress report",
) -> Path:
    """Write ``build(db, client_id, paper=…)``'s HTML to ``out``: ``.html`` as is, ``.pdf`` printed by
    Chromium (by suffix); then audit the export as ``document``."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(build(db, client_id, paper=paper), encoding="utf-8")
        what = "HTML"
    elif suffix == ".pdf":
        paper = paper or "A4"
        html_to_pdf(build(db, client_id, paper=paper), out, paper)
        what = f"PDF ({_paper(paper)})"
    else:
        raise ReportError(f"--out must end in .html or .pdf, got {out.name!r}")
    audit_export(db, client_id, what, actor, out=out.resolve(), document=document)
    return out


def write_report(db, client_id: str, out: str | Path, paper: str | None = None, actor: str | None = None) -> Path:
    """Write the report to ``out``: ``.html`` or ``.pdf`` (by suffix), and audit the export."""
    return write_document(db, client_id, out, build_report_html, paper, actor)


def report_filename(display_name: str, suffix: str, today: dt.date | None = None, prefix: str = "progress") -> str:
    """A safe download name like ``progress-Selma-G-2026-11-23.pdf`` (``letter-…`` for the physician letter)."""
    safe = "".join(ch if ch.isalnum() else "-" for ch in display_name).strip("-")
    while "--" in safe:
        safe = safe.replace("--", "-")
    return f"{prefix}-{safe or 'client'}-{(today or dt.date.today()).isoformat()}.{suffix}"
