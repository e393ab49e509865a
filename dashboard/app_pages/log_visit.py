"""Log a visit: the form a therapist fills in between two clients, in under a minute.

Thin page: widgets here, rules in ``pipelines.entry.forms`` (the import's own validation, one
write transaction, audit, marts), reads in ``dashboard.queries.entry``.  A refused form
keeps every value and shows each problem under its field; a saved one clears for the next
visit and links to the client's progress, where the visit is already showing.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import page_parts
from dashboard.body_frames import practice_places
from dashboard.charts import progress as charts
from dashboard.components import body_picker as picker
from dashboard.components import brief
from dashboard.queries import brief as brief_queries
from dashboard.queries import entry as eq
from dashboard.queries import therapist as queries
from dashboard.rom_inputs import rom_number_inputs
from dashboard.state import CLIENT_KEY
from dashboard.text import md
from pipelines.clinical.outcomes import classify_outcomes, outcome_summary
from pipelines.clinical.questionnaires import INSTRUMENTS
from pipelines.entry import forms as entry
from pipelines.entry.readings import doubtful_readings, last_readings
from pipelines.ingest.vocab import INSTRUMENTS as ROM_INSTRUMENTS
from pipelines.ingest.vocab import JOINTS, MOVEMENTS, RELEASED, SIDES
from pipelines.warehouse.db import DatabaseBusy

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
ss = st.session_state
today = dt.date.today()
DATE_FORMAT = page_parts.date_input_format(settings)

st.title("Log a visit")
clients = eq.all_clients(db, ver)
if clients.empty:
    st.info("No clients yet. Add your first client, then log their visit here.", icon=":material/person_add:")
    st.page_link("app_pages/clients.py", label="Add a client", icon=":material/person_add:")
    st.stop()

# Active clients first: they are the ones being seen.
order = clients.assign(_inactive=clients["status"].fillna("active") != "active").sort_values(
    ["_inactive", "display_name", "client_id"]
)
ids = order["client_id"].tolist()
names = dict(zip(clients["client_id"], clients["display_name"]))
status_of = dict(zip(clients["client_id"], clients["status"]))
options = eq.vocabulary_options(db, ver)

for key, default in (
    ("lv_gen", 0),
    ("lv_qgen", 0),
    ("lv_problems", []),
    ("lv_q_problems", []),
    ("lv_edit", None),
    ("lv_prefill", None),
):
    ss.setdefault(key, default)
# The address says which client; without one, the client last chosen on any page (the navigation keeps it).
wanted = st.query_params.get("client") or ss.get(CLIENT_KEY)


def _client_label(cid: str) -> str:
    status = status_of.get(cid)
    tail = f" · {charts.pretty(status)}" if isinstance(status, str) and status != "active" else ""
    return f"{names[cid]} ({cid}){tail}"


def _pain(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value) + 0.0:g}"  # + 0.0: never "-0"


def _reset_form() -> None:
    ss["lv_gen"] += 1
    ss["lv_problems"] = []
    ss["lv_edit"] = None
    ss["lv_prefill"] = None
    ss.pop("lv_edit_pick", None)


def _client_changed() -> None:
    _reset_form()
    ss["lv_q_problems"] = []
    if ss.get("lv_client"):
        st.query_params["client"] = ss["lv_client"]
        ss[CLIENT_KEY] = ss["lv_client"]


def _start_edit() -> None:
    vid = ss.get("lv_edit_pick")
    ss["lv_gen"] += 1
    ss["lv_problems"] = []
    ss["lv_edit"] = vid
    ss["lv_prefill"] = entry.load_visit(vid, db=db) if vid else None


def _problems(field: str, kind: str = "lv_problems") -> list[entry.Problem]:
    return [p for p in ss.get(kind, []) if p.field == field]


def _show(*fields: str, kind: str = "lv_problems") -> None:
    """Each problem of these fields, right under the field."""
    for f in fields:
        for p in _problems(f, kind):
            st.error(p.message, icon=":material/error:")


if wanted in names and ss.get("lv_client") != wanted and not ss.get("lv_edit"):
    # Opened from a link (client page, Clients page): the address says which client.
    ss["lv_client"] = wanted
    _reset_form()
reset = ss.pop("lv_reset", None)
if reset:  # after a save or delete: a fresh form, set before any widget exists
    _reset_form()
    if reset == "new visit saved":
        # The next visit is usually another client's: never leave the last one selected.
        ss["lv_client"] = None
        st.query_params.pop("client", None)
        ss.pop(CLIENT_KEY, None)

# --- Flash messages from the previous run (saved / deleted) ------------------------------------
flash = ss.pop("lv_flash", None)
if flash:
    kind, message, extra, flash_client = flash
    getattr(st, kind)(message, icon=":material/check_circle:" if kind == "success" else None)
    for w in extra:
        st.warning(w, icon=":material/info:")
    if flash_client in names:
        st.page_link(
            "app_pages/client_progress.py",
            label=f"See {md(names[flash_client])}'s progress",
            query_params={"client": flash_client},
            icon=":material/monitoring:",
        )

# --- Who and when ----------------------------------------------------------------------------
editing = ss.get("lv_edit")
prefill: entry.VisitEntry = ss.get("lv_prefill") or entry.VisitEntry()
gen = ss["lv_gen"]
who, when, which = st.columns([3, 1.4, 3], vertical_alignment="bottom")
client_id = who.selectbox(
    "Client",
    ids,
    index=None,
    key="lv_client",
    format_func=_client_label,
    placeholder="Type a name or client code…",
    on_change=_client_changed,
    disabled=bool(editing),
)
visit_date = when.date_input(
    "Date",
    value=prefill.visit_date or today,
    key=f"lv_date_{gen}",
    format=DATE_FORMAT,
    min_value=dt.date(1990, 1, 1),
    max_value=today + dt.timedelta(days=366),
)
with who:
    _show("client_id")
with when:
    _show("visit_date")

if client_id is None:
    st.info(
        "Choose the client to start. Not on the list? Add them on the Clients page.", icon=":material/person_search:"
    )
    st.page_link("app_pages/clients.py", label="Add a client", icon=":material/person_add:")
    st.stop()

recent = eq.client_recent_visits(db, ver, client_id)
visit_labels = {
    r.visit_id: f"{pd.Timestamp(r.visit_date):%d %b %Y} · pain {_pain(r.pain_pre)} → {_pain(r.pain_post)} · "
    f"{', '.join(charts.pretty(t) for t in r.techniques[:3]) or 'no techniques'}"
    for r in recent.itertuples()
}
which.selectbox(
    "Edit or delete an earlier visit",
    [None, *visit_labels],
    key="lv_edit_pick",
    on_change=_start_edit,
    format_func=lambda v: "— no, log a new visit —" if v is None else visit_labels.get(v, v),
)

if editing:
    note, cancel, delete = st.columns([6, 1.2, 1.6], vertical_alignment="center")
    note.info(
        f"Editing the visit of {pd.Timestamp(prefill.visit_date):%d %b %Y} ({editing}). Saving replaces it; "
        "the change is kept in the audit log.",
        icon=":material/edit:",
    )
    cancel.button("Cancel edit", key="lv_cancel", on_click=_reset_form, width="stretch")
    with delete.popover("Delete visit", icon=":material/delete:", width="stretch"):
        st.write(
            f"Delete the visit of {pd.Timestamp(prefill.visit_date):%d %b %Y} with its ROM readings and "
            "trigger points? The audit log keeps a copy."
        )
        if st.button("Yes, delete this visit", key="lv_delete_confirm", type="primary"):
            try:
                entry.delete_visit(editing, db=db)
            except DatabaseBusy as busy:  # the rest of the page still runs: nothing on it is lost
                page_parts.not_saved_busy(busy, "Yes, delete this visit")
            else:
                ss["lv_flash"] = (
                    "success",
                    f"Deleted the visit of {pd.Timestamp(prefill.visit_date):%d %b %Y} for {names[client_id]}.",
                    [],
                    client_id,
                )
                ss["lv_reset"] = "deleted"
                st.rerun()
else:
    brief.plan_reminder(brief_queries.client_brief(db, ver, client_id))
    same_day = recent[pd.to_datetime(recent["visit_date"]).dt.date == visit_date] if len(recent) else recent
    if len(same_day):
        st.warning(
            f"{md(names[client_id])} already has a visit on {visit_date:%d %b %Y}. Saving adds a second visit that "
            "day; to change the first one, pick it under *Edit or delete an earlier visit*.",
            icon=":material/event_repeat:",
        )

TABS = ["Visit", "Questionnaire (NDI, ODI, PSFS, QuickDASH, LEFS)"]
visit_tab, questionnaire_tab = st.tabs(
    TABS, key="lv_tabs", default=TABS[1] if st.query_params.get("tab") == "questionnaire" else TABS[0]
)

# --- The visit form ----------------------------------------------------------------------------
ROM_EDITOR_COLUMNS = list(entry.ROM_COLUMNS)
TP_EDITOR_COLUMNS = list(entry.TP_COLUMNS)


def _editor_frame(rows: list[dict], columns: list[str], numeric: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for c in columns:
        frame[c] = (
            pd.to_numeric(frame[c], errors="coerce").astype("float64") if c in numeric else frame[c].astype(object)
        )
    return frame


with visit_tab:
    if ss.get("lv_problems"):
        n = len(ss["lv_problems"])
        st.error(
            f"Not saved: {n} problem{'s' if n > 1 else ''} to fix, shown under each field.", icon=":material/block:"
        )
    picker.body_picker(
        gen,
        client_id,
        f"lv_pain_region_{gen}",
        practice_places(settings),
        prefill.trigger_points if editing else [],
        prefill.pain_region,
        visit_date,
    )
    with st.form(f"lv_form_{gen}", border=False, enter_to_submit=False):
        a, b, c, d = st.columns([4, 1.3, 1.3, 1.3])
        technique_options = list(dict.fromkeys([*options["technique"], *prefill.techniques]))
        techniques = a.multiselect(
            "Techniques",
            technique_options,
            default=prefill.techniques,
            key=f"lv_techniques_{gen}",
            format_func=charts.pretty,
            accept_new_options=True,
            select_all=False,
            placeholder="Pick, or type a new one and press Enter",
            help="A new technique is added to the practice's list; a likely typo of a known one is refused.",
        )
        pressure = b.number_input(
            "Pressure",
            value=prefill.pressure,
            step=1,
            key=f"lv_pressure_{gen}",
            placeholder="1–5",
            help="1 light, 2 moderate-light, 3 moderate, 4 deep, 5 very deep",
        )
        pain_pre = c.number_input(
            "Pain before",
            value=prefill.pain_pre,
            step=0.5,
            format="%.1f",
            key=f"lv_pain_pre_{gen}",
            placeholder="0–10",
            help="NPRS 0–10: 0 no pain … 10 worst imaginable; halves allowed",
        )
        pain_post = d.number_input(
            "Pain after",
            value=prefill.pain_post,
            step=0.5,
            format="%.1f",
            key=f"lv_pain_post_{gen}",
            placeholder="0–10",
            help="NPRS 0–10 at the end of the visit; leave empty if not asked",
        )
        with a:
            _show("techniques")
        with b:
            _show("pressure")
        with c:
            _show("pain_pre")
        with d:
            _show("pain_post")

        a, b, c, d = st.columns([2, 2, 1.3, 1.3])
        region_options = list(
            dict.fromkeys([*options["region"], *([prefill.pain_region] if prefill.pain_region else [])])
        )
        pain_region = a.selectbox(
            "Pain region",
            region_options,
            key=f"lv_pain_region_{gen}",
            format_func=charts.pretty,
            # A region clicked on the body is already in the session state: no default then.
            index=(
                region_options.index(prefill.pain_region)
                if prefill.pain_region and f"lv_pain_region_{gen}" not in ss
                else None
            ),
            accept_new_options=True,
            placeholder="Where it hurts",
        )
        muscle_options = list(dict.fromkeys([*options["muscle"], *prefill.focus_muscles]))
        focus_muscles = b.multiselect(
            "Focus muscles",
            muscle_options,
            default=prefill.focus_muscles,
            key=f"lv_focus_{gen}",
            format_func=charts.pretty,
            accept_new_options=True,
            select_all=False,
            placeholder="Optional",
        )
        therapist = c.text_input(
            "Therapist", value=prefill.therapist or ss.get("lv_last_therapist", ""), key=f"lv_therapist_{gen}"
        )
        duration = d.number_input(
            "Minutes", value=prefill.duration_min, step=5, key=f"lv_duration_{gen}", placeholder="e.g. 60"
        )
        for col, fields in (
            (a, ("pain_region",)),
            (b, ("focus_muscles",)),
            (c, ("therapist",)),
            (d, ("duration_min",)),
        ):
            with col:
                _show(*fields)

        with st.container():
            rom_rows = prefill.rom if editing else (page_parts.last_rom_set(db, ver, client_id) if client_id else [])
            if rom_rows:
                st.markdown(
                    "**Range of motion** — last time's movements: type what you measured (degrees; the jaw in "
                    "mm), blank ones are skipped."
                )
                measured = rom_number_inputs(rom_rows, key=f"lv_romin_{gen}_{client_id}")
            else:
                measured = []
            st.markdown(
                "**Other movements** (add a row per movement and side)"
                if rom_rows
                else "**Range of motion** (add a row per movement and side)"
            )
            rom_frame = _editor_frame([], ROM_EDITOR_COLUMNS, ("degrees_pre", "degrees_post"))
            rom = st.data_editor(
                rom_frame,
                key=f"lv_rom_{gen}_{client_id}",
                num_rows="dynamic",
                hide_index=True,
                width="stretch",
                column_config={
                    "joint": st.column_config.SelectboxColumn(
                        "Joint", options=JOINTS.canonical_names, format_func=charts.pretty
                    ),
                    "movement": st.column_config.SelectboxColumn(
                        "Movement", options=MOVEMENTS.canonical_names, format_func=charts.pretty
                    ),
                    "side": st.column_config.SelectboxColumn(
                        "Side", options=SIDES.canonical_names, format_func=charts.pretty
                    ),
                    "degrees_pre": st.column_config.NumberColumn("Before", format="%.0f"),
                    "degrees_post": st.column_config.NumberColumn("After", format="%.0f"),
                    "instrument": st.column_config.SelectboxColumn(
                        "Measured with", options=ROM_INSTRUMENTS.canonical_names, format_func=charts.pretty
                    ),
                },
            )
            _show("rom")
        with st.container():
            st.markdown("**Trigger points** found (add a row per muscle and side)")
            tp_frame = _editor_frame(picker.table_rows(gen, []), TP_EDITOR_COLUMNS, ("tenderness",))
            points = st.data_editor(
                tp_frame,
                key=picker.table_key(gen, client_id),
                num_rows="dynamic",
                hide_index=True,
                width="stretch",
                column_config={
                    "muscle": st.column_config.SelectboxColumn(
                        "Muscle", options=options["muscle"], format_func=charts.pretty
                    ),
                    "side": st.column_config.SelectboxColumn(
                        "Side", options=SIDES.canonical_names, format_func=charts.pretty
                    ),
                    "referral_region": st.column_config.SelectboxColumn(
                        "Refers to", options=options["region"], format_func=charts.pretty
                    ),
                    "tenderness": st.column_config.NumberColumn("Tenderness", format="%.1f", help="0–10"),
                    "released": st.column_config.SelectboxColumn(
                        "Released", options=RELEASED.canonical_names, format_func=charts.pretty
                    ),
                },
            )
            _show("trigger_points")

        a, b, c = st.columns(3)
        feedback = a.text_area(
            "Client feedback",
            value=prefill.client_feedback or "",
            key=f"lv_feedback_{gen}",
            height=80,
            placeholder="What the client said",
        )
        homecare = b.text_area(
            "Home care",
            value=prefill.homecare or "",
            key=f"lv_homecare_{gen}",
            height=80,
            placeholder="Stretches, heat, exercises given",
        )
        notes = c.text_area("Notes", value=prefill.notes or "", key=f"lv_notes_{gen}", height=80)
        plan = st.text_area(
            "Next time",
            value=prefill.plan or "",
            key=f"lv_plan_{gen}",
            height=68,
            placeholder="The plan for the next visit: what to check, try or change",
            help="Shown at the top of the client's page before the next visit.",
        )
        doubts = ss.get("lv_doubts", {}).get(gen, [])
        for message in doubts:
            st.warning(message, icon=":material/help:")
        readings_ok = st.checkbox("Yes, these readings are right", key=f"lv_readings_ok_{gen}") if doubts else False
        submitted = st.form_submit_button(
            "Save changes" if editing else "Save visit", type="primary", icon=":material/save:", key="lv_save"
        )

    if submitted:
        form = entry.VisitEntry(
            client_id=client_id,
            visit_date=visit_date,
            techniques=list(techniques),
            pressure=pressure,
            pain_pre=pain_pre,
            pain_post=pain_post,
            pain_region=pain_region,
            therapist=therapist,
            duration_min=duration,
            focus_muscles=list(focus_muscles),
            client_feedback=feedback,
            homecare=homecare,
            notes=notes,
            plan=plan,
            rom=measured + rom.to_dict("records"),
            trigger_points=points.to_dict("records"),
        )
        # A reading far from last time's is asked about before it is stored (a lost key, a slip).
        doubts = [d.message for d in doubtful_readings(form.rom, last_readings(client_id, db, editing))]
        if doubts and not (readings_ok and doubts == ss.get("lv_doubts", {}).get(gen)):
            ss["lv_doubts"] = {gen: doubts}
            st.rerun()
        try:
            saved = entry.save_visit(form, db=db, visit_id=editing)
        except entry.EntryError as exc:
            ss["lv_problems"] = exc.problems
            st.rerun()
        except DatabaseBusy as busy:  # no st.rerun/st.stop: the form keeps every value typed
            page_parts.not_saved_busy(busy, "Save changes" if editing else "Save visit")
        else:
            verb = "Updated" if editing else "Saved"
            ss["lv_flash"] = (
                "success",
                f"{verb} the visit of {visit_date:%d %b %Y} for {names[client_id]} ({saved.key}).",
                [w.message for w in saved.warnings],
                client_id,
            )
            if therapist:
                ss["lv_last_therapist"] = therapist
            ss["lv_reset"] = "changes saved" if editing else "new visit saved"
            st.rerun()

    st.page_link(
        "app_pages/client_progress.py",
        label=f"See {md(names[client_id])}'s progress",
        query_params={"client": client_id},
        icon=":material/monitoring:",
    )

# --- Questionnaires, item by item ----------------------------------------------------------------
with questionnaire_tab:
    qgen = ss["lv_qgen"]
    instrument = st.segmented_control(
        "Questionnaire", list(INSTRUMENTS), default="NDI", key="lv_q_instrument", required=True, format_func=lambda n: n
    )
    instrument = instrument or "NDI"
    form_spec = entry.QUESTIONNAIRE_FORMS[instrument]
    spec = INSTRUMENTS[instrument]
    st.caption(
        f"{md(settings.get('questionnaires', {}).get(instrument, {}).get('name', instrument))}, taken on "
        f"{visit_date:%d %b %Y} (the date above). Answers: {form_spec.low} … {form_spec.high}. {form_spec.note}"
    )
    if ss.get("lv_q_problems"):
        general = [p.message for p in ss["lv_q_problems"] if not p.field.startswith("item")]
        st.error(
            "Not saved. " + (" ".join(general) if general else "See the items marked below."), icon=":material/block:"
        )
    with st.form(f"lv_q_form_{qgen}_{instrument}", border=False, enter_to_submit=False):
        values = list(range(spec.item_min, spec.item_max + 1))
        answers = []
        cols = st.columns(2)
        for i, label in enumerate(form_spec.items, start=1):
            with cols[(i - 1) % 2]:
                # Pills, not radios: a second tap clears an answer the client left blank.
                answers.append(st.pills(f"{i}. {label}", values, key=f"lv_q_{instrument}_{i}_{qgen}"))
                _show(f"item_{i}", kind="lv_q_problems")
        _show("items", kind="lv_q_problems")
        q_submitted = st.form_submit_button(
            f"Save {instrument}", type="primary", icon=":material/save:", key="lv_q_save"
        )
    if q_submitted:
        try:
            saved = entry.save_questionnaire(
                entry.QuestionnaireEntry(client_id, visit_date, instrument, answers), db=db
            )
        except entry.EntryError as exc:
            ss["lv_q_problems"] = exc.problems
            st.rerun()
        except DatabaseBusy as busy:  # no st.rerun/st.stop: the answers stay picked
            page_parts.not_saved_busy(busy, f"Save {instrument}")
        else:
            ss["lv_q_problems"] = []
            ss["lv_qgen"] += 1
            score = saved.score
            text = f"Saved {instrument} of {visit_date:%d %b %Y} for {names[client_id]}"
            if score is not None and score.scorable:
                band = f", {score.band}" if score.band else ""
                text += f": score {score.score:.1f} ({score.scale_label}{band})."
            else:
                text += "."
            extra = [w.message for w in saved.warnings]
            scored = queries.client_outcome_scores(db, queries.version(db), client_id)
            summary = outcome_summary(classify_outcomes(scored, settings), settings)
            row = summary[summary["instrument"] == instrument]
            if len(row) and row.iloc[0]["category"] is not None and pd.notna(row.iloc[0]["change"]):
                r = row.iloc[0]
                extra.append(
                    f"Since the first {instrument} ({pd.Timestamp(r['first_date']):%d %b %Y}): "
                    f"{r['change']:+.1f} → {r['category']} (important change = {r['mcid']:g} points)."
                )
            ss["lv_flash"] = ("success", text, extra, client_id)
            st.rerun()
    stored = eq.client_questionnaires(db, ver, client_id)
    if len(stored):
        st.caption(
            "Stored for this client: "
            + ", ".join(f"{r.instrument} {pd.Timestamp(r.taken_on):%d %b %Y}" for r in stored.head(12).itertuples())
        )
