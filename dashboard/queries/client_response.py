"""Cached read + fit for this client's own technique response (Client progress, client view).

The fit needs every client's visits (the practice effect and the spread between clients come
from all of them): about 1 s for a 2,000-client clinic.  It is done once per data version and
held with ``st.cache_resource`` (not copied per rerun); each client's rows are then a few
milliseconds and cached by ``client_id``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipelines.techniques import client_response as cr
from pipelines.techniques import course
from pipelines.techniques.suggest import Suggestion, suggest

TTL = "1h"


@st.cache_resource(ttl=TTL, max_entries=4, show_spinner=False)
def practice_fit(db: str, version: str) -> cr.PracticeFit:
    return cr.fit_practice(cr.load_visits(db))


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def client_rows(db: str, version: str, client_id: str) -> pd.DataFrame:
    """One row per technique the client has had, best evidence first."""
    return cr.client_response(practice_fit(db, version), client_id)


def client_reason(db: str, version: str, client_id: str) -> str | None:
    return cr.client_reason(practice_fit(db, version), client_id)


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def suggestions(db: str, version: str, client_id: str) -> list[Suggestion]:
    """Keep / worth trying / probably drop for the next visit (pipelines.techniques.suggest)."""
    return suggest(practice_fit(db, version), client_id)


@st.cache_resource(ttl=TTL, max_entries=4, show_spinner=False)
def _course(db: str, version: str) -> tuple[pd.DataFrame, course.CourseModel | None]:
    visits = course.load_visits(db)
    return visits, course.fit(visits)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def course_standings(db: str, version: str) -> pd.Series | None:
    """Every client's standing against the expected course (None when the practice is too small to model)."""
    visits, model = _course(db, version)
    return None if model is None else course.latest_standings(model, visits)


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def client_course(db: str, version: str, client_id: str) -> pd.DataFrame:
    """The expected course at this client's visits (empty when the practice is too small to model)."""
    visits, model = _course(db, version)
    if model is None:
        return pd.DataFrame(columns=["visit_number", "visit_date", "pain_pre", "expected", "low", "high"])
    return course.client_course(model, visits, client_id)
