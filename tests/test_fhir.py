"""FHIR R4 export: every sample client's Bundle validates against the FHIR models
(fhir.resources, R4B) and holds exactly that client's pain scores as LOINC 72514-3 Observations."""

from __future__ import annotations

import collections
import json
import subprocess
import sys

import pytest
from fhir.resources.R4B.bundle import Bundle

from pipelines.exports import fhir
from pipelines.exports.record import client_ids, load_record
from pipelines.ingest.importer import ingest_files
from pipelines.warehouse.db import read_connection
from tests.conftest import write_csv

PAIN_SQL = """
select 'pre', strftime(visit_date, '%Y-%m-%d'), pain_pre from core.visits where client_id = ? and pain_pre is not null
union all
select 'post', strftime(visit_date, '%Y-%m-%d'), pain_post from core.visits where client_id = ? and pain_post is not null
union all
select 'self', strftime(reported_at, '%Y-%m-%d'), pain from core.self_reports where client_id = ?
"""
KIND = {"before the session": "pre", "just after the session": "post", "self-reported between visits": "self"}


def _pain_points(bundle: dict) -> collections.Counter:
    out = collections.Counter()
    for e in bundle["entry"]:
        r = e["resource"]
        codes = [c["code"] for c in r.get("code", {}).get("coding", []) if c["system"] == fhir.LOINC]
        if r["resourceType"] == "Observation" and fhir.PAIN_LOINC in codes:
            assert r["valueQuantity"]["code"] == "{score}" and r["valueQuantity"]["system"] == fhir.UCUM
            out[
                (
                    KIND[r["method"]["text"].removeprefix("asked ")],
                    r["effectiveDateTime"][:10],
                    round(r["valueQuantity"]["value"], 3),
                )
            ] += 1
    return out


@pytest.fixture(scope="module")
def bundles(sample_db) -> dict[str, dict]:
    return {cid: fhir.bundle(load_record(sample_db, cid)) for cid in client_ids(sample_db)}


def test_every_sample_bundle_validates_and_references_resolve(bundles):
    assert len(bundles) == 40
    for cid, b in bundles.items():
        parsed = Bundle.model_validate(b)  # every entry resource is validated as its own type
        assert parsed.type == "collection"
        urls = [e["fullUrl"] for e in b["entry"]]
        assert len(urls) == len(set(urls)), cid
        text = json.dumps(b)
        for ref in set(__import__("re").findall(r'"reference": "(urn:uuid:[0-9a-f-]+)"', text)):
            assert ref in urls, (cid, ref)
        types = collections.Counter(e["resource"]["resourceType"] for e in b["entry"])
        assert types["Patient"] == 1


def test_each_bundle_holds_exactly_its_clients_pain_scores(sample_db, bundles):
    with read_connection(sample_db) as con:
        for cid, b in bundles.items():
            expected = collections.Counter(
                (kind, day, round(float(v), 3)) for kind, day, v in con.execute(PAIN_SQL, [cid, cid, cid]).fetchall()
            )
            assert _pain_points(b) == expected, cid
            assert sum(expected.values()) > 0


