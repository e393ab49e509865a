"""pipelines.warehouse.db under contention: bounded waits, the in-process join, the data version, the CLI's
waiting line, and what a form shows when it cannot save yet.

The lock is always held by something real: another Python process holding a read-write
connection (``holder`` below), or another thread of this process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse import db as kdb
from pipelines.warehouse.db import DatabaseBusy, data_version, import_waits, read_connection, write_connection

HOLDER = """
import sys
from pipelines.warehouse.db import import_waits, write_connection
with import_waits(sys.argv[2]):
    with write_connection(sys.argv[1]) as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE IF NOT EXISTS main.t (x INTEGER)")  # (the sample database has none)
        con.execute("INSERT INTO t VALUES (42)")
        con.execute("COMMIT")
        print("holding", flush=True)
        sys.stdin.readline()  # hold the file until the test says so
print("released", flush=True)
"""


class Holder:
    """Another process holding the database read-write (as `knotwork ingest` does), until release()."""

    def __init__(self, path: Path, label: str = "an import of big_visits.csv"):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), label],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        assert line.strip() == "holding", self.proc.stderr.read()
        self.released = False

    def release(self) -> None:
        """Let go and wait until the process has closed the file; safe to call twice (tests and fixtures do)."""
        if self.released:
            return
        self.released = True
        try:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):  # it already ended: nothing to release
            pass
        rest = self.proc.stdout.read()  # to EOF: the process has printed "released" and exited
        self.proc.wait(timeout=60)
        assert self.proc.returncode == 0 and "released" in rest, (self.proc.returncode, rest, self.proc.stderr.read())


@pytest.fixture
def small_db(tmp_path) -> Path:
    path = tmp_path / "k.duckdb"
    with write_connection(path) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    return path


@pytest.fixture
def holder(small_db):
    holders = []

    def start(label: str = "an import of big_visits.csv") -> Holder:
        holders.append(Holder(small_db, label))
        return holders[-1]

    yield start
    for h in holders:
        h.release()


def count(path: Path) -> int:
    with read_connection(path) as con:
        return con.execute("SELECT count(*) FROM t").fetchone()[0]


# --- another process holds the lock ---------------------------------------------------------------


def test_a_reader_retries_for_its_bound_then_says_busy_and_who_is_writing(small_db, holder):
    holder("an import of big_visits.csv")
    started = time.monotonic()
    with pytest.raises(DatabaseBusy) as info:
        with read_connection(small_db, timeout_s=1.0):
            pass
    waited = time.monotonic() - started
    assert waited >= 0.9  # it retried for the whole bound, not failed on the first conflict
    assert waited < 15  # and then gave up: bounded
    assert info.value.activity is not None and info.value.activity.startswith("an import of big_visits.csv, started")
    assert "Conflicting lock" not in str(info.value)  # DuckDB's own text never reaches a user


def test_a_reader_that_waits_gets_in_when_the_import_ends_and_sees_its_rows(small_db, holder):
    h = holder()
    threading.Timer(1.0, h.release).start()
    with read_connection(small_db, timeout_s=30) as con:
        assert con.execute("SELECT list(x) FROM t").fetchone()[0] == [42]
    assert kdb.current_activity(small_db) is None  # the writer's note went with it


def test_a_form_write_waits_its_bound_then_busy_and_writes_nothing(small_db, holder):
    holder()
    with pytest.raises(DatabaseBusy):
        with write_connection(small_db, timeout_s=1.0) as con:
            con.execute("INSERT INTO t VALUES (7)")
    assert kdb._active == {} and kdb._waiting == {}  # no in-process bookkeeping left behind


def test_a_note_left_by_a_killed_writer_is_ignored(small_db):
    Path(str(small_db) + ".writing").write_text(
        '{"pid": 999999999, "label": "an import", "version": "x", "started": "2026-01-01T10:00:00"}'
    )
    assert kdb.current_activity(small_db) is None
    assert data_version(small_db) != "x"  # a dead writer's note never freezes the dashboard's cache key
    # ...nor a note whose pid now belongs to another process (here: this one, started at another time)
    import os

    Path(str(small_db) + ".writing").write_text(
        f'{{"pid": {os.getpid()}, "pid_started": "1", "label": "an import", '
        f'"version": "x", "started": "2026-01-01T10:00:00"}}'
    )
    assert kdb.current_activity(small_db) is None and data_version(small_db) != "x"


def test_while_an_import_holds_the_file_the_version_stays_the_last_one_readers_can_see(small_db, holder):
    """Pages cached at the version before the import keep showing during it; the next one after it is new."""
    before = data_version(small_db)
    h = holder()  # it has committed a row and still holds the file: readers cannot see that row yet
    assert Path(str(small_db) + ".wal").exists() or kdb._file_version(small_db) != before
    assert data_version(small_db) == before
    h.release()
    after = data_version(small_db)
    assert after != before
    assert count(small_db) == 1


# --- the same process (the Streamlit server: Import page + other sessions) -------------------------


def test_same_process_readers_join_the_writer_and_see_the_last_committed_data(small_db):
    with write_connection(small_db) as con:
        con.execute("INSERT INTO t VALUES (1)")
    # A plain read-only connect next to this process's writer is what DuckDB refuses:
    in_import, go_on, done = threading.Event(), threading.Event(), threading.Event()

    def importer():
        with import_waits("an import of visits.csv from the Import page"):
            with write_connection(small_db) as con:
                con.execute("BEGIN TRANSACTION")
                con.execute("INSERT INTO t VALUES (2), (3)")
                in_import.set()
                go_on.wait(30)
                con.execute("COMMIT")
        done.set()

    t = threading.Thread(target=importer)
    t.start()
    try:
        assert in_import.wait(30)
        with pytest.raises(duckdb.ConnectionException, match="different configuration"):
            duckdb.connect(str(small_db), read_only=True, config=dict(kdb.HARDENED_READ_CONFIG))
        # ...but read_connection joins: no wait, no busy, the committed row only (snapshot isolation).
        with read_connection(small_db, timeout_s=0) as con:
            assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchone()[0] == [1]
            with pytest.raises(duckdb.TransactionException):  # a reader never writes, even joined
                con.execute("INSERT INTO t VALUES (99)")
        assert kdb.current_activity(small_db).startswith("an import of visits.csv from the Import page")
    finally:
        go_on.set()
        t.join(30)
    assert done.is_set()
    assert count(small_db) == 3  # 1 + the import's 2; the joined reader's insert is nowhere


def test_writers_of_one_process_take_turns_instead_of_colliding(small_db):
    """A form saved while the Import page imports waits for it (bounded), never a transaction conflict."""
    in_import, go_on = threading.Event(), threading.Event()

    def importer():
        with write_connection(small_db) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO t VALUES (1)")
            in_import.set()
            go_on.wait(30)
            con.execute("COMMIT")

    t = threading.Thread(target=importer)
    t.start()
    assert in_import.wait(30)
    with pytest.raises(DatabaseBusy):  # the form's bound is shorter than this import
        with write_connection(small_db, timeout_s=0.5) as con:
            con.execute("INSERT INTO t VALUES (2)")
    threading.Timer(0.5, go_on.set).start()
    with write_connection(small_db, timeout_s=30) as con:  # waits its turn, then writes
        con.execute("INSERT INTO t VALUES (3)")
    t.join(30)
    with read_connection(small_db) as con:
        assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchone()[0] == [1, 3]


def test_a_stream_of_readers_does_not_starve_a_writer(small_db):
    """Four sessions reading non-stop (20 ms connections) and one import: the import gets in."""
    stop = threading.Event()
    reads, errors = [0], []

    def reader():
        while not stop.is_set():
            try:
                with read_connection(small_db) as con:
                    con.execute("SELECT count(*) FROM t").fetchone()
                reads[0] += 1
            except Exception as exc:  # any error at all fails the test below
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        for i in range(5):
            with write_connection(small_db, timeout_s=30) as con:
                con.execute("INSERT INTO t VALUES (?)", [i])
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert errors == []
    assert reads[0] > 0
    assert count(small_db) == 5


# --- the data version (cache key of every dashboard query) -----------------------------------------


def test_data_version_changes_when_only_the_wal_changes_and_again_after_a_checkpoint(small_db):
    v0 = data_version(small_db)
    con = duckdb.connect(str(small_db))
    try:
        con.execute("SET checkpoint_threshold = '1GB'")  # keep the change in the WAL only
        con.execute("INSERT INTO t VALUES (5)")
        assert Path(str(small_db) + ".wal").exists()
        v1 = data_version(small_db)
        assert v1 != v0
        con.execute("INSERT INTO t VALUES (6)")
        v2 = data_version(small_db)
        assert v2 != v1  # a second WAL-only commit is a new version too
        con.execute("CHECKPOINT")
        v3 = data_version(small_db)
        assert v3 not in (v0, v1, v2)
    finally:
        con.close()
    assert count(small_db) == 2


# --- the command line --------------------------------------------------------------------------


def test_a_second_cli_import_waits_for_the_first_with_one_line_then_succeeds(sample_db_copy, tmp_path):
    clients = tmp_path / "late_clients.csv"
    clients.write_text("client_id,display_name\nW001,Wanda Waiting\n", encoding="utf-8")
    h = Holder(sample_db_copy, "an import of visits.csv")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "knotwork", "ingest", str(clients), "--db", str(sample_db_copy)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = proc.stderr.readline()  # blocks until the waiting line is printed
        assert first.startswith("waiting for another import to finish (an import of visits.csv, started ")
    finally:
        h.release()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "1 loaded" in out
    assert "Traceback" not in err and "waiting" not in err  # the line came once
    with read_connection(sample_db_copy) as con:
        assert con.execute("SELECT display_name FROM core.clients WHERE client_id = 'W001'").fetchone() == (
            "Wanda Waiting",
        )


def test_a_cli_import_past_its_bound_gives_one_line_and_a_nonzero_exit(sample_db_copy, tmp_path, monkeypatch, capsys):
    from knotwork.cli import main

    clients = tmp_path / "late_clients.csv"
    clients.write_text("client_id,display_name\nW002,Walter Gaveup\n", encoding="utf-8")
    monkeypatch.setattr(kdb, "IMPORT_WAIT_S", 1.0)
    h = Holder(sample_db_copy)
    try:
        rc = main(["ingest", str(clients), "--db", str(sample_db_copy)])
    finally:
        h.release()
    err = capsys.readouterr().err
    assert rc == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2, err
    assert lines[0].startswith("waiting for another import to finish")
    assert lines[1].startswith("error: ") and "busy" in lines[1] and "Traceback" not in err
    with read_connection(sample_db_copy) as con:
        assert con.execute("SELECT count(*) FROM core.clients WHERE client_id = 'W002'").fetchone()[0] == 0


# --- what a user sees when a save has to wait (AppTest: the real app, in this process) ----------


@pytest.fixture
def import_in_this_process():
    """The Import page's import running in the server process (a thread here) until stopped."""
    threads = []

    def start(db: Path) -> threading.Event:
        inside, stop = threading.Event(), threading.Event()

        def run():
            with import_waits("an import of visits.csv from the Import page"):
                with write_connection(db) as con:
                    con.execute("BEGIN TRANSACTION")
                    inside.set()
                    stop.wait(60)
                    con.execute("COMMIT")

        t = threading.Thread(target=run)
        t.start()
        assert inside.wait(30)
        threads.append((t, stop))
        return stop

    yield start
    for t, stop in threads:
        stop.set()
        t.join(60)


