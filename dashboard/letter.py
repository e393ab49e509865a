"""The progress letter for a referring physician: one to two pages, HTML or PDF.

Clinical and concise: practice header, the client, complaint, course of care, pain (baseline →
current, status by the practice's thresholds, reliable change), function (questionnaires with
their minimal important change), ROM against norms with the measurement error, trigger point
findings with referral, treatment and home care, attendance, plan, and the thresholds' sources
in a footnote.  Numbers come from :mod:`dashboard.letter_facts`; printing reuses the report's
HTML → Chromium path (:func:`dashboard.reports.html_to_pdf`), with the same Content-Security-
Policy: the file loads nothing.  What the record lacks (no birth year, no questionnaires,
practice details not set) is said in the letter, never a failure.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd

from dashboard.letter_facts import LetterFacts, letter_facts
from dashboard.reports import CSP, MARGIN_MM, PAGE, _paper, audit_export, esc, html_to_pdf, write_document
from pipelines.clinical.settings import load_settings, settings_path_for
from pipelines.exports.record import load_record
from pipelines.warehouse.db import resolve_db_path

DASH = "\u2014"
CATEGORY_WORDS = {"improved": "improved (≥ MIC)", "unchanged": "no important change", "deteriorated": "worse (≥ MIC)"}

CSS = """
@page { margin: %(m)smm; %(size)s }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 16px; color: #1a1a1a; background: #fff;
       font-family: Helvetica, Arial, sans-serif; font-size: 14px; line-height: 1.4; }
.report { max-width: 720px; margin: 0 auto; }
.letterhead { display: flex; justify-content: space-between; gap: 16px; border-bottom: 2px solid #0072B2;
              padding-bottom: 6px; margin-bottom: 10px; }
