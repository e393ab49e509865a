"""Privacy by construction, checked for every client of the sample practice.

For each client A: A's private link, A's client view opened through that link (AppTest of the
real entry point) and A's HTML report contain

* no other client's display name or client id (matched as whole words, so C0001 never matches
  inside C00010 and "Ulla H." never matches "Ulla M."), and
* no data point that is not A's own: every (date, value) drawn in any chart is one of A's
  visits (pain before/after, ROM), or A's check-ins.  Another client's visit on a date A never
  came, or with a pain score A never had, would fail this.

The link itself carries no client id at all, not even A's.
"""

from __future__ import annotations

import csv
import datetime as dt
import html as htmllib
import json
import os
import re
import shutil

import pytest

from dashboard.letter import build_letter_html
from dashboard.letter_facts import letter_facts
from dashboard.reports import build_report_html
from pipelines.exports import fhir
from pipelines.exports.record import load_record
from pipelines.sharing.links import create_link
from pipelines.warehouse.db import read_connection
from tests.conftest import SAMPLE
from tests.sharing_helpers import app_test, figure_points, new_plot_calls, page_strings, plotly_specs, strip_plotly_js

with open(SAMPLE / "clients.csv", newline="", encoding="utf-8") as fh:
    SAMPLE_CLIENTS = [row["client_id"] for row in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def practice(sample_db, tmp_path_factory):
    """A copy of the sample with one live link per client, and every client's own data points."""
    db = tmp_path_factory.mktemp("privacy") / "privacy.duckdb"
    shutil.copy(sample_db, db)
    links = {cid: create_link(cid, db=db) for cid in SAMPLE_CLIENTS}
    with read_connection(db) as con:
        names = dict(con.execute("SELECT client_id, display_name FROM core.clients").fetchall())
        rows = con.execute("""
            SELECT client_id, strftime(visit_date, '%Y-%m-%d'), pain_pre FROM core.visits WHERE pain_pre IS NOT NULL
            UNION ALL
            SELECT client_id, strftime(visit_date, '%Y-%m-%d'), pain_post FROM core.visits WHERE pain_post IS NOT NULL
            UNION ALL
            SELECT client_id, strftime(reported_at, '%Y-%m-%d'), pain FROM core.self_reports
            UNION ALL
            SELECT v.client_id, strftime(v.visit_date, '%Y-%m-%d'), r.degrees
            FROM core.rom r JOIN core.visits v USING (visit_id) WHERE r.timing = 'pre'
        """).fetchall()
    own: dict[str, set] = {cid: set() for cid in names}
    for cid, day, value in rows:
        own[cid].add((day, round(float(value), 3)))
    assert set(SAMPLE_CLIENTS) == set(names)
    return db, links, names, own


def _mentions(text: str, needle: str) -> bool:
    return re.search(r"(?<![\w])" + re.escape(needle) + r"(?![\w])", text) is not None


def _others_mentioned(text: str, client_id: str, names: dict[str, str]) -> list[str]:
    found = []
    for other, name in names.items():
        if other == client_id:
            continue
        if _mentions(text, other):
            found.append(other)
        if _mentions(text, name):
            found.append(name)
    return found


def test_the_check_has_teeth(practice):
    """Sanity: clients' data points differ, so a leaked point would be noticed."""
    _, _, names, own = practice
    assert len(names) >= 10
    for cid in names:
        assert own[cid], cid
        assert any(not own[other] <= own[cid] for other in names if other != cid), cid
    # and names are unique, none inside another (else whole-word checks could not tell them apart)
    assert len(set(names.values())) == len(names)


@pytest.mark.parametrize("client_id", SAMPLE_CLIENTS)
def test_link_view_and_report_show_only_that_clients_data(practice, client_id, monkeypatch):
    db, links, names, own = practice
    link = links[client_id]

    # the link: a token and nothing else
    assert _others_mentioned(link.url, client_id, names) == []
    assert not _mentions(link.url, client_id) and names[client_id] not in link.url

    # the client view, opened through the link
    at = app_test(db, monkeypatch, token=link.token)
    assert not at.exception
    strings = page_strings(at)
    text = "\n".join(strings)
    assert names[client_id] in text
    assert _others_mentioned(text, client_id, names) == []
    specs = plotly_specs(at)
    assert specs
    shown = set().union(*(figure_points(spec.get("data", [])) for spec in specs))
    assert shown, "the charts draw this client's data"
    assert shown <= own[client_id], sorted(shown - own[client_id])[:5]

    # the report
    report = build_report_html(db, client_id)
    calls = new_plot_calls(report)
    body = htmllib.unescape(strip_plotly_js(report))
    figure_text = "\n".join(str(v) for data, layout, _ in calls for v in (data, layout))
    assert names[client_id] in body
    assert _others_mentioned(body + "\n" + figure_text, client_id, names) == []
    drawn = set().union(*(figure_points(data) for data, _, _ in calls))
    assert drawn and drawn <= own[client_id], sorted(drawn - own[client_id])[:5]


def test_cache_keys_cannot_mix_clients(practice, monkeypatch):
    """Two links opened one after the other in the same server process (shared caches)."""
    db, links, names, own = practice
    first, second = SAMPLE_CLIENTS[0], SAMPLE_CLIENTS[1]
    os.environ.pop("KNOTWORK_DB", None)
    a = app_test(db, monkeypatch, token=links[first].token)
    from streamlit.testing.v1 import AppTest

    from tests.sharing_helpers import APP

    b = AppTest.from_file(str(APP), default_timeout=60)  # caches deliberately not cleared
    b.query_params["t"] = links[second].token
    b.run()
    text_b = "\n".join(page_strings(b))
    assert names[second] in text_b and not _mentions(text_b, names[first])
    shown_b = set().union(*(figure_points(s.get("data", [])) for s in plotly_specs(b)))
    assert shown_b <= own[second]
    assert names[first] in "\n".join(page_strings(a))


@pytest.mark.parametrize("client_id", SAMPLE_CLIENTS)
def test_fhir_bundle_holds_only_this_clients_data(practice, client_id):
    """The FHIR export: no other client's name or id, and every dated value (pain, ROM) is A's own."""
    db, _, names, own = practice
    bundle = fhir.bundle(load_record(db, client_id))
    text = json.dumps(bundle, ensure_ascii=False)
    assert names[client_id] in text
    assert _others_mentioned(text, client_id, names) == []
    points = set()
    for entry in bundle["entry"]:
        r = entry["resource"]
        unit = r.get("valueQuantity", {}).get("code")
        if r["resourceType"] == "Observation" and unit in ("{score}", "deg") and "total score" not in r["code"]["text"]:
            if unit == "deg" and "before" not in r["code"]["text"]:
                continue  # the privacy fixture's own set holds ROM readings taken before the session
            points.add((r["effectiveDateTime"][:10], round(float(r["valueQuantity"]["value"]), 3)))
    assert points and points <= own[client_id], sorted(points - own[client_id])[:5]


@pytest.mark.parametrize("client_id", SAMPLE_CLIENTS)
def test_physician_letter_holds_only_this_clients_data(practice, client_id):
    """The letter: no other client's name or id; its dated pain and ROM readings are A's own."""
    db, _, names, own = practice
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", build_letter_html(db, client_id)))
    assert names[client_id] in text
    assert _others_mentioned(text, client_id, names) == []
    facts = letter_facts(load_record(db, client_id), None, dt.date.today())
    dated = [(facts.pain.baseline_date, facts.pain.baseline)]
    dated += [(r.first_date, r.first) for r in facts.rom] + [(r.latest_date, r.latest) for r in facts.rom]
    points = {(d.isoformat(), round(float(v), 3)) for d, v in dated if d is not None and v is not None}
    assert points <= own[client_id], sorted(points - own[client_id])[:5]
    # The current level is the median of the client's own last readings: one of their values, or the
    # mean of two of them.
    values = sorted({v for _, v in own[client_id]})
    if facts.pain.current is not None:
        level = round(facts.pain.current, 3)
        assert level in values or any(round((a + b) / 2, 3) == level for a in values for b in values), level