def test_a_clients_check_in_during_an_import_keeps_what_they_typed_and_saves_on_the_next_send(
    sample_db_copy, monkeypatch, import_in_this_process
):
    from pipelines.sharing.links import create_link
    from tests.sharing_helpers import app_test

    db = sample_db_copy
    link = create_link("C0009", db=db)
    monkeypatch.setattr(kdb, "FORM_WAIT_S", 1.0)
    stop = import_in_this_process(db)
    at = app_test(db, monkeypatch, token=link.token)  # the client's page reads while the import runs
    assert not at.exception and "Your progress" in " ".join(m.value for m in at.title)
    at.segmented_control(key="cv_pain").set_value(4)
    at.text_area(key="cv_note").input("Stiff after gardening")
    at.button(key="FormSubmitter:cv_checkin-Send").click().run()
    assert not at.exception
    assert any("could not be saved just yet" in w.value and "still here" in w.value for w in at.warning), [
        w.value for w in at.warning
    ]
    assert at.segmented_control(key="cv_pain").value == 4  # nothing the client typed is lost
    assert at.text_area(key="cv_note").value == "Stiff after gardening"
    stop.set()
    at.button(key="FormSubmitter:cv_checkin-Send").click().run()
    assert any("Thank you" in s.value for s in at.success), [w.value for w in at.warning]
    with read_connection(db) as con:
        assert con.execute(
            "SELECT pain, note FROM core.self_reports WHERE client_id = 'C0009' AND source = 'link'"
        ).fetchall() == [(4.0, "Stiff after gardening")]
    assert at.text_area(key="cv_note").value == ""  # emptied once stored


