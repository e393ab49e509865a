"""The Clients page's pieces: the client form (new or edit), a client's change history, and the table of
every client.  The rules for a clients row and the audit row live in ``pipelines.entry.forms``."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from dashboard.charts import progress as charts
from dashboard.text import md
from pipelines.entry import forms as entry
from pipelines.ingest.vocab import CLIENT_STATUS, SEX

STATUS_LABELS = {"active": "Active", "discharged": "Discharged", "referred_out": "Referred out"}


def _show(field: str) -> None:
    """The problems a refused save left on ``field`` (``cl_problems``), under its input."""
    for p in st.session_state.get("cl_problems", []):
        if p.field == field:
            st.error(p.message, icon=":material/error:")


def client_form(
    current: entry.ClientEntry, editing: bool, suffix: str, options: dict, date_format: str
) -> tuple[entry.ClientEntry, bool]:
    """The form, filled from ``current``; returns what it holds (the client code from ``current`` when
    editing: it cannot change) and whether Save was pressed.  ``suffix`` keys the inputs, so a new one
    starts empty."""
    ss = st.session_state
    today = dt.date.today()
    if ss.get("cl_problems"):
        st.error("Not saved: fix the fields marked below.", icon=":material/block:")
    with st.form(f"cl_form_{suffix}", border=True, enter_to_submit=False):
        st.markdown(f"**{'Edit ' + md(current.display_name or '') if editing else 'New client'}**")
        a, b, c, d = st.columns([1.2, 2.5, 1, 1.3])
        client_id = a.text_input(
            "Client code",
            value=current.client_id or "",
            key=f"cl_id_{suffix}",
            disabled=editing,
            help="A short code used in files and links, e.g. C0041. It cannot change later.",
        )
        display_name = b.text_input(
            "Name",
            value=current.display_name or "",
            key=f"cl_name_{suffix}",
            placeholder="First name and initial, e.g. Maria K.",
        )
        birth_year = c.number_input(
            "Birth year", value=current.birth_year, step=1, key=f"cl_birth_{suffix}", placeholder="e.g. 1980"
        )
        sex_options = SEX.canonical_names
        sex = d.selectbox(
            "Sex",
            sex_options,
            index=sex_options.index(current.sex) if current.sex in sex_options else None,
            key=f"cl_sex_{suffix}",
            format_func=charts.pretty,
            placeholder="Optional",
        )
        with a:
            _show("client_id")
        with b:
            _show("display_name")
        with c:
            _show("birth_year")
        with d:
            _show("sex")
        a, b, c, d = st.columns([2.2, 1.6, 1.6, 2])
        complaint = a.text_input(
            "Main complaint",
            value=current.primary_complaint or "",
            key=f"cl_complaint_{suffix}",
            placeholder="e.g. Neck pain with headaches",
        )
        regions = list(
            dict.fromkeys([*options["region"], *([current.complaint_region] if current.complaint_region else [])])
        )
        region = b.selectbox(
            "Region",
            regions,
            key=f"cl_region_{suffix}",
            format_func=charts.pretty,
            index=regions.index(current.complaint_region) if current.complaint_region in regions else None,
            accept_new_options=True,
            placeholder="Where",
        )
        intake = c.date_input(
            "Intake date",
            value=current.intake_date if editing else today,
            key=f"cl_intake_{suffix}",
            format=date_format,
            min_value=dt.date(1990, 1, 1),
            max_value=today + dt.timedelta(days=366),
        )
        statuses = CLIENT_STATUS.canonical_names
        status = d.radio(
            "Status",
            statuses,
            index=statuses.index(current.status) if current.status in statuses else 0,
            key=f"cl_status_{suffix}",
            format_func=lambda s: STATUS_LABELS.get(s, s),
            horizontal=True,
        )
        for col, field in ((a, "primary_complaint"), (b, "complaint_region"), (c, "intake_date"), (d, "status")):
            with col:
                _show(field)
        notes = st.text_area(
            "Notes",
            value=current.notes or "",
            key=f"cl_notes_{suffix}",
            height=70,
            placeholder="Preferences, contraindications, referral details",
        )
        submitted = st.form_submit_button(
            "Save changes" if editing else "Add client", type="primary", icon=":material/save:", key="cl_save"
        )
    form = entry.ClientEntry(
        client_id=current.client_id if editing else client_id,
        display_name=display_name,
        birth_year=birth_year,
        sex=sex,
        primary_complaint=complaint,
        complaint_region=region,
        intake_date=intake,
        status=status,
        notes=notes,
    )
    return form, submitted


def change_history(history: pd.DataFrame) -> None:
    """A client's audit rows (``queries.entry.audit_for``) as "field: before → after", newest first."""
    if not len(history):
        return
    rows = []
    for r in history.itertuples():
        before = json.loads(r.before) if isinstance(r.before, str) else {}
        after = json.loads(r.after) if isinstance(r.after, str) else {}
        changed = [
            f"{k}: {before.get(k) or '—'} → {after.get(k) or '—'}"
            for k in after
            if before and before.get(k) != after.get(k)
        ]
        rows.append(
            {
                "When": pd.Timestamp(r.at),
                "What": r.action,
                "Changes": "; ".join(changed) if changed else ("added" if r.action == "insert" else ""),
            }
        )
    with st.expander(f"Change history ({len(history)})"):
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            key="cl_history",
            column_config={"When": st.column_config.DatetimeColumn(format="DD MMM YYYY HH:mm")},
        )
