"""The synthetic practice generator (pipelines/sample/practice.py): contract, realism, determinism, truth."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.ingest.contract import KINDS
from pipelines.ingest.vocab import (
    CLIENT_STATUS,
    INSTRUMENTS,
    MUSCLES,
    QUESTIONNAIRES,
    REGIONS,
    SIDES,
    TECHNIQUES,
    rom_bounds,
)
from pipelines.sample.practice import TECHS, generate, planted_effects

END = dt.date(2026, 11, 20)
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
COMMON = [
    "trigger_point",
    "myofascial_release",
    "stretching",
    "swedish",
    "deep_tissue",
    "breathwork",
    "movement_reeducation",
    "pnf_stretching",
    "positional_release",
    "muscle_energy",
    "cross_fiber_friction",
]


def _read(out: Path, kind: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{kind}.csv", dtype=str, keep_default_na=False, na_values=[""])


def _canon(vocab, value: str) -> str:
    res = vocab.resolve(value)
    assert res.known, f"{value!r} is not a known {vocab.name}"
    return res.canonical


@pytest.fixture(scope="module")
def solo(tmp_path_factory):
    out = tmp_path_factory.mktemp("solo")
    summary = generate(out, n_clients=40, seed=7)
    return out, summary


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """300 clients: big enough for the statistical properties, and it must be fast."""
    out = tmp_path_factory.mktemp("clinic")
    start = time.perf_counter()
    summary = generate(out, n_clients=300, seed=11)
    elapsed = time.perf_counter() - start
    visits = _read(out, "visits")
    visits["pain_pre"] = visits["pain_pre"].astype(float)
    visits["pain_post"] = visits["pain_post"].astype(float)
    techs = visits["techniques"].fillna("").str.split(";")
    visits["tech_set"] = techs.apply(lambda xs: {_canon(TECHNIQUES, x) for x in xs if x})
    return out, summary, elapsed, visits


def test_same_seed_gives_byte_identical_files(solo, tmp_path):
    out, _ = solo
    generate(tmp_path, n_clients=40, seed=7)
    for name in [f"{k}.csv" for k in KINDS] + ["truth.json"]:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_different_seed_gives_different_practice(solo, tmp_path):
    out, _ = solo
    generate(tmp_path, n_clients=40, seed=8)
    assert (out / "visits.csv").read_bytes() != (tmp_path / "visits.csv").read_bytes()
    assert (out / "clients.csv").read_bytes() != (tmp_path / "clients.csv").read_bytes()


def test_every_file_has_the_contract_columns_and_parses_as_csv(solo):
    out, summary = solo
    for kind, spec in KINDS.items():
        with open(out / f"{kind}.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == list(spec.columns), kind
        assert all(len(r) == len(spec.columns) for r in rows[1:]), f"{kind}: ragged rows (quoting broken?)"
        assert len(rows) - 1 == summary[kind] > 0, kind


def test_fields_with_commas_and_semicolons_survive_quoting(solo):
    out, _ = solo
    visits = _read(out, "visits")
    assert visits["homecare"].dropna().str.contains(",").any()
    assert visits["techniques"].dropna().str.contains(";").all()
    clients = _read(out, "clients")
    assert clients["primary_complaint"].str.contains(",").any() or clients["notes"].dropna().str.contains(",").any()


def test_value_ranges(clinic):
    out, _, _, visits = clinic
    for col in ("pain_pre", "pain_post"):
        x = visits[col].dropna()
        assert x.between(0, 10).all() and ((x * 2) % 1 == 0).all(), col
    assert visits["pressure"].dropna().astype(int).between(1, 5).all()
    assert set(visits["duration_min"].astype(int)) <= {30, 45, 60, 75, 90}
    dates = pd.to_datetime(visits["visit_date"]).dt.date
    assert dates.max() <= END and dates.min() >= dt.date(1900, 1, 1)
    clients = _read(out, "clients")
    intake = pd.to_datetime(clients["intake_date"]).dt.date
    assert intake.max() <= END and intake.min() >= dt.date(1900, 1, 1)
    assert clients["birth_year"].astype(int).between(1900, END.year - 18).all()
    assert {_canon(CLIENT_STATUS, s) for s in clients["status"]} <= {"active", "discharged", "referred_out"}
    assert {_canon(REGIONS, r) for r in clients["complaint_region"]} <= {
        "neck",
        "low_back",
        "shoulder",
        "head",
        "forearm_wrist",
        "hip",
        "upper_back",
    }
    reports = _read(out, "self_reports")
    assert pd.to_datetime(reports["reported_at"]).dt.date.max() <= END
    assert reports["pain"].astype(int).between(0, 10).all()
    assert reports["pgic"].dropna().astype(int).between(1, 7).all()
    assert set(reports["did_homecare"].dropna()) <= {"yes", "no"}
    tps = _read(out, "trigger_points")
    assert tps["tenderness"].dropna().astype(int).between(0, 10).all()
    assert set(tps["released"].dropna()) <= {"yes", "partial", "no"}
    rom = _read(out, "rom")
    assert set(rom["timing"]) == {"pre", "post"}
    assert {_canon(SIDES, s) for s in rom["side"]} <= {"left", "right", "none"}
    assert {_canon(INSTRUMENTS, s) for s in rom["instrument"]} <= {"goniometer", "inclinometer", "crom"}
    for (joint, movement), grp in rom.groupby(["joint", "movement"]):
        lo, hi, _ = rom_bounds(joint, movement)
        assert grp["degrees"].astype(float).between(max(lo, 0), hi).all(), (joint, movement)
    om = _read(out, "outcome_measures")
    assert om["total_score"].isna().all()
    for instrument, grp in om.groupby("instrument"):
        n_items, lo, hi = {"NDI": (10, 0, 5), "ODI": (10, 0, 5), "QuickDASH": (11, 1, 5), "PSFS": (3, 0, 10)}[
            _canon(QUESTIONNAIRES, instrument)
        ]
        items = grp[[f"item_{i}" for i in range(1, 21)]].astype(float)
        assert items.iloc[:, n_items:].isna().all().all(), instrument
        answered = items.iloc[:, :n_items]
        assert (answered.isna().sum(axis=1) <= 1).all(), instrument
        assert answered.stack().dropna().between(lo, hi).all(), instrument


def test_ids_and_names_are_unique_and_private(clinic):
    out, _, _, _ = clinic
    clients = _read(out, "clients")
    assert clients["client_id"].is_unique and clients["client_id"].str.fullmatch(r"C\d{4}").all()
    names = clients["display_name"].tolist()
    assert len(set(names)) == len(names)
    lowered = [n.lower() for n in names]
    # no client's name may appear inside another client's name (or report)
    for i, a in enumerate(lowered):
        assert not any(a in b for j, b in enumerate(lowered) if j != i), names[i]


def test_names_unique_beyond_the_combinations(tmp_path):
    from pipelines.sample.practice import display_names

    names = display_names(6000, np.random.default_rng(1))
    assert len(set(names)) == 6000
    assert not any(a in b for a, b in zip(names[:200], names[1:201]))


def test_referential_integrity(clinic):
    out, _, _, visits = clinic
    clients = set(_read(out, "clients")["client_id"])
    assert visits["visit_id"].is_unique
    assert set(visits["client_id"]) <= clients
    visit_ids = set(visits["visit_id"])
    for kind in ("rom", "trigger_points"):
        assert set(_read(out, kind)["visit_id"]) <= visit_ids, kind
    for kind in ("self_reports", "outcome_measures"):
        assert set(_read(out, kind)["client_id"]) <= clients, kind
    # natural keys of the contract are unique
    for kind in ("rom", "trigger_points", "outcome_measures"):
        df = _read(out, kind)
        assert not df.duplicated(list(KINDS[kind].key)).any(), kind
    reports = _read(out, "self_reports")
    reports["region"] = reports["region"].fillna("").map(lambda r: _canon(REGIONS, r) if r else "")
    assert not reports.duplicated(["client_id", "reported_at", "region"]).any()
    # intake is the first visit
    first = visits.groupby("client_id")["visit_date"].min()
    intake = _read(out, "clients").set_index("client_id")["intake_date"]
    assert (first == intake.loc[first.index]).all()


def test_spellings_are_known_aliases(solo, tmp_path):
    out, _ = solo
    visits = _read(out, "visits")
    techs = [t for cell in visits["techniques"].dropna() for t in cell.split(";")]
    canon = [_canon(TECHNIQUES, t) for t in techs]
    assert any(t != c for t, c in zip(techs, canon)), "alias_rate 0.15 should write some aliases"
    tps = _read(out, "trigger_points")
    [_canon(MUSCLES, m) for m in tps["muscle"]]
    [_canon(MUSCLES, m) for cell in visits["focus_muscles"].dropna() for m in cell.split(";")]
    [_canon(REGIONS, r) for r in list(tps["referral_region"].dropna()) + list(visits["pain_region"].dropna())]
    generate(tmp_path, n_clients=40, seed=7, alias_rate=0.0)
    plain = _read(tmp_path, "visits")
    assert all(t in TECHNIQUES.canonical_names for cell in plain["techniques"].dropna() for t in cell.split(";"))


def test_blends_and_missing_values(clinic):
    _, _, _, visits = clinic
    sizes = visits["tech_set"].map(len)
    assert sizes[sizes > 0].between(2, 4).all()
    assert (sizes == 0).any() or visits["techniques"].isna().sum() == 0
    assert 0.02 < visits["pain_post"].isna().mean() < 0.09
    assert 0.005 < visits["pressure"].isna().mean() < 0.06
    assert visits["pain_pre"].isna().any()
    share = {t: visits["tech_set"].map(lambda s, t=t: t in s).mean() for t in COMMON}
    assert min(share.values()) >= 0.07, share


def test_confounding_by_indication(clinic):
    _, _, _, visits = clinic
    tp = visits.loc[visits["tech_set"].map(lambda s: "trigger_point" in s), "pain_pre"].mean()
    sw = visits.loc[visits["tech_set"].map(lambda s: "swedish" in s), "pain_pre"].mean()
    assert tp > sw + 0.5


def test_regression_to_the_mean_first_visit_is_a_peak(clinic):
    _, _, _, visits = clinic
    v = visits.dropna(subset=["pain_pre"]).sort_values(["client_id", "visit_date"])
    v["n"] = v.groupby("client_id").cumcount()
    first = v[v["n"] == 0].set_index("client_id")["pain_pre"]
    later = v[v["n"] > 0].groupby("client_id")["pain_pre"].mean()
    both = first.index.intersection(later.index)
    assert (first[both] - later[both]).mean() > 1.0


def test_relief_on_average_and_solo_visit_counts(clinic, solo):
    _, _, _, visits = clinic
    change = (visits["pain_post"] - visits["pain_pre"]).dropna()
    assert -3 < change.mean() < -0.5
    _, summary = solo
    assert 8 <= summary["visits"] / 40 <= 20
    assert summary["self_reports"] > summary["visits"]


def test_truth_json(solo):
    out, summary = solo
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    for key in (
        "seed",
        "n_clients",
        "end_date",
        "technique_effects",
        "synergy",
        "pressure_response",
        "carry_over",
        "rtm_coefficient",
        "description",
    ):
        assert key in truth, key
    assert truth["seed"] == 7 and truth["n_clients"] == 40 and truth["end_date"] == END.isoformat()
    assert set(truth["technique_effects"]) == set(TECHS)
    assert truth["technique_effects"]["trigger_point"] == -1.0
    assert truth["synergy"]["techniques"] == ["trigger_point", "stretching"] and truth["synergy"]["effect"] == -0.5
    pr = truth["pressure_response"]
    assert pr["optimum"] == 3 and pr["relative_to_pressure_3"]["3"] == 0
    assert pr["relative_to_pressure_3"]["1"] > pr["relative_to_pressure_3"]["2"] > 0
    assert truth["rows"] == summary


def test_effects_none_and_overrides(tmp_path):
    generate(tmp_path, n_clients=20, seed=3, effects="none")
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert all(v == 0.0 for v in truth["technique_effects"].values())
    assert truth["synergy"]["effect"] == 0.0
    assert all(v == 0.0 for v in truth["pressure_response"]["values"].values())
    p = planted_effects({"trigger_point": -2.0, "technique_effects": {"Swedish massage": -0.6}, "synergy": None})
    assert p["technique_effects"]["trigger_point"] == -2.0 and p["technique_effects"]["swedish"] == -0.6
    assert p["synergy"]["effect"] == 0.0 and p["technique_effects"]["stretching"] == -0.4
    with pytest.raises(ValueError):
        planted_effects({"no_such_knob": 1})


def test_small_clinic_run_is_fast(clinic):
    out, summary, elapsed, visits = clinic
    assert elapsed < 5.0
    assert summary["visits"] == len(visits) and summary["clients"] == 300


def test_committed_sample_matches_its_truth():
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 7 and truth["n_clients"] == 40
    for kind in KINDS:
        with open(SAMPLE_DIR / f"{kind}.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == list(KINDS[kind].columns)
        assert len(rows) - 1 == truth["rows"][kind], kind


def test_the_committed_sample_is_regenerated_byte_for_byte(tmp_path):
    """The generator draws from its own list of techniques: a technique added to the vocabulary
    (soft tissue release) changes no file of the sample practice."""
    assert "soft_tissue_release" in TECHNIQUES.canonical_names
    generate(tmp_path, n_clients=40, seed=7)
    for kind in KINDS:
        assert (tmp_path / f"{kind}.csv").read_bytes() == (SAMPLE_DIR / f"{kind}.csv").read_bytes(), kind


def test_a_technique_the_sample_does_not_use_cannot_be_given_an_effect():
    with pytest.raises(ValueError, match="does not use"):
        planted_effects({"STR": -0.5})
