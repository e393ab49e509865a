"""Clients: add a client, edit one, mark them discharged or referred out.

Thin page: the rules (the import's validation for a clients row, a unique client code, the
status vocabulary) and the audit row live in ``pipelines.entry.forms``.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from dashboard import page_parts
from dashboard.charts import progress as charts
from dashboard.queries import entry as eq
from dashboard.queries import therapist as queries
from dashboard.text import md
from pipelines.entry import forms as entry
from pipelines.ingest.vocab import CLIENT_STATUS, SEX
from pipelines.warehouse.db import DatabaseBusy

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
ss = st.session_state
today = dt.date.today()
DATE_FORMAT = page_parts.date_input_format(settings)
STATUS_LABELS = {"active": "Active", "discharged": "Discharged", "referred_out": "Referred out"}

for key, default in (("cl_gen", 0), ("cl_problems", [])):
    ss.setdefault(key, default)

st.title("Clients")
clients = eq.all_clients(db, ver)
names = dict(zip(clients["client_id"], clients["display_name"]))
options = eq.vocabulary_options(db, ver)


def _reset() -> None:
    ss["cl_gen"] += 1
    ss["cl_problems"] = []


def _show(field: str) -> None:
    for p in ss.get("cl_problems", []):
        if p.field == field:
            st.error(p.message, icon=":material/error:")


flash = ss.pop("cl_flash", None)
if flash:
    st.success(flash[0], icon=":material/check_circle:")
    for w in flash[1]:
        st.warning(w, icon=":material/info:")

if "cl_pick_next" in ss:  # a client just added: open it (set before the picker exists)
    ss["cl_pick"] = ss.pop("cl_pick_next")
pick_col, _ = st.columns([3, 4])
picked = pick_col.selectbox(
    "Add a new client, or pick one to edit",
    [None, *clients["client_id"]],
    key="cl_pick",
    on_change=_reset,
    format_func=lambda c: "— new client —" if c is None else f"{names[c]} ({c})",
    placeholder="Type a name or client code…",
)
editing = picked is not None
current = (
    page_parts.load_client(db, ver, picked)
    if editing
    else entry.ClientEntry(client_id=page_parts.next_client_id(db, ver))
)
if editing and current is None:
    st.warning("That client no longer exists.")
    st.stop()
gen = ss["cl_gen"]
suffix = f"{gen}_{picked or 'new'}"

if ss.get("cl_problems"):
    st.error("Not saved: fix the fields marked below.", icon=":material/block:")
with st.form(f"cl_form_{suffix}", border=True, enter_to_submit=False):
    st.markdown(f"**{'Edit ' + md(names[picked]) if editing else 'New client'}**")
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
        format=DATE_FORMAT,
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

if submitted:
    form = entry.ClientEntry(
        client_id=picked if editing else client_id,
        display_name=display_name,
        birth_year=birth_year,
        sex=sex,
        primary_complaint=complaint,
        complaint_region=region,
        intake_date=intake,
        status=status,
        notes=notes,
    )
    try:
        saved = entry.save_client(form, db=db, editing=editing)
    except entry.EntryError as exc:
        ss["cl_problems"] = exc.problems
        st.rerun()
    except DatabaseBusy as busy:  # no st.rerun/st.stop: the form keeps every value typed
        page_parts.not_saved_busy(busy, "Save changes" if editing else "Add client")
    else:
        ss["cl_flash"] = (
            f"{'Updated' if editing else 'Added'} {display_name} ({saved.key}).",
            [w.message for w in saved.warnings],
        )
        _reset()
        if not editing:
            ss["cl_pick_next"] = saved.key
        st.rerun()

if editing:
    links = st.container(horizontal=True)
    links.page_link(
        "app_pages/log_visit.py",
        label=f"Log a visit for {md(names[picked])}",
        query_params={"client": picked},
        icon=":material/edit_note:",
    )
    links.page_link(
        "app_pages/client_progress.py",
        label="See progress",
        query_params={"client": picked},
        icon=":material/monitoring:",
    )
    history = eq.audit_for(db, ver, "clients", picked)
    if len(history):
        with st.expander(f"Change history ({len(history)})"):
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
            st.dataframe(
                pd.DataFrame(rows),
                hide_index=True,
                key="cl_history",
                column_config={"When": st.column_config.DatetimeColumn(format="DD MMM YYYY HH:mm")},
            )

# --- Everyone ---------------------------------------------------------------------------------
st.subheader("All clients")
if clients.empty:
    st.info(
        "No clients yet: add the first one above, or import a clients file on the Import page.",
        icon=":material/group_add:",
    )
    st.stop()
show = st.segmented_control("Show", ["Active", "Discharged", "Referred out", "All"], default="Active", key="cl_filter")
status_key = {"Active": "active", "Discharged": "discharged", "Referred out": "referred_out"}.get(show or "All")
table = clients if status_key is None else clients[clients["status"].fillna("active") == status_key]
st.dataframe(
    pd.DataFrame(
        {
            "Code": table["client_id"],
            "Name": table["display_name"],
            "Status": table["status"].map(
                lambda s: STATUS_LABELS.get(s, charts.pretty(s)) if isinstance(s, str) else "—"
            ),
            "Complaint": table["primary_complaint"].fillna("—"),
            "Region": table["complaint_region"].map(charts.pretty),
            "Visits": table["n_visits"].fillna(0).astype(int),
            "Last visit": pd.to_datetime(table["last_visit"]),
        }
    ),
    hide_index=True,
    key="cl_table",
    column_config={"Last visit": st.column_config.DateColumn(format="DD MMM YYYY")},
)
st.caption(f"{len(table)} of {len(clients)} clients. Pick one above to edit them or change their status.")
