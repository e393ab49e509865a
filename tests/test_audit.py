"""The practice audit log: every audited action writes exactly one row, with the right actor.

Actions: import (``ingest_files`` and ``knotwork ingest``), form add/edit/delete (Python and the
Clients page), report export (``knotwork report``, the sharing page's downloads), private link
made and ended (CLI and sharing page), backup and restore, password set and removed.  A share
token (or its hash) never appears in the log.  An export whose audit row meets a busy database
still happens, and the row is written later with its original time.  The Records page shows the
log as stored, filters it, and its "Back up now" makes a backup that restores to the same data.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dashboard.reports import chromium_path, report_html_download, report_pdf_bytes
from pipelines.entry import forms as entry
from pipelines.ingest.importer import ingest_files
from pipelines.sharing.links import create_link, revoke
from pipelines.warehouse import audit
from pipelines.warehouse.backup import list_backups, restore
from tests.conftest import SAMPLE
from tests.sharing_helpers import app_test
from tests.test_backup import every_table

CLI_ACTOR = f"{getpass.getuser()} (command line)"
PY_ACTOR = f"{getpass.getuser()} (Python)"
CLIENT = "C0002"


@pytest.fixture
def db(sample_db_copy):
    return sample_db_copy


def rows(db, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def last_id(db) -> int:
    return rows(db, "SELECT coalesce(max(audit_id), 0) FROM meta.audit")[0][0]


def new_rows(db, after: int) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(
            "SELECT action, kind, key, actor, client_id, detail, CAST(before AS VARCHAR) AS before, "
            'CAST(after AS VARCHAR) AS after, "at" FROM meta.audit WHERE audit_id > ? ORDER BY audit_id',
            [after],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def knotwork(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "knotwork", *args], capture_output=True, text=True, input=stdin)


# ---------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------


def test_each_imported_file_writes_one_row_with_its_counts_and_actor(db, tmp_path):
    start = last_id(db)
    fixed = tmp_path / "visits_fix.csv"
    fixed.write_text(
        "visit_id,client_id,visit_date,pain_pre,pain_post\nX-1,C0001,2026-11-02,6,3\nX-2,NOBODY,2026-11-02,5,4\n",
        encoding="utf-8",
    )
    reports = ingest_files([SAMPLE / "clients.csv", fixed], db=db, actor="therapist (dashboard)")
    got = new_rows(db, start)
    assert [(r["action"], r["kind"], r["key"], r["actor"]) for r in got] == [
        ("import", rep.kind, str(rep.import_id), "therapist (dashboard)") for rep in reports
    ]
    imports = rows(
        db,
        "SELECT import_id, rows_read, inserted, updated, unchanged, rejected FROM raw.imports "
        "WHERE import_id > ? ORDER BY import_id",
        [reports[0].import_id - 1],
    )
    for r, (_, read, ins, upd, same, rej) in zip(got, imports):
        assert json.loads(r["after"]) | {"path": None} == {
            "path": None,
            "rows_read": read,
            "inserted": ins,
            "updated": upd,
            "unchanged": same,
            "rejected": rej,
        }
    assert got[1]["detail"] == "visits_fix.csv: 2 rows read: 1 loaded, 0 updated, 0 unchanged, 1 rejected"
    assert got[0]["detail"].startswith("clients.csv: 40 rows read: 0 loaded, 0 updated, 40 unchanged")


def test_an_unreadable_file_and_a_failed_import_leave_no_row(db, tmp_path):
    start = last_id(db)
    bad = tmp_path / "nothing.csv"
    bad.write_bytes(b"")
    reports = ingest_files([bad], db=db, kind="visits")
    assert reports[0].error
    assert new_rows(db, start) == []


def test_cli_import_is_recorded_as_the_computer_user_on_the_command_line(db, tmp_path):
    start = last_id(db)
    done = knotwork("ingest", str(SAMPLE / "visits.csv"), "--db", str(db))
    assert done.returncode == 0, done.stderr
    got = new_rows(db, start)
    assert [(r["action"], r["kind"], r["actor"]) for r in got] == [("import", "visits", CLI_ACTOR)]


# ---------------------------------------------------------------------------
# Forms
# ---------------------------------------------------------------------------


def test_each_form_add_edit_delete_writes_one_row_with_the_actor(db):
    who = "therapist (dashboard)"
    start = last_id(db)
    client = entry.load_client(CLIENT, db)
    client.notes = "prefers mornings"
    entry.save_client(client, db, editing=True, actor=who)
    visit = entry.VisitEntry(
        client_id=CLIENT, visit_date=dt.date(2026, 11, 20), pain_pre=6, pain_post=3, techniques=["trigger_point"]
    )
    saved = entry.save_visit(visit, db, actor=who)
    entry.delete_visit(saved.key, db, actor=who)
    q = entry.QuestionnaireEntry(
        client_id=CLIENT, taken_on=dt.date(2026, 11, 20), instrument="NDI", items=[1, 2, 1, 0, 2, 1, 0, 1, 2, 1]
    )
    entry.save_questionnaire(q, db, actor=who)
    entry.delete_questionnaire(CLIENT, dt.date(2026, 11, 20), "NDI", db)  # no actor given: Python code
    got = new_rows(db, start)
    assert [(r["action"], r["kind"], r["actor"], r["client_id"]) for r in got] == [
        ("update", "clients", who, CLIENT),
        ("insert", "visits", who, CLIENT),
        ("delete", "visits", who, CLIENT),
        ("insert", "outcome_measures", who, CLIENT),
        ("delete", "outcome_measures", PY_ACTOR, CLIENT),
    ]
    assert audit.describe_change(got[0]["before"], got[0]["after"]) == "notes: (empty) → prefers mornings"


def test_adding_a_client_on_the_clients_page_is_recorded_as_the_dashboard(db, monkeypatch):
    at = app_test(db, monkeypatch, run=False)
    at.switch_page("app_pages/clients.py")
    at.run()
    start = last_id(db)
    at.text_input(key="cl_name_0_new").set_value("Noor H.")
    at.button(key="cl_save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    got = new_rows(db, start)
    assert [(r["action"], r["kind"], r["actor"]) for r in got] == [("insert", "clients", audit.DASHBOARD)]


# ---------------------------------------------------------------------------
# Report exports
# ---------------------------------------------------------------------------


def test_cli_report_export_writes_one_row(db, tmp_path):
    start = last_id(db)
    out = tmp_path / "r.html"
    done = knotwork("report", CLIENT, "--out", str(out), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert out.exists()
    got = new_rows(db, start)
    assert [(r["action"], r["kind"], r["key"], r["client_id"], r["actor"]) for r in got] == [
        ("export", "report", CLIENT, CLIENT, CLI_ACTOR)
    ]
    assert got[0]["detail"] == f"progress report of {CLIENT}, HTML to {out.resolve()}"


@pytest.mark.browser
def test_the_sharing_pages_downloads_write_one_row_each(db):
    # What the page's download buttons call (dashboard/app_pages/sharing.py), built on click.
    start = last_id(db)
    html = report_html_download(db, CLIENT, actor=audit.DASHBOARD)
    assert html.startswith("<!DOCTYPE html>")
    expected = [("export", CLIENT, audit.DASHBOARD, f"progress report of {CLIENT}, HTML (downloaded)")]
    if chromium_path():
        pdf = report_pdf_bytes(db, CLIENT, "Letter", actor=audit.DASHBOARD)
        assert pdf.startswith(b"%PDF")
        expected.append(("export", CLIENT, audit.DASHBOARD, f"progress report of {CLIENT}, PDF (Letter) (downloaded)"))
    got = new_rows(db, start)
    assert [(r["action"], r["client_id"], r["actor"], r["detail"]) for r in got] == expected


def test_an_export_while_an_import_holds_the_database_still_happens_and_its_row_follows(db, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(db)!r})\nprint('holding', flush=True)\ntime.sleep(4)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        t0 = time.monotonic()
        written = audit.record_soon(
            db,
            "export",
            "report",
            CLIENT,
            client_id=CLIENT,
            actor=audit.DASHBOARD,
            detail="queued export",
            timeout_s=0.5,
        )
        assert written is False and time.monotonic() - t0 < 3
        assert audit.pending_count(db) == 1
        queued_at = dt.datetime.now()
    finally:
        holder.wait(timeout=30)
    start = last_id(db)
    assert (
        audit.record_soon(
            db, "export", "report", "C0003", client_id="C0003", actor=audit.DASHBOARD, detail="next export"
        )
        is True
    )
    got = new_rows(db, start)
    assert [r["detail"] for r in got] == ["queued export", "next export"]
    assert got[0]["at"] <= queued_at < got[1]["at"]  # the queued row keeps the time it happened
    assert audit.pending_count(db) == 0 and not audit.pending_path(db).exists()


# ---------------------------------------------------------------------------
# Links, backups, password
# ---------------------------------------------------------------------------


def test_a_clients_check_in_through_their_link_writes_one_row_as_the_client(db):
    from pipelines.sharing.checkin import record_checkin

    start = last_id(db)
    ok = record_checkin(
        CLIENT,
        {"pain": 3, "region": "neck", "note": "better after the walk"},
        db=db,
        source="link",
        reported_at=dt.datetime(2026, 11, 20, 9, 30),
    )
    assert ok.ok, ok.errors
    [row] = new_rows(db, start)
    assert (row["action"], row["kind"], row["actor"], row["client_id"]) == (
        "insert",
        "self_reports",
        audit.CLIENT_LINK,
        CLIENT,
    )
    assert row["key"] == f"{CLIENT}|2026-11-20 09:30:00" and row["detail"] == "pain check-in: 3/10"
    assert json.loads(row["after"])["note"] == "better after the walk"
    bad = record_checkin(CLIENT, {"pain": 14}, db=db, source="link")
    assert not bad.ok and last_id(db) == start + 1  # a refused check-in leaves no row


def test_links_made_and_ended_write_one_row_per_link_and_never_a_token(db):
    start = last_id(db)
    made = knotwork("share", CLIENT, "--db", str(db), "--days", "3")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().split("t=", 1)[1]
    second = create_link(CLIENT, db=db, actor=audit.DASHBOARD)
    other = create_link("C0003", db=db)
    assert knotwork("revoke", token[:8], "--db", str(db)).returncode == 0
    assert revoke(client_id=CLIENT, db=db, actor=audit.DASHBOARD) == 1  # only the second was still live
    got = new_rows(db, start)
    ids = dict(rows(db, "SELECT token_prefix, link_id FROM meta.share_links"))
    first_id, second_id, other_id = ids[token[:8]], ids[second.prefix], ids[other.prefix]
    assert [(r["action"], r["key"], r["client_id"], r["actor"]) for r in got] == [
        ("share", str(first_id), CLIENT, CLI_ACTOR),
        ("share", str(second_id), CLIENT, audit.DASHBOARD),
        ("share", str(other_id), "C0003", PY_ACTOR),
        ("revoke", str(first_id), CLIENT, CLI_ACTOR),
        ("revoke", str(second_id), CLIENT, audit.DASHBOARD),
    ]
    # No token, no visible prefix, no hash: nowhere in any column of the log.
    everything = " ".join(map(str, rows(db, "SELECT * FROM meta.audit")))
    hashes = [h for (h,) in rows(db, "SELECT token_hash FROM meta.share_links")]
    for secret in [token, second.token, other.token, token[:8], second.prefix, other.prefix, *hashes]:
        assert secret not in everything


@pytest.mark.slow
def test_cli_backup_restore_and_password_are_recorded_with_the_actor(db, tmp_path):
    start = last_id(db)
    assert knotwork("backup", str(tmp_path / "bk"), "--db", str(db)).returncode == 0
    done = knotwork("set-password", "--db", str(db), stdin="correct horse battery\n")
    assert done.returncode == 0, done.stderr
    assert knotwork("set-password", "--db", str(db), "--remove").returncode == 0
    got = new_rows(db, start)
    assert [(r["action"], r["kind"], r["actor"]) for r in got] == [
        ("backup", "database", CLI_ACTOR),
        ("password", "password", CLI_ACTOR),
        ("password", "password", CLI_ACTOR),
    ]
    assert [r["detail"].split(" (in ")[0] for r in got[1:]] == ["therapist password set", "therapist password removed"]
    everything = " ".join(map(str, rows(db, "SELECT * FROM meta.audit")))
    assert "correct horse" not in everything and "scrypt$" not in everything

    assert knotwork("restore", str(tmp_path / "bk"), "--db", str(tmp_path / "r.duckdb")).returncode == 0
    restored = new_rows(tmp_path / "r.duckdb", 0)
    assert [(r["action"], r["actor"]) for r in restored if r["action"] in ("backup", "restore")] == [
        ("backup", CLI_ACTOR),
        ("restore", CLI_ACTOR),
    ]


# ---------------------------------------------------------------------------
# The Records page
# ---------------------------------------------------------------------------


def _records_page(db, monkeypatch):
    at = app_test(db, monkeypatch, run=False)
    at.switch_page("app_pages/records.py")  # straight there: the default page is not what is tested
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_records_page_shows_the_audit_table_newest_first_and_filters_by_client(db, monkeypatch):
    client = entry.load_client(CLIENT, db)
    client.notes = '=HYPERLINK("http://x")'
    entry.save_client(client, db, editing=True, actor=audit.DASHBOARD)
    create_link("C0003", db=db, actor=CLI_ACTOR)
    at = _records_page(db, monkeypatch)
    shown = at.dataframe[0].value
    stored = rows(db, 'SELECT "at", actor, action, client_id FROM meta.audit ORDER BY "at" DESC, audit_id DESC')
    assert len(shown) == len(stored) > 6
    assert list(shown["Who"]) == [r[1] for r in stored]
    assert list(shown["What"]) == [audit.ACTION_WORDS[r[2]] for r in stored]
    assert list(shown["When"]) == [r[0] for r in stored]
    assert shown["What"].iloc[0] == "made a private link" and shown["Who"].iloc[0] == CLI_ACTOR
    assert shown["Details"].iloc[1] == 'notes: (empty) → =HYPERLINK("http://x")'
    assert f"{len(stored):,} of {len(stored):,} entries" in [c.value for c in at.caption]

    at.selectbox(key="rec_client").set_value(CLIENT)
    at.run()
    only = at.dataframe[0].value
    assert len(only) == rows(db, "SELECT count(*) FROM meta.audit WHERE client_id = ?", [CLIENT])[0][0] == 1
    assert set(only["Client"]) == {f"Elif B. ({CLIENT})"}

    at.selectbox(key="rec_client").set_value(None)
    at.multiselect(key="rec_actions").set_value(["import"])
    at.run()
    imports = at.dataframe[0].value
    assert len(imports) == rows(db, "SELECT count(*) FROM raw.imports")[0][0]
    assert all(d.endswith(" rejected") for d in imports["Details"])


def test_back_up_now_makes_a_backup_that_restores_to_the_same_data(db, monkeypatch, tmp_path):
    at = _records_page(db, monkeypatch)
    assert list_backups(db) == []
    at.button(key="rec_backup").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    made = list_backups(db)
    assert len(made) == 1 and made[0].folder.parent == Path(db).parent / "backups"
    assert any(str(made[0].folder) in s.value for s in at.success)
    assert rows(db, "SELECT action, actor FROM meta.audit ORDER BY audit_id DESC LIMIT 1") == [
        ("backup", audit.DASHBOARD)
    ]
    assert at.dataframe[0].value["What"].iloc[0] == "backed up the database"
    assert at.dataframe[1].value["Folder"].tolist() == [made[0].folder.name]
    assert any(f"knotwork restore '{made[0].folder}'" in c.value for c in at.code)

    restored = restore(made[0].folder, tmp_path / "restored.duckdb")
    assert every_table(restored, skip_restore_rows=True) == every_table(db, skip_restore_rows=True)


# ---------------------------------------------------------------------------
# In a real browser: what the therapist clicks
# ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed")
def test_in_a_browser_downloads_are_audited_the_log_csv_is_formula_safe_and_the_backup_zip_restores(tmp_path):
    import csv
    import io
    import zipfile

    from playwright.sync_api import sync_playwright

    from tests.conftest import SAMPLE_ORDER
    from tests.test_e2e_browser import (
        BROWSER_ARGS,
        CHROMIUM,
        free_port,
        knotwork_command,
        pick_client,
        wait_for_app,
        wait_healthy,
    )

    db = tmp_path / "practice.duckdb"
    ingest_files([SAMPLE / f for f in SAMPLE_ORDER], db=db)
    client = entry.load_client(CLIENT, db)
    client.notes = '=HYPERLINK("http://evil.example")'
    entry.save_client(client, db, editing=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KNOTWORK_DB"} | {"HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [*knotwork_command(), "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 1000}, accept_downloads=True)

            # The sharing page's HTML report: the download is audited as the dashboard.
            page.goto(url + "/share")
            wait_for_app(page)
            pick_client(page, "Elif B.", CLIENT)
            start = last_id(db)
            with page.expect_download() as dl:
                page.get_by_role("button", name="Download report (HTML)").click()
            assert Path(dl.value.path()).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
            deadline = time.monotonic() + 20
            while not new_rows(db, start) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert [(r["action"], r["client_id"], r["actor"]) for r in new_rows(db, start)] == [
                ("export", CLIENT, audit.DASHBOARD)
            ]

            # The log as CSV: every row, the formula kept as text.
            page.goto(url + "/records")
            wait_for_app(page)
            with page.expect_download() as dl:
                # The page's own button (the table's toolbar has a "Download as CSV" of its own).
                page.get_by_test_id("stDownloadButton").get_by_role("button", name="Download as CSV").click()
            text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
            table = list(csv.DictReader(io.StringIO(text)))
            assert len(table) == rows(db, "SELECT count(*) FROM meta.audit")[0][0]
            assert table[0]["What"] == "exported a report" and table[0]["Who"] == audit.DASHBOARD
            edited = [r["Details"] for r in table if r["What"] == "edited"]
            assert edited == ['notes: (empty) → =HYPERLINK("http://evil.example")']  # inside text: inert
            assert not any(v.startswith(("=", "+", "-", "@")) for r in table for v in r.values() if v)

            # Back up now, download the zip, restore it: the same practice.
            page.get_by_role("tab", name="Backups").click()
            page.get_by_role("button", name="Back up now").click()
            wait_for_app(page)
            page.get_by_text("Backed up to").wait_for(timeout=30_000)
            with page.expect_download() as dl:
                page.get_by_role("button", name="Download as zip").click()
            with zipfile.ZipFile(dl.value.path()) as zf:
                zf.extractall(tmp_path / "unzipped")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    (folder,) = list((tmp_path / "unzipped").iterdir())
    restored = restore(folder, tmp_path / "restored.duckdb")
    assert every_table(restored, skip_restore_rows=True) == every_table(db, skip_restore_rows=True)
    assert rows(db, "SELECT action, actor FROM meta.audit ORDER BY audit_id DESC LIMIT 1") == [
        ("backup", audit.DASHBOARD)
    ]