def test_encounters_rom_questionnaires_and_procedures_match_the_database(sample_db, bundles):
    with read_connection(sample_db) as con:
        cid = con.execute(
            "select client_id from core.outcome_measures where instrument = 'NDI' "
            "group by 1 order by count(*) desc, 1 limit 1"
        ).fetchone()[0]
        n_visits, n_rom, n_proc, n_q, n_trp = con.execute(
            """
            select (select count(*) from core.visits where client_id = $1),
                   (select count(*) from core.rom join core.visits using (visit_id) where client_id = $1),
                   (select coalesce(sum(len(list_distinct(techniques))), 0) from core.visits where client_id = $1),
                   (select count(*) from core.outcome_measures where client_id = $1),
                   (select count(*) from core.trigger_points join core.visits using (visit_id) where client_id = $1)
        """,
            [cid],
        ).fetchone()
    b = bundles[cid]
    types = collections.Counter(e["resource"]["resourceType"] for e in b["entry"])
    assert types["Encounter"] == n_visits and types["Procedure"] == n_proc and types["QuestionnaireResponse"] == n_q
    obs = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Observation"]
    rom = [o for o in obs if o.get("valueQuantity", {}).get("code") == "deg"]
    assert len(rom) == n_rom and all("range of motion" in o["code"]["text"] for o in rom)
    assert sum(o["code"]["text"] == "Myofascial trigger point" for o in obs) == n_trp
    totals = [o for o in obs if o["code"]["text"].endswith("total score")]
    record = load_record(sample_db, cid)
    ndi = record.questionnaires[record.questionnaires["instrument"] == "NDI"]
    ndi_totals = sorted(o["valueQuantity"]["value"] for o in totals if o["code"]["text"].startswith("NDI"))
    assert ndi_totals == sorted(float(s) for s in ndi["score"].dropna())
    assert all(o["derivedFrom"][0]["reference"].startswith("urn:uuid:") for o in totals)


def test_odi_total_is_coded_loinc_and_others_are_text_only(tmp_path):
    db = tmp_path / "odi.duckdb"
    ingest_files(
        [
            write_csv(tmp_path, "clients.csv", "client_id,display_name\nZ1,Zoe Q.\n"),
            write_csv(
                tmp_path,
                "outcome_measures.csv",
                "client_id,taken_on,instrument,item_1,item_2,item_3,item_4,item_5,item_6,item_7,item_8,item_9,item_10\n"
                "Z1,2026-01-05,ODI,2,2,2,2,2,2,2,2,2,2\nZ1,2026-01-05,NDI,1,1,1,1,1,1,1,1,1,1\n",
            ),
        ],
        db=db,
    )
    b = fhir.bundle(load_record(db, "Z1"))
    Bundle.model_validate(b)
    totals = {o["code"]["text"]: o for o in (e["resource"] for e in b["entry"]) if o["resourceType"] == "Observation"}
    assert totals["ODI total score"]["code"]["coding"][0]["code"] == "97909-6"
    assert totals["ODI total score"]["valueQuantity"]["value"] == 40.0
    assert (
        "coding" not in totals["NDI total score"]["code"]
        and totals["NDI total score"]["valueQuantity"]["value"] == 20.0
    )


def test_a_bare_client_exports_and_the_export_says_what_is_missing(tmp_path):
    db = tmp_path / "bare.duckdb"
    ingest_files([write_csv(tmp_path, "clients.csv", "client_id,display_name\nB1,Bo R.\n")], db=db)
    record = load_record(db, "B1")
    b = fhir.bundle(record)
    Bundle.model_validate(b)
    assert [e["resource"]["resourceType"] for e in b["entry"]] == ["Patient"]
    assert "birthDate" not in b["entry"][0]["resource"]
    notes = "\n".join(fhir.missing(record))
    assert "no birth year" in notes and "no visits" in notes and "no questionnaires" in notes


@pytest.mark.slow
def test_cli_export_fhir_one_client_and_all(tmp_path, sample_db):
    run = lambda *a: subprocess.run(
        [sys.executable, "-m", "knotwork", "export-fhir", *a, "--db", str(sample_db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run("C0002", "--out", str(tmp_path / "c.json"))
    assert out.returncode == 0, out.stderr
    Bundle.model_validate(json.loads((tmp_path / "c.json").read_text()))
    out = run("--all", "--out", str(tmp_path / "all"))
    assert out.returncode == 0, out.stderr
    assert sorted(p.stem for p in (tmp_path / "all").glob("*.json")) == sorted(client_ids(sample_db))
    bad = run("NOPE", "--out", str(tmp_path / "x.json"))
    assert bad.returncode == 1 and "no client" in bad.stderr and not (tmp_path / "x.json").exists()