def test_adding_a_client_during_an_import_says_not_saved_yet_and_keeps_the_form(
    sample_db_copy, monkeypatch, import_in_this_process
):
    from tests.sharing_helpers import app_test

    db = sample_db_copy
    monkeypatch.setattr(kdb, "FORM_WAIT_S", 1.0)
    at = app_test(db, monkeypatch, run=False)
    at.switch_page("app_pages/clients.py").run()
    stop = import_in_this_process(db)
    name = next(t for t in at.text_input if t.label == "Name")
    name.input("Noor Waits")
    at.button(key="cl_save").click().run()
    assert not at.exception
    assert any(
        "Not saved yet" in w.value and "Add client" in w.value and "import of visits.csv" in w.value for w in at.warning
    ), [w.value for w in at.warning]
    assert next(t for t in at.text_input if t.label == "Name").value == "Noor Waits"
    stop.set()
    at.button(key="cl_save").click().run()
    assert any("Added Noor Waits" in s.value for s in at.success), [w.value for w in at.warning]
    with read_connection(db) as con:
        assert con.execute("SELECT count(*) FROM core.clients WHERE display_name = 'Noor Waits'").fetchone()[0] == 1


def test_a_clients_page_interrupted_by_a_busy_database_gets_plain_words_and_nothing_of_the_practice(
    sample_db_copy, monkeypatch
):
    from dashboard.client_facing import page as client_view
    from pipelines.sharing.links import create_link
    from tests.sharing_helpers import app_test

    link = create_link("C0009", db=sample_db_copy)

    def busy(*args, **kwargs):
        raise DatabaseBusy("the database /practice/knotwork.duckdb is busy", "an import of visits.csv, started 14:03")

    monkeypatch.setattr(client_view, "load_client", busy)
    at = app_test(sample_db_copy, monkeypatch, token=link.token)
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "Your therapist\u2019s records are being updated right now" in text and "by itself" in text
    everything = " ".join(str(e.value) for e in [*at.warning, *at.markdown, *at.caption] if hasattr(e, "value"))
    assert "visits.csv" not in everything and "knotwork.duckdb" not in everything
    assert not at.get("plotly_chart")


def test_saving_while_knotwork_ingest_holds_the_file_says_not_saved_yet_not_a_blank_page(sample_db_copy, monkeypatch):
    """Another process importing: the form page still draws from the cache (the version stays the
    pre-import one), so Save gets the form's own message and the form stays as typed."""
    from tests.sharing_helpers import app_test

    db = sample_db_copy
    monkeypatch.setattr(kdb, "FORM_WAIT_S", 1.0)
    at = app_test(db, monkeypatch, run=False)
    at.switch_page("app_pages/clients.py").run()
    h = Holder(db, "an import of visits.csv")
    try:
        next(t for t in at.text_input if t.label == "Name").input("Omar Patient")
        at.button(key="cl_save").click().run()
        assert not at.exception
        warnings = [w.value for w in at.warning]
        assert any("Not saved yet" in w and "import of visits.csv" in w for w in warnings), warnings
        assert not any("being updated right now (an import" in w and "by itself" in w for w in warnings), warnings
        assert next(t for t in at.text_input if t.label == "Name").value == "Omar Patient"
    finally:
        h.release()
    at.button(key="cl_save").click().run()
    assert any("Added Omar Patient" in s.value for s in at.success), [w.value for w in at.warning]