.letterhead .practice { font-size: 16px; font-weight: bold; }
.letterhead .contact { text-align: right; color: #444; font-size: 12.5px; }
.missing { color: #A33; }
h1 { font-size: 17px; margin: 8px 0 4px 0; }
h2 { font-size: 14px; margin: 12px 0 3px 0; color: #0b3c5d; break-after: avoid; page-break-after: avoid; }
p { margin: 3px 0; }
table { border-collapse: collapse; width: 100%%; font-size: 12.5px; margin: 3px 0; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { text-align: left; padding: 2px 5px; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; white-space: nowrap; }
.keep { break-inside: avoid; page-break-inside: avoid; }
.muted { color: #555; }
ul { margin: 2px 0; padding-left: 18px; }
footer { margin-top: 12px; border-top: 1px solid #bbb; padding-top: 4px; font-size: 11px; color: #444; }
footer ol { margin: 2px 0; padding-left: 16px; }
@media print {
  body { padding: 0; font-size: 9.5pt; }
  .report { max-width: none; }
  table { font-size: 8.5pt; }
  footer { font-size: 7.5pt; }
}
"""


def fmt(x, digits: int = 1, signed: bool = False, unit: str = "") -> str:
    """A number for the letter: "—" when missing, never "-0", a real minus sign."""
    if x is None or (isinstance(x, float) and x != x):
        return DASH
    value = round(float(x), digits) + 0.0
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    if digits and text.endswith("." + "0" * digits):
        text = text[: -(digits + 1)]
    if text in ("+0", "-0"):
        text = "0"
    return text.replace("-", "\u2212") + unit


def fdate(d) -> str:
    if d is None or d is pd.NaT:
        return DASH
    d = pd.Timestamp(d)
    return f"{d.day} {d.strftime('%b %Y')}"


def _letterhead(f: LetterFacts) -> str:
    p = f.practice
    name = esc(p["name"]) if p["name"] else '<span class="missing">Practice name not set</span>'
    therapist = esc(p["therapist"]) if p["therapist"] else '<span class="missing">Therapist not set</span>'
    contact = [esc(p[k]) for k in ("address", "phone", "email") if p[k]]
    if not contact:
        contact = ['<span class="missing">No contact details set</span>']
    return (
        f'<div class="letterhead"><div><div class="practice">{name}</div><div>{therapist}</div></div>'
        f'<div class="contact">{"<br>".join(contact)}</div></div>'
    )


def _pain(f: LetterFacts) -> str:
    p = f.pain
    if p.baseline is None:
        return "<p>No pain scores before a visit are recorded.</p>"
    if p.current is None or p.change is None:
        return (
            f"<p>Baseline pain {fmt(p.baseline)}/10 (NPRS, {fdate(p.baseline_date)}); only one score so far, "
            "so there is no change to report yet.</p>"
        )
    pct = f", {fmt(p.pct_change, 0, signed=True)} %" if p.pct_change is not None else ""
    reliable = "a reliable change" if p.reliable else "within measurement error (not a reliable change)"
    out = [
        f"<p>NPRS before the visit: <strong>{fmt(p.baseline)}/10</strong> ({fdate(p.baseline_date)}) → "
        f"<strong>{fmt(p.current)}/10</strong> (current level: median of the last {p.n_level} readings, visits and "
        f"check-ins, to {fdate(p.current_date)}): change {fmt(p.change, signed=True)} "
        f"points{pct}. Status: <strong>{esc(p.status)}</strong> by the practice's thresholds¹; {reliable} "
        f"(reliable change ≥ {fmt(p.reliable_threshold)} points²).</p>"
    ]
    if p.session_mean is not None:
        out.append(
            f"<p>Within a session (just after − before): mean {fmt(p.session_mean, signed=True)} points, "
            f"95 % CI {fmt(p.session_ci[0], signed=True)} to {fmt(p.session_ci[1], signed=True)}, "
            f"n = {p.session_n} visits.</p>"
        )
    return "".join(out)


def _questionnaires(f: LetterFacts) -> str:
    q = f.questionnaires
    if len(q) == 0:
        return "<p>No questionnaires taken.</p>"
    rows = []
    for r in q.itertuples(index=False):
        verdict = CATEGORY_WORDS.get(r.category, DASH) if r.n > 1 else "baseline only"
        rows.append(
            f'<tr><td>{esc(r.name)} ({esc(r.instrument)})</td><td class="num">{fmt(r.first_score)}</td>'
            f'<td>{fdate(r.first_date)}</td><td class="num">{fmt(r.latest_score) if r.n > 1 else DASH}</td>'
            f"<td>{fdate(r.latest_date) if r.n > 1 else DASH}</td>"
            f'<td class="num">{fmt(r.change, signed=True) if r.n > 1 else DASH}</td>'
            f'<td class="num">{fmt(r.mcid)}</td><td>{esc(verdict)}</td></tr>'
        )
    return (
        '<table><thead><tr><th>Questionnaire</th><th class="num">First</th><th>Date</th>'
        '<th class="num">Latest</th><th>Date</th><th class="num">Change</th><th class="num">MIC</th>'
        f"<th>Verdict</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<p class="muted">Higher is better for PSFS and LEFS, lower for NDI, ODI and QuickDASH; NDI and ODI '
        "in % (0–100).</p>"
    )


def _rom(f: LetterFacts) -> str:
    if not f.rom:
        return "<p>No range of motion measured.</p>"
    rows = []
    for r in f.rom:
        verdict = DASH if r.real is None else ("beyond error" if r.real else "within error")
        rows.append(
            f'<tr><td>{esc(r.label)}</td><td class="num">{fmt(r.first, 0, unit="°")}</td>'
            f'<td class="num">{fmt(r.latest, 0, unit="°") if r.n > 1 else DASH}</td>'
            f'<td class="num">{fmt(r.change, 0, signed=True, unit="°")}</td>'
            f'<td class="num">{fmt(r.mdc, 0, unit="°")}</td><td>{verdict}</td>'
            f'<td class="num">{fmt(r.normal, 0, unit="°")}</td>'
            f'<td class="num">{fmt(r.pct_normal, 0, unit=" %")}</td><td class="num">{r.n}</td></tr>'
        )
    return (
        '<table><thead><tr><th>Movement (before session)</th><th class="num">First</th>'
        '<th class="num">Latest</th><th class="num">Change</th><th class="num">MDC</th><th></th>'
        '<th class="num">Norm</th><th class="num">Latest % of norm</th><th class="num">n</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _trigger_points(f: LetterFacts, limit: int = 8) -> str:
    t = f.trigger_points
    if len(t) == 0:
        return "<p>No trigger points recorded.</p>"
    rows = []
    for r in t.head(limit).itertuples(index=False):
        side = f" ({r.side})" if r.side in ("left", "right") else ""
        rows.append(
            f"<tr><td>{esc(str(r.muscle).replace('_', ' '))}{esc(side)}</td><td>{esc(r.referral_regions)}</td>"
            f'<td class="num">{r.times_found}</td><td class="num">{fmt(r.first_tenderness, 0)} → '
            f"{fmt(r.last_tenderness, 0)}</td><td>{fdate(r.last_found)}</td></tr>"
        )
    more = f'<p class="muted">{len(t) - limit} more muscle/side findings not listed.</p>' if len(t) > limit else ""
    return (
        '<table><thead><tr><th>Muscle</th><th>Referral</th><th class="num">Visits found</th>'
        '<th class="num">Tenderness (0–10) first → last</th><th>Last found</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{more}"
    )


def letter_body(f: LetterFacts, today: dt.date) -> str:
    born = f"born {f.birth_year}" if f.birth_year else '<span class="missing">birth year not recorded</span>'
    complaint = esc(f.complaint) if f.complaint else '<span class="missing">not recorded</span>'
    region = f" ({esc(f.region.replace('_', ' '))})" if f.region else ""
    parts = [
        _letterhead(f),
        f"<p>{fdate(today)}</p>",
        f"<h1>Progress report: {esc(f.name)}, {born}</h1>",
        f'<p class="muted">Client id {esc(f.client_id)}'
        + (f" · first seen {fdate(f.intake_date)}" if f.intake_date else "")
        + "</p>",
        f"<p><strong>Presenting complaint / reason for referral:</strong> {complaint}{region}</p>",
    ]
    if f.missing:
        parts.append('<p class="missing">Not recorded: ' + esc("; ".join(f.missing)) + ".</p>")
    if f.n_visits:
        gap = (
            f"; median {fmt(f.median_days_between, 0)} days between visits" if f.median_days_between is not None else ""
        )
        parts.append(
            f"<h2>Course of care and attendance</h2><p>{f.n_visits} visit{'s' if f.n_visits != 1 else ''}, "
            f"{fdate(f.first_visit)} to {fdate(f.last_visit)}{gap}. {f.n_self_reports} pain "
            f"report{'s' if f.n_self_reports != 1 else ''} from the client between visits.</p>"
        )
    else:
        parts.append("<h2>Course of care and attendance</h2><p>No visits recorded yet.</p>")
    parts.append(f'<section class="keep"><h2>Pain (0–10 numeric rating scale)</h2>{_pain(f)}</section>')
    parts.append(f'<section class="keep"><h2>Function</h2>{_questionnaires(f)}</section>')
    parts.append(f'<section class="keep"><h2>Range of motion</h2>{_rom(f)}</section>')
    parts.append(f'<section class="keep"><h2>Trigger point findings</h2>{_trigger_points(f)}</section>')
    tech = ", ".join(f"{esc(name.replace('_', ' '))} ({n})" for name, n in f.techniques) or "none recorded"
    parts.append(f"<h2>Treatment</h2><p>Techniques (visits): {tech}.</p>")
    signer = esc(f.practice["therapist"]) if f.practice["therapist"] else "The treating therapist"
    # The plan and the signature stay together: a second page never starts with "Kind regards" alone.
    parts.append(
        '<section class="keep"><h2>Plan</h2><ul>'
        + "".join(f"<li>{esc(line)}</li>" for line in f.plan)
        + f"</ul><p>Kind regards,<br>{signer}</p></section>"
    )
    notes = "".join(f"<li>{esc(s)}</li>" for s in f.sources)
    parts.append(
        f'<footer class="keep"><ol>{notes}</ol><p>MIC = minimal important change; MDC = minimal '
        "detectable change. Observational practice records, not a controlled study.</p></footer>"
    )
    return "\n".join(parts)


def build_letter_html(
    db, client_id: str, settings: dict | None = None, today: dt.date | None = None, paper: str | None = None
) -> str:
    path = resolve_db_path(db)
    if settings is None:
        settings = load_settings(settings_path_for(path))
    today = today or dt.date.today()
    facts = letter_facts(load_record(path, client_id), settings, today)
    size = f"size: {_paper(paper)};" if paper else ""
    return PAGE.substitute(
        csp=CSP,
        title=esc(f"Progress letter \u2013 {facts.name}"),
        css=CSS % {"m": MARGIN_MM, "size": size},
        body=letter_body(facts, today),
    )


def write_letter(db, client_id: str, out, paper: str | None = None, actor: str | None = None) -> Path:
    """Write the letter to ``out`` (``.html`` or ``.pdf``) and audit the export."""
    return write_document(db, client_id, out, build_letter_html, paper, actor, document="physician letter")


def letter_pdf_bytes(db, client_id: str, paper: str = "A4", actor: str | None = None) -> bytes:
    with tempfile.TemporaryDirectory(prefix="knotwork-letter-") as tmp:
        out = Path(tmp) / "letter.pdf"
        html_to_pdf(build_letter_html(db, client_id, paper=paper), out, paper)
        data = out.read_bytes()
    audit_export(db, client_id, f"PDF ({_paper(paper)})", actor, document="physician letter")
    return data
