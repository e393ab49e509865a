"""Cached reads for the Technique response page.

Every function takes plain, hashable arguments only - the database path, its
:func:`pipelines.warehouse.db.data_version` token and the filters - so ``st.cache_data`` keys on
exactly those: a new import changes the version and the next rerun recomputes; two
sessions with the same filters share one analysis.  Filters are tuples (hashable) and are
passed to :mod:`pipelines.techniques.analysis` (the one front door) as bound SQL parameters.  The database
is read through ``pipelines.warehouse.db.read_connection`` (short-lived, read-only), never held open.

The front door decides the path by size (``analysis.LARGE_DATA_VISITS``); both estimate the same
within-client comparison.  Above the limit the visit frame is never loaded - 2.4 million visits
in pandas were ~10 GB, and ``st.cache_data`` copies (pickles) a cached frame on every rerun.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from pipelines.clinical import practice_mic as pmic
from pipelines.techniques import analysis, large, model
from pipelines.techniques.common import DEFAULT_MIN_CLIENTS_PER_ARM, TechniqueReport

TTL = "1h"
DRILL_LIMIT = large.DRILL_LIMIT
technique_visits = model.technique_visits  # the visits behind an estimate, from the cached frame


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def options(db: str, version: str) -> dict:
    """Complaint regions, therapists and the date range, for the filter widgets."""
    return model.filter_options(db)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def visits(
    db: str,
    version: str,
    regions: tuple[str, ...] | None,
    therapists: tuple[str, ...] | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> pd.DataFrame:
    """The visit-level frame behind every estimate on the page (filtered)."""
    return model.load_visits(db, regions=regions, therapists=therapists, date_from=date_from, date_to=date_to)


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def is_large(
    db: str,
    version: str,
    regions: tuple[str, ...] | None,
    therapists: tuple[str, ...] | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> bool:
    """Whether the filters select more visits than the in-memory path takes (one count)."""
    return analysis.uses_sql_path(db, regions=regions, therapists=therapists, date_from=date_from, date_to=date_to)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner="Fitting the technique model…")
def report(
    db: str,
    version: str,
    outcome: str,
    regions: tuple[str, ...] | None,
    therapists: tuple[str, ...] | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    min_clients: int,
) -> TechniqueReport:
    """The full analysis (techniques, pairs, mixes, pressure) for one outcome and filter set."""
    return analysis.technique_report(
        db,
        outcome,
        regions=regions,
        therapists=therapists,
        date_from=date_from,
        date_to=date_to,
        min_clients=min_clients,
    )


@st.cache_data(ttl=TTL, max_entries=16, show_spinner="Fitting one model per complaint region…")
def by_region(
    db: str,
    version: str,
    outcome: str,
    regions: tuple[str, ...] | None,
    therapists: tuple[str, ...] | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    min_clients: int,
) -> pd.DataFrame:
    """Technique estimates within each complaint region (Benjamini-Hochberg across the whole table)."""
    return analysis.subgroups(
        db,
        outcome,
        regions=regions,
        therapists=therapists,
        date_from=date_from,
        date_to=date_to,
        min_clients=min_clients,
    )


@st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)
def drill(
    db: str,
    version: str,
    technique: str | None,
    mix: str | None,
    regions: tuple[str, ...] | None,
    therapists: tuple[str, ...] | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> tuple[pd.DataFrame, int, int]:
    """Large practices: the newest visits behind a technique or mix, and how many visits/clients in all."""
    return large.drill_visits(
        db, technique=technique, mix=mix, regions=regions, therapists=therapists, date_from=date_from, date_to=date_to
    )


@st.cache_data(ttl=TTL, max_entries=8, show_spinner="Estimating this practice's own threshold…")
def practice_mic(db: str, version: str) -> pmic.PracticeMic:
    """The practice's own minimal important change in pain from its clients' PGIC answers (bootstrap)."""
    return pmic.practice_mic(db)


def min_clients(settings: dict) -> int:
    """``analysis.min_clients_per_arm`` from the practice settings (default 8)."""
    try:
        return int(settings["analysis"]["min_clients_per_arm"])
    except (KeyError, TypeError, ValueError):
        return DEFAULT_MIN_CLIENTS_PER_ARM
