"""Technique response: the visits behind an estimate (a technique or an exact mix), as a table.

Small practices list them from the cached visit frame; a large one looks them up in SQL only when
asked (never the whole visit frame at that size) and lists the newest.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.charts import techniques as tc
from dashboard.charts.progress import pretty
from dashboard.queries import techniques as tqq
from pipelines.techniques.common import TechniqueReport

COLUMNS = {
    "visit_id": "Visit",
    "client_id": "Client",
    "visit_date": "Date",
    "visit_number": "Visit no.",
    "therapist": "Therapist",
    "complaint_region": "Complaint region",
    "pressure": "Pressure",
    "technique_set": "Techniques",
    "pain_pre": "Pain before",
    "pain_post": "Pain after",
    "pain_change": "Change",
    "carryover_change": "Carry-over",
    "self_report_change": "Self-report change (7 d)",
    "rom_mean_change_deg": "ROM change (°)",
}
SIGNED = ("Change", "Carry-over", "Self-report change (7 d)", "ROM change (°)")
PLAIN = ("Pressure", "Pain before", "Pain after")
FORMATS = {"Date": st.column_config.DateColumn(format="D MMM YYYY")}


def _plain(value) -> str:
    return "—" if pd.isna(value) else f"{float(value):g}"


def drill_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The visits as a therapist reads them: mixes in words, "—" for a missing number (never None),
    changes signed with a real minus sign."""
    out = rows.assign(technique_set=rows["technique_set"].map(tc.mix_label)).rename(columns=COLUMNS)
    for name in SIGNED:
        if name in out:
            out[name] = [tc.text_value(v, 1) for v in out[name]]
    for name in PLAIN:
        if name in out:
            out[name] = [_plain(v) for v in out[name]]
    return out


def render(db: str, ver: str, rep: TechniqueReport, filters: tuple, large: bool) -> None:
    st.subheader("Visits behind an estimate")
    kind = st.radio("Look at", ["Technique", "Mix"], horizontal=True, key="tq_drill_kind")
    if kind == "Technique":
        choices = list(rep.techniques.sort_values("n_visits", ascending=False)["technique"])
        picked = st.selectbox("Technique", choices, format_func=pretty, key="tq_drill")
        what, args = f"used {pretty(picked).lower()}", (picked, None)
    else:
        choices = list(rep.mixes.sort_values("n_visits", ascending=False)["mix"])
        picked = st.selectbox("Mix", choices, format_func=tc.mix_label, key="tq_drill_mix")
        what, args = f"had exactly {tc.mix_label(picked).lower()}", (None, picked)
    if large:
        if not st.toggle(
            "List the visits",
            key="tq_drill_show",
            help="A practice this size has up to a million visits behind one technique: they are looked "
            f"up when asked for, and the newest {tqq.DRILL_LIMIT} are listed.",
        ):
            return
        rows, n_rows, n_clients = tqq.drill(db, ver, *args, *filters)
        shown = f" The newest {len(rows):,} are listed." if len(rows) < n_rows else ""
    else:
        rows = tqq.technique_visits(tqq.visits(db, ver, *filters), technique=args[0], mix=args[1])
        n_rows, n_clients, shown = len(rows), rows["client_id"].nunique(), ""
    st.caption(
        f"{n_rows:,} visits of {n_clients:,} clients {what} (with the filters above; the "
        "model uses those with the outcome and pain before recorded)." + shown
    )
    st.dataframe(drill_table(rows), hide_index=True, key="tq_drill_table", column_config=FORMATS)
