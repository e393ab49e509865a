"""Incremental marts: a write refreshes only the rows of the clients (and weeks) it touched, and
the result is always exactly what a full rebuild from core gives.

The property test drives the functions the app and the CLI use (imports of every kind, the Log a
visit form's save / edit / delete, client and questionnaire forms, a client's check-in) in random
order on a copy of the sample practice, then rebuilds every mart from core beside the maintained
one and compares them row for row.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.entry import forms as E
from pipelines.ingest.importer import ingest_files
from pipelines.sharing.checkin import record_checkin
from pipelines.warehouse import marts as M
from pipelines.warehouse.db import write_connection

CLIENTS = [f"C{i:04d}" for i in range(1, 41)] + ["C0901", "C0902"]  # two new to the practice
SAMPLE_VISITS = [f"V{i:05d}" for i in range(1, 452)]
TECHNIQUES = ["trigger_point", "myofascial_release", "swedish", "stretching", "cupping"]
FIRST_DAY = dt.date(2025, 6, 2)
days = st.integers(0, 520).map(lambda n: FIRST_DAY + dt.timedelta(days=n))  # ~17 months, never in the future
pain = st.integers(0, 20).map(lambda n: n / 2)
client = st.sampled_from(CLIENTS)
known_client = st.sampled_from(CLIENTS[:40])
visit_id = st.one_of(st.sampled_from(SAMPLE_VISITS), st.sampled_from([f"VN{i}" for i in range(6)]))


def _csv(folder: Path, name: str, header: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


visit_rows = st.lists(
    st.tuples(visit_id, client, days, pain, st.lists(st.sampled_from(TECHNIQUES), max_size=3)), min_size=1, max_size=5
).map(
    lambda rows: (
        "import",
        "visits.csv",
        "visit_id,client_id,visit_date,pain_pre,techniques",
        [f"{v},{c},{d},{p},{';'.join(t)}" for v, c, d, p, t in rows],
    )
)
rom_rows = st.lists(
    st.tuples(
        visit_id, st.sampled_from(["rotation", "flexion"]), st.sampled_from(["pre", "post"]), st.integers(20, 80)
    ),
    min_size=1,
    max_size=5,
).map(
    lambda rows: (
        "import",
        "rom.csv",
        "visit_id,joint,movement,side,timing,degrees",
        [f"{v},cervical,{m},none,{t},{d}" for v, m, t, d in rows],
    )
)
tp_rows = st.lists(
    st.tuples(
        visit_id,
        st.sampled_from(["scalenes", "masseter", "temporalis"]),
        st.sampled_from(["left", "right"]),
        st.integers(0, 10),
    ),
    min_size=1,
    max_size=4,
).map(
    lambda rows: (
        "import",
        "trigger_points.csv",
        "visit_id,muscle,side,tenderness",
        [f"{v},{m},{s},{t}" for v, m, s, t in rows],
    )
)
report_rows = st.lists(st.tuples(client, days, st.integers(0, 23), pain), min_size=1, max_size=5).map(
    lambda rows: (
        "import",
        "self_reports.csv",
        "client_id,reported_at,pain",
        [f"{c},{d}T{h:02d}:00:00,{p}" for c, d, h, p in rows],
    )
)
client_rows = st.lists(
    st.tuples(client, st.sampled_from(["active", "discharged"]), st.sampled_from(["neck", "low_back"])),
    min_size=1,
    max_size=3,
).map(
    lambda rows: (
        "import",
        "clients.csv",
        "client_id,display_name,status,complaint_region",
        [f"{c},Client {c[-3:]},{s},{r}" for c, s, r in rows],
    )
)
measure_rows = st.lists(st.tuples(client, days, st.integers(0, 50)), min_size=1, max_size=3).map(
    lambda rows: (
        "import",
        "outcome_measures.csv",
        "client_id,taken_on,instrument,total_score",
        [f"{c},{d},NDI,{s}" for c, d, s in rows],
    )
)

operations = st.one_of(
    visit_rows,
    rom_rows,
    tp_rows,
    report_rows,
    client_rows,
    measure_rows,
    st.tuples(st.just("save_visit"), known_client, days, pain, st.lists(st.sampled_from(TECHNIQUES), max_size=3)),
    st.tuples(st.just("edit_visit"), st.integers(0, 10_000), days, pain),
    st.tuples(st.just("delete_visit"), st.integers(0, 10_000)),
    st.tuples(st.just("checkin"), known_client, days, pain),
    st.tuples(st.just("edit_client"), known_client, st.sampled_from(["active", "discharged", "referred_out"])),
    st.tuples(st.just("questionnaire"), known_client, days, st.integers(0, 5)),
    st.tuples(st.just("delete_questionnaire"), st.integers(0, 10_000)),
)


def _nth(db: Path, sql: str, n: int):
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    return rows[n % len(rows)] if rows else None


def _apply(op: tuple, db: Path, folder: Path) -> None:
    kind = op[0]
    if kind == "import":
        _, name, header, rows = op
        (report,) = ingest_files([_csv(folder, name, header, rows)], db=db)
        assert report.error is None, report.error
        return
    try:
        if kind == "save_visit":
            _, cid, day, p, techniques = op
            E.save_visit(
                E.VisitEntry(
                    client_id=cid,
                    visit_date=day,
                    pain_pre=p,
                    pain_post=max(p - 1, 0),
                    techniques=techniques,
                    rom=[
                        {
                            "joint": "cervical",
                            "movement": "rotation",
                            "side": "left",
                            "degrees_pre": 50,
                            "degrees_post": 60,
                        }
                    ],
                    trigger_points=[{"muscle": "scalenes", "side": "left", "tenderness": 6}],
                ),
                db=db,
            )
        elif kind == "edit_visit":
            picked = _nth(db, "SELECT visit_id FROM core.visits ORDER BY visit_id", op[1])
            if picked:
                entry = E.load_visit(picked[0], db=db)
                entry.visit_date, entry.pain_pre = op[2], op[3]
                E.save_visit(entry, db=db, visit_id=picked[0])
        elif kind == "delete_visit":
            picked = _nth(db, "SELECT visit_id FROM core.visits ORDER BY visit_id", op[1])
            if picked:
                E.delete_visit(picked[0], db=db)
        elif kind == "checkin":
            _, cid, day, p = op
            record_checkin(
                cid, {"pain": p}, db=db, source="link", reported_at=dt.datetime.combine(day, dt.time(20, 15))
            )
        elif kind == "edit_client":
            entry = E.load_client(op[1], db=db)
            entry.status = op[2]
            E.save_client(entry, db=db, editing=True)
        elif kind == "questionnaire":
            _, cid, day, level = op
            E.save_questionnaire(
                E.QuestionnaireEntry(client_id=cid, taken_on=day, instrument="NDI", items=[level] * 10), db=db
            )
        elif kind == "delete_questionnaire":
            picked = _nth(db, "SELECT client_id, taken_on, instrument FROM core.outcome_measures ORDER BY ALL", op[1])
            if picked:
                E.delete_questionnaire(*picked, db=db)
    except E.EntryError:
        pass  # the form refused it (a second visit edited onto a taken date, …): nothing was written


def mart_differences(db: Path) -> dict[str, int]:
    """Rows in the maintained mart but not in a full rebuild, plus the reverse, per mart (0 = equal).

    Top-level DOUBLE columns are compared to 1e-9: an average summed in another order may differ
    in its last bit."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for name in M.MART_ORDER:
            cols = con.execute(f"DESCRIBE marts.{name}").fetchall()
            select = ", ".join(f"round({c}, 9) AS {c}" if t == "DOUBLE" else c for c, t, *_ in cols)
            kept = f"SELECT {select} FROM marts.{name}"
            fresh = f"SELECT {select} FROM ({M.mart_sql(name)})"
            out[name] = con.execute(
                f"SELECT (SELECT count(*) FROM ({kept} EXCEPT ALL {fresh})) "
                f"+ (SELECT count(*) FROM ({fresh} EXCEPT ALL {kept}))"
            ).fetchone()[0]
        return out
    finally:
        con.close()


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operations, min_size=1, max_size=7))
def test_after_any_writes_the_maintained_marts_equal_a_full_rebuild(sample_db, ops):
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(M, "INCREMENTAL_MAX_SHARE", 1.0):
        db = Path(tmp) / "practice.duckdb"
        shutil.copy(sample_db, db)
        for op in ops:
            _apply(op, db, Path(tmp))
        assert mart_differences(db) == {name: 0 for name in M.MART_ORDER}, ops


