"""Reads for the practice body map: where clients hurt and where trigger points are found.

Aggregates in DuckDB (one row per region, one per muscle and side), never one row per visit,
so the cost stays small from a solo practice to a network; cached by path and data version.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipelines.warehouse.db import read_connection

TTL = "1h"

# Clients who reported pain in each region at any visit, and how many clients reported any region.
PRACTICE_REGIONS_SQL = """
select pain_region as region, count(distinct client_id) as n_clients,
       (select count(distinct client_id) from marts.visit_outcomes where pain_region is not null) as n_with_region
from marts.visit_outcomes
where pain_region is not null
group by pain_region
order by n_clients desc, region
"""

# Clients in whom a trigger point was found in each muscle and side.
PRACTICE_TRIGGER_POINTS_SQL = """
select muscle, side, count(distinct client_id) as n_clients
from marts.trigger_points
group by muscle, side
order by n_clients desc, muscle, side
"""


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def practice_body(db: str, version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(regions: region, n_clients, n_with_region, share; trigger points: muscle, side, n_clients)."""
    with read_connection(db) as con:
        regions = con.execute(PRACTICE_REGIONS_SQL).df()
        points = con.execute(PRACTICE_TRIGGER_POINTS_SQL).df()
    regions["share"] = regions["n_clients"] / regions["n_with_region"] if len(regions) else []
    return regions, points
