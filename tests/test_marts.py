"""Mart and core invariants on the committed sample practice: the grain each table promises holds."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.ingest.contract import KINDS

GRAINS = {
    "marts.visit_outcomes": ("visit_id",),
    "marts.client_progress": ("client_id", "visit_id"),
    "marts.technique_use": ("visit_id", "technique"),
    "marts.client_summary": ("client_id",),
    "marts.rom_changes": ("visit_id", "joint", "movement", "side"),
    **{f"core.{k}": v.key for k, v in KINDS.items()},
}


@pytest.fixture(scope="module")
def con(sample_db):
    c = duckdb.connect(str(sample_db), read_only=True)
    yield c
    c.close()


@pytest.mark.parametrize("table,key", GRAINS.items())
def test_keys_are_unique(con, table, key):
    cols = ", ".join(key)
    n, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({cols})) FROM {table}").fetchone()
    assert n > 0, f"{table} is empty on the sample"
    assert n == distinct


@pytest.mark.parametrize("table,key", [(t, k) for t, k in GRAINS.items() if t.startswith("marts")])
def test_keys_are_not_null(con, table, key):
    cond = " OR ".join(f"{c} IS NULL" for c in key)
    assert con.execute(f"SELECT count(*) FROM {table} WHERE {cond}").fetchone() == (0,)


def test_change_is_post_minus_pre(con):
    bad = con.execute("""
        SELECT count(*) FROM marts.visit_outcomes
        WHERE pain_change IS DISTINCT FROM pain_post - pain_pre
           OR (pain_pre > 0 AND abs(pain_pct_change - (pain_post - pain_pre) / pain_pre * 100) > 1e-9)
           OR (pain_pre = 0 AND pain_pct_change IS NOT NULL)""").fetchone()
    assert bad == (0,)
    assert con.execute(
        "SELECT count(*) FROM marts.rom_changes WHERE degrees_change IS DISTINCT FROM degrees_post - degrees_pre"
    ).fetchone() == (0,)


def test_visit_numbers_are_consecutive_per_client(con):
    rows = con.execute("""
        SELECT client_id, min(visit_number), max(visit_number), count(*), count(DISTINCT visit_number)
        FROM marts.visit_outcomes GROUP BY client_id""").fetchall()
    assert rows
    for client, lo, hi, n, distinct in rows:
        assert (lo, hi, distinct) == (1, n, n), client


def test_visit_numbers_follow_dates(con):
    out_of_order = con.execute("""
        SELECT count(*) FROM (
            SELECT visit_date < lag(visit_date) OVER (PARTITION BY client_id ORDER BY visit_number) AS back
            FROM marts.visit_outcomes) WHERE back""").fetchone()
    assert out_of_order == (0,)


def test_carryover_and_days_since_previous(con):
    bad = con.execute("""
        WITH v AS (
            SELECT *, lead(pain_pre) OVER w AS nxt, lag(visit_date) OVER w AS prev
            FROM core.visits WINDOW w AS (PARTITION BY client_id ORDER BY visit_date, visit_id))
        SELECT count(*) FROM marts.visit_outcomes m JOIN v USING (visit_id)
        WHERE m.next_pain_pre IS DISTINCT FROM v.nxt
           OR m.carryover_change IS DISTINCT FROM v.nxt - v.pain_pre
           OR m.days_since_previous IS DISTINCT FROM date_diff('day', v.prev, v.visit_date)""").fetchone()
    assert bad == (0,)


def test_client_progress_baseline_is_first_recorded_pain(con):
    bad = con.execute("""
        WITH first_pain AS (
            SELECT client_id, arg_min(pain_pre, visit_date) AS baseline
            FROM core.visits WHERE pain_pre IS NOT NULL GROUP BY client_id)
        SELECT count(*) FROM marts.client_progress p JOIN first_pain f USING (client_id)
        WHERE p.baseline_pain IS DISTINCT FROM f.baseline
           OR p.change_from_baseline IS DISTINCT FROM p.pain_pre - f.baseline""").fetchone()
    assert bad == (0,)


def test_technique_use_has_one_row_per_technique_in_each_visit(con):
    expected = con.execute("SELECT sum(len(techniques)) FROM core.visits").fetchone()[0]
    assert con.execute("SELECT count(*) FROM marts.technique_use").fetchone()[0] == expected


def test_every_visit_belongs_to_a_known_client_and_every_reading_to_a_known_visit(con):
    assert con.execute(
        "SELECT count(*) FROM core.visits WHERE client_id NOT IN (SELECT client_id FROM core.clients)"
    ).fetchone() == (0,)
    for child in ("rom", "trigger_points"):
        assert con.execute(
            f"SELECT count(*) FROM core.{child} WHERE visit_id NOT IN (SELECT visit_id FROM core.visits)"
        ).fetchone() == (0,)


# --- physical layout: one client's rows are contiguous (issue 7) ---------------------------

CLIENT_SORTED = [
    "visit_outcomes",
    "client_progress",
    "client_summary",
    "self_reports",
    "trigger_points",
    "outcome_measures",
    "rom_changes",
]


@pytest.mark.parametrize("mart", CLIENT_SORTED)
def test_marts_the_client_page_reads_are_stored_sorted_by_client(con, mart):
    """Stored order = client order, so DuckDB's min/max zone maps let `client_id = ?` skip the row
    groups of every other client (the client page stays fast at 100,000 clients)."""
    ids = [r[0] for r in con.execute(f"SELECT client_id FROM marts.{mart}").fetchall()]  # storage order
    assert len(ids) > 1 and None not in ids
    assert ids == sorted(ids)


def test_rom_changes_carry_the_visits_client(con):
    bad = con.execute("""
        SELECT count(*) FROM marts.rom_changes r JOIN core.visits v USING (visit_id)
        WHERE r.client_id IS DISTINCT FROM v.client_id""").fetchone()
    assert bad == (0,)
    assert (
        con.execute("SELECT count(*) FROM marts.rom_changes").fetchone()
        == con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT visit_id, joint, movement, side FROM core.rom)"
        ).fetchone()
    )


def test_a_mart_built_by_older_sql_is_rebuilt_at_the_next_write(sample_db_copy):
    """After an upgrade changes a mart's SQL, any write (here: a self-report-only change) rebuilds
    that mart and the marts reading it, so the dashboard never reads an old layout."""
    from pipelines.warehouse.db import write_connection
    from pipelines.warehouse.marts import mart_fingerprint, rebuild_marts

    with write_connection(sample_db_copy) as con:
        # What an older Knotwork left behind: rom_changes without client_id, and no fingerprint.
        con.execute("CREATE OR REPLACE TABLE marts.rom_changes AS SELECT * EXCLUDE (client_id) FROM marts.rom_changes")
        rebuilt = rebuild_marts(con, {"self_reports"})
        assert rebuilt[0] == "rom_changes" and "visit_outcomes" in rebuilt and "self_reports" in rebuilt
        assert "outcome_measures" not in rebuilt  # unrelated marts are left alone
        cols = [r[0] for r in con.execute("DESCRIBE marts.rom_changes").fetchall()]
        assert "client_id" in cols
        comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = 'rom_changes'"
        ).fetchone()[0]
        latest = con.execute("SELECT max(name) FROM meta.migrations").fetchone()[0]
        assert comment == mart_fingerprint("rom_changes", latest)
        # With every fingerprint current, a self-report write rebuilds only what reads self-reports.
        assert rebuild_marts(con, {"self_reports"}) == ["self_reports"]