def _last_stored_client(db: Path, mart: str) -> str:
    """The client of the mart's last row in storage order: a rebuild stores the marts sorted by
    client, a refresh appends the touched client's new rows at the end."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT client_id FROM marts.{mart} ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()


def test_a_check_in_refreshes_only_that_clients_self_report_rows(sample_db_copy):
    """The mart is not re-created: only the client's rows are replaced (appended at the end)."""
    assert _last_stored_client(sample_db_copy, "self_reports") != "C0002"
    result = record_checkin(
        "C0002", {"pain": 2.5}, db=sample_db_copy, source="link", reported_at=dt.datetime(2026, 11, 30, 19, 0)
    )
    assert result.ok
    assert _last_stored_client(sample_db_copy, "self_reports") == "C0002"
    con = duckdb.connect(str(sample_db_copy), read_only=True)
    try:
        row = con.execute(
            "SELECT pain, last_visit_id IS NOT NULL FROM marts.self_reports "
            "WHERE client_id = 'C0002' AND reported_at = '2026-11-30 19:00:00'"
        ).fetchone()
    finally:
        con.close()
    assert row == (2.5, True)
    assert mart_differences(sample_db_copy) == {name: 0 for name in M.MART_ORDER}


def test_a_saved_visit_refreshes_its_client_and_weeks_without_rebuilding(sample_db_copy):
    day = dt.date(2026, 11, 23)  # a Monday after the sample's last visit: the weekly calendar grows
    saved = E.save_visit(
        E.VisitEntry(client_id="C0005", visit_date=day, pain_pre=6, pain_post=3, techniques=["trigger_point"]),
        db=sample_db_copy,
    )
    assert _last_stored_client(sample_db_copy, "visit_outcomes") == "C0005"
    con = duckdb.connect(str(sample_db_copy), read_only=True)
    try:
        week = con.execute(
            "SELECT n_visits, mean_pain_change FROM marts.practice_weekly WHERE week_start = ?", [day]
        ).fetchone()
        visit = con.execute(
            "SELECT client_id, pain_change FROM marts.visit_outcomes WHERE visit_id = ?", [saved.key]
        ).fetchone()
    finally:
        con.close()
    assert visit == ("C0005", -3.0)
    assert week[0] >= 1
    assert mart_differences(sample_db_copy) == {name: 0 for name in M.MART_ORDER}


