"""Names, complaints and notes reach the page through Markdown only escaped (``dashboard.text.md``).

Two checks: a scan of every page's source for a record field passed to a Markdown-rendering call
without ``md(…)``, and a client whose name and complaint are Markdown payloads (an image that
would be fetched, bold, a link) shown as plain text on the therapist and client pages.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dashboard.text import md
from tests.conftest import write_csv

ROOT = Path(__file__).resolve().parents[1]
PAGES = (
    sorted((ROOT / "dashboard" / "app_pages").glob("*.py"))
    + sorted((ROOT / "dashboard" / "components").glob("*.py"))
    + [
        ROOT / "dashboard" / "client_facing" / "page.py",
        ROOT / "dashboard" / "access.py",
        ROOT / "dashboard" / "page_parts.py",
        ROOT / "dashboard" / "streamlit_app.py",
    ]
)
# Streamlit calls whose text (first argument or label=) is rendered as Markdown.
MARKDOWN_CALLS = {
    "markdown",
    "write",
    "caption",
    "info",
    "warning",
    "success",
    "error",
    "title",
    "header",
    "subheader",
    "page_link",
    "expander",
    "toast",
    "button",
    "checkbox",
    "toggle",
    "radio",
    "text_input",
    "text_area",
    "selectbox",
    "multiselect",
    "metric",
    "popover",
    "link_button",
    "download_button",
    "form_submit_button",
}
# What a record field looks like in the code: a client's name or complaint, a note, a file's or mapping's name.
FIELD = re.compile(r"name|complaint|note|description|\bfile\b|\['file'\]|comment", re.IGNORECASE)
# Sentences the pages build from numbers and fixed words (their names merely contain "note").
BUILT_TEXT = {
    "source_note",
    "'; '.join(notes)",
    "'; '.join(res.notes)",
    "'\\n'.join((f'- {note}' for note in (*METHOD_NOTES, *rep.caveats)))",
    "form_spec.note",
}
SAFE = re.compile(r"^(md|len|int|float|fmt_date|KIND_LABELS\[.*\]|charts\.pretty)\(|file_name|_names\b")


def _texts(call: ast.Call) -> list[ast.expr]:
    """The arguments of a call that Streamlit renders as Markdown: the first, and label=/help=."""
    out = list(call.args[:1])
    if isinstance(call.func, ast.Attribute) and call.func.attr == "page_link":
        out = []
    out += [k.value for k in call.keywords if k.arg in ("label", "help", "body")]
    return out


def _unescaped(expr: ast.expr) -> list[str]:
    """Source of each record field inside ``expr`` that is not wrapped in md(…)."""
    if isinstance(expr, ast.JoinedStr):
        found = []
        for part in expr.values:
            if isinstance(part, ast.FormattedValue):
                found += _unescaped(part.value)
        return found
    if isinstance(expr, ast.BinOp):
        return _unescaped(expr.left) + _unescaped(expr.right)
    if isinstance(expr, ast.IfExp):
        return _unescaped(expr.body) + _unescaped(expr.orelse)
    if isinstance(expr, ast.Constant):
        return []
    src = ast.unparse(expr)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "md":
        return []
    return [src] if FIELD.search(src) and not SAFE.search(src) and src not in BUILT_TEXT else []


def unescaped_uses(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MARKDOWN_CALLS:
            for expr in _texts(node):
                hits += [f"{path.relative_to(root)}:{node.lineno}: {src}" for src in _unescaped(expr)]
    return hits


def test_no_page_passes_a_record_field_to_markdown_unescaped():
    hits = [h for page in PAGES for h in unescaped_uses(page)]
    assert hits == []


def test_the_scan_catches_an_unescaped_name(tmp_path):
    bad = tmp_path / "page.py"
    bad.write_text(
        'import streamlit as st\nst.caption(f"{row.display_name} ({n})")\n'
        'st.page_link("p.py", label=f"See {names[c]}")\nst.info(note)\nst.write(f"ok {md(name)}")\n'
    )
    assert [h.split(": ", 1)[1] for h in unescaped_uses(bad, tmp_path)] == ["row.display_name", "names[c]", "note"]


@pytest.mark.parametrize(
    "text, shown",
    [
        ("![x](http://198.51.100.7/p.png)", r"\!\[x\]\(http\://198\.51\.100\.7/p\.png\)"),
        ("**Ana** <b>", r"\*\*Ana\*\* \<b\>"),
        ("O'Neil", "O'Neil"),
        (None, "—"),
        (float("nan"), "—"),
        ("two\n\n# lines", r"two \# lines"),
    ],
)
def test_md_escapes_everything_markdown_acts_on(text, shown):
    assert md(text) == shown


# --- in a real browser: the payload is text, and nothing is fetched ----------------------------


class _Beacon:
    """A local web server that counts what the browser asks it for (a Markdown image would)."""

    def __init__(self) -> None:
        import http.server
        import threading

        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def hostile_practice(tmp_path: Path, beacon_port: int) -> tuple[Path, str, str]:
    import datetime as dt

    from pipelines.ingest.importer import ingest_files

    name = f"![x](http://127.0.0.1:{beacon_port}/name.png)"
    complaint = f"**Neck** [see](http://127.0.0.1:{beacon_port}/link) ![y](http://127.0.0.1:{beacon_port}/c.png)"
    d = tmp_path / "csv"
    d.mkdir()
    day = dt.date.today() - dt.timedelta(days=7)
    files = [
        write_csv(
            d, "clients.csv", f'client_id,display_name,primary_complaint,status\nH1,"{name}","{complaint}",active\n'
        ),
        write_csv(d, "visits.csv", f"visit_id,client_id,visit_date,pain_pre,pain_post\nV1,H1,{day},6,4\n"),
    ]
    db = tmp_path / "hostile.duckdb"
    reports = ingest_files(files, db=db)
    assert all(r.error is None and r.rejected == 0 for r in reports), [(r.error, r.rejects) for r in reports]
    return db, name, complaint


@pytest.mark.browser
def test_a_markdown_name_shows_as_text_and_fetches_nothing(tmp_path):
    from tests.test_e2e_browser import BROWSER_ARGS, CHROMIUM, wait_for_app
    from tests.test_security_web import serve_db

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    from pipelines.sharing.links import create_link

    beacon = _Beacon()
    try:
        db, name, complaint = hostile_practice(tmp_path, beacon.port)
        with serve_db(db, tmp_path) as port:
            link = create_link("H1", db=db, base_url=f"http://127.0.0.1:{port}/")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
                try:
                    page = browser.new_page()
                    page.goto(f"http://127.0.0.1:{port}/client?client=H1")
                    wait_for_app(page)
                    text = page.inner_text("[data-testid=stMain]")
                    assert complaint in text  # the complaint as typed, stars and brackets included
                    page.goto(f"http://127.0.0.1:{port}/client")
                    wait_for_app(page)
                    assert f"{name} (H1)" in page.inner_text("[data-testid=stMain]")  # "Seen recently" link
                    page.goto(f"http://127.0.0.1:{port}/practice")
                    wait_for_app(page)
                    page.goto(link.url)  # the client's own view
                    wait_for_app(page)
                    assert name in page.inner_text("[data-testid=stMain]")
                    assert page.locator("[data-testid=stMain] img").count() == 0
                finally:
                    browser.close()
        assert beacon.hits == []
    finally:
        beacon.close()
