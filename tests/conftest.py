"""Shared fixtures: real DuckDB files in a temporary folder, the committed sample practice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
MESSY = SAMPLE / "messy"
SAMPLE_ORDER = [
    "clients.csv",
    "visits.csv",
    "rom.csv",
    "self_reports.csv",
    "trigger_points.csv",
    "outcome_measures.csv",
]


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "test.duckdb"


def write_csv(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """The committed solo practice, imported once per test session (read-only for tests)."""
    from pipelines.ingest.importer import ingest_files

    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    reports = ingest_files([SAMPLE / f for f in SAMPLE_ORDER if (SAMPLE / f).exists()], db=path)
    assert all(r.error is None for r in reports), [r.error for r in reports]
    return path


@pytest.fixture
def sample_db_copy(sample_db, tmp_path) -> Path:
    """A private, writable copy of the sample database."""
    copy = tmp_path / "sample-copy.duckdb"
    shutil.copy(sample_db, copy)
    return copy


@pytest.fixture
def clean_streamlit_caches():
    """st caches are process-global: without this an AppTest sees the previous test's database
    (docs/engineering.md §3).  Use with ``pytestmark = pytest.mark.usefixtures("clean_streamlit_caches")``."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


# Hypothesis profiles (tests/test_hostile_input.py): "ci" keeps the property tests under about a
# minute on two cores; `HYPOTHESIS_PROFILE=slow` tries many more hostile files.  No deadline:
# one example is a real import into a real DuckDB file, whose time varies with the machine.
try:
    from hypothesis import HealthCheck
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile(
        "ci",
        deadline=None,
        max_examples=40,
        derandomize=False,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    _hypothesis_settings.register_profile(
        "slow",
        deadline=None,
        max_examples=600,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    import os as _os

    _hypothesis_settings.load_profile(_os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # hypothesis comes with the [test] extra; without it the other tests still run
    pass