def test_a_write_after_a_new_migration_rebuilds_every_mart_it_touches(sample_db_copy):
    """A mart built before the latest migration carries that migration in its fingerprint; when
    the schema moves on, the next write rebuilds instead of refreshing."""
    with write_connection(sample_db_copy) as con:
        latest = con.execute("SELECT max(name) FROM meta.migrations").fetchone()[0]
        # What a build before the latest migration left (COMMENT ON takes no bound parameters).
        con.execute(f"COMMENT ON TABLE marts.self_reports IS '{M.mart_fingerprint('self_reports', '0000_older.sql')}'")
    record_checkin("C0002", {"pain": 4}, db=sample_db_copy, source="link", reported_at=dt.datetime(2026, 11, 30, 8, 0))
    assert _last_stored_client(sample_db_copy, "self_reports") == "C0040"  # rebuilt: sorted by client
    con = duckdb.connect(str(sample_db_copy), read_only=True)
    try:
        comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = 'self_reports'"
        ).fetchone()[0]
    finally:
        con.close()
    assert comment == M.mart_fingerprint("self_reports", latest)


@pytest.mark.parametrize("share, last", [(0.0, "C0040"), (1.0, "C0003")])
def test_a_write_touching_more_than_its_share_of_the_practice_rebuilds_instead(sample_db_copy, share, last):
    with mock.patch.object(M, "INCREMENTAL_MAX_SHARE", share):
        record_checkin(
            "C0003", {"pain": 1}, db=sample_db_copy, source="link", reported_at=dt.datetime(2026, 11, 29, 8, 0)
        )
    assert _last_stored_client(sample_db_copy, "self_reports") == last
    assert mart_differences(sample_db_copy) == {name: 0 for name in M.MART_ORDER}
