"""Log a visit's visit form: the fields, the readings (ROM, trigger points) and the save.

Every number is typed into a number input, never a table cell: a table's cell loses its first key
when the next follows within ~90 ms (see ``dashboard.components.entry_rows``).  Before a save, a
ROM reading far from the client's last one is asked about ("Cervical flexion before: 2°, last
visit 44°: is that right?"); the rules themselves are the import's (``pipelines.entry.forms``).
"""

from __future__ import annotations

import streamlit as st

from dashboard import page_parts
from dashboard.charts.progress import pretty
from dashboard.components import entry_rows as rows
from dashboard.components import visit_state as state
from dashboard.rom_inputs import rom_number_inputs
from dashboard.text import md
from pipelines.entry import forms as entry
from pipelines.entry.readings import doubtful_readings, last_readings
from pipelines.ingest.vocab import INSTRUMENTS, JOINTS, MOVEMENTS, RELEASED, SIDES
from pipelines.warehouse.db import DatabaseBusy

ss = st.session_state


def _pick_options(options: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        **options,
        "joint": JOINTS.canonical_names,
        "movement": MOVEMENTS.canonical_names,
        "side": SIDES.canonical_names,
        "instrument": INSTRUMENTS.canonical_names,
        "released": RELEASED.canonical_names,
    }


def _first_fields(gen: int, prefill: entry.VisitEntry, options: dict) -> dict:
    a, b, c, d = st.columns([4, 1.3, 1.3, 1.3])
    out = {
        "techniques": a.multiselect(
            "Techniques",
            list(dict.fromkeys([*options["technique"], *prefill.techniques])),
            default=prefill.techniques,
            key=f"lv_techniques_{gen}",
            format_func=pretty,
            accept_new_options=True,
            select_all=False,
            placeholder="Pick, or type a new one and press Enter",
            help="A new technique is added to the practice's list; a likely typo of a known one is refused.",
        ),
        "pressure": b.number_input(
            "Pressure",
            value=prefill.pressure,
            step=1,
            key=f"lv_pressure_{gen}",
            placeholder="1–5",
            help="1 light, 2 moderate-light, 3 moderate, 4 deep, 5 very deep",
        ),
    }
    for col, field, label, helptext in (
        (c, "pain_pre", "Pain before", "NPRS 0–10: 0 no pain … 10 worst imaginable; halves allowed"),
        (d, "pain_post", "Pain after", "NPRS 0–10 at the end of the visit; leave empty if not asked"),
    ):
        out[field] = col.number_input(
            label,
            value=getattr(prefill, field),
            step=0.5,
            format="%.1f",
            key=f"lv_{field}_{gen}",
            placeholder="0–10",
            help=helptext,
        )
    for col, field in ((a, "techniques"), (b, "pressure"), (c, "pain_pre"), (d, "pain_post")):
        with col:
            state.show(field)
    return out


def _second_fields(gen: int, prefill: entry.VisitEntry, options: dict) -> dict:
    a, b, c, d = st.columns([2, 2, 1.3, 1.3])
    regions = list(dict.fromkeys([*options["region"], *([prefill.pain_region] if prefill.pain_region else [])]))
    region_key = f"lv_pain_region_{gen}"
    out = {
        "pain_region": a.selectbox(
            "Pain region",
            regions,
            key=region_key,
            format_func=pretty,
            # A region clicked on the body is already in the session state: no default then.
            index=regions.index(prefill.pain_region) if prefill.pain_region and region_key not in ss else None,
            accept_new_options=True,
            placeholder="Where it hurts",
        ),
        "focus_muscles": b.multiselect(
            "Focus muscles",
            list(dict.fromkeys([*options["muscle"], *prefill.focus_muscles])),
            default=prefill.focus_muscles,
            key=f"lv_focus_{gen}",
            format_func=pretty,
            accept_new_options=True,
            select_all=False,
            placeholder="Optional",
        ),
        "therapist": c.text_input(
            "Therapist", value=prefill.therapist or ss.get("lv_last_therapist", ""), key=f"lv_therapist_{gen}"
        ),
        "duration_min": d.number_input(
            "Minutes", value=prefill.duration_min, step=5, key=f"lv_duration_{gen}", placeholder="e.g. 60"
        ),
    }
    for col, field in zip((a, b, c, d), out):
        with col:
            state.show(field)
    return out


def _readings(db: str, ver: str, client_id: str, prefill: entry.VisitEntry, editing, options: dict) -> dict:
    gen, prefix = ss["lv_gen"], state.prefix(client_id)
    last_set = [] if editing else page_parts.last_rom_set(db, ver, client_id)
    measured = []
    if last_set:
        st.markdown(
            "**Range of motion** — last time's movements: type what you measured (degrees; the jaw in "
            "mm), blank ones are skipped."
        )
        measured = rom_number_inputs(last_set, key=f"lv_romin_{gen}_{client_id}")
    st.markdown("**Other movements** (a row per movement and side)" if last_set else "**Range of motion**")
    rows.start_rows("rom", prefix, prefill.rom if editing else [])
    other = rows.row_inputs("rom", prefix, _pick_options(options), "Add a movement")
    state.show("rom")
    st.markdown("**Trigger points** found (a row per muscle and side)")
    points = rows.row_inputs("tp", prefix, _pick_options(options), "Add a trigger point")
    state.show("trigger_points")
    return {"rom": measured + other, "trigger_points": points}


def _notes(gen: int, prefill: entry.VisitEntry) -> dict:
    a, b, c = st.columns(3)
    return {
        "client_feedback": a.text_area(
            "Client feedback",
            value=prefill.client_feedback or "",
            key=f"lv_feedback_{gen}",
            height=80,
            placeholder="What the client said",
        ),
        "homecare": b.text_area(
            "Home care",
            value=prefill.homecare or "",
            key=f"lv_homecare_{gen}",
            height=80,
            placeholder="Stretches, heat, exercises given",
        ),
        "notes": c.text_area("Notes", value=prefill.notes or "", key=f"lv_notes_{gen}", height=80),
        "plan": st.text_area(
            "Next time",
            value=prefill.plan or "",
            key=f"lv_plan_{gen}",
            height=68,
            placeholder="The plan for the next visit: what to check, try or change",
            help="Shown at the top of the client's page before the next visit.",
        ),
    }


def not_saved_banner() -> None:
    """At the top of the visit tab after a refused save: how many problems, each shown under its field."""
    if ss.get("lv_problems"):
        n = len(ss["lv_problems"])
        st.error(
            f"Not saved: {n} problem{'s' if n > 1 else ''} to fix, shown under each field.", icon=":material/block:"
        )


def visit_form(db: str, ver: str, client_id: str, visit_date, options: dict) -> tuple[entry.VisitEntry, bool, bool]:
    """The form; returns what it holds, whether Save was pressed, and whether doubtful readings were confirmed."""
    gen, editing = ss["lv_gen"], ss.get("lv_edit")
    prefill: entry.VisitEntry = ss.get("lv_prefill") or entry.VisitEntry()
    with st.form(f"lv_form_{gen}", border=False, enter_to_submit=False):
        values = {**_first_fields(gen, prefill, options), **_second_fields(gen, prefill, options)}
        values |= _readings(db, ver, client_id, prefill, editing, options)
        values |= _notes(gen, prefill)
        doubts = ss.get("lv_doubts", {}).get(gen, [])
        for message in doubts:
            st.warning(message, icon=":material/help:")
        confirmed = st.checkbox("Yes, these readings are right", key=f"lv_readings_ok_{gen}") if doubts else False
        submitted = st.form_submit_button(
            "Save changes" if editing else "Save visit", type="primary", icon=":material/save:", key="lv_save"
        )
    form = entry.VisitEntry(client_id=client_id, visit_date=visit_date, **values)
    return form, submitted, confirmed


def save(db: str, form: entry.VisitEntry, confirmed: bool, name: str) -> None:
    """Ask about doubtful readings, then save: a refused form keeps every value and names each problem."""
    gen, editing = ss["lv_gen"], ss.get("lv_edit")
    # A reading far from last time's is asked about before it is stored (a slip, a key too many).
    doubts = [d.message for d in doubtful_readings(form.rom, last_readings(form.client_id, db, editing))]
    if doubts and not (confirmed and doubts == ss.get("lv_doubts", {}).get(gen)):
        ss["lv_doubts"] = {gen: doubts}
        st.rerun()
    try:
        saved = entry.save_visit(form, db=db, visit_id=editing)
    except entry.EntryError as exc:
        ss["lv_problems"] = exc.problems
        st.rerun()
    except DatabaseBusy as busy:  # no st.rerun/st.stop: the form keeps every value typed
        page_parts.not_saved_busy(busy, "Save changes" if editing else "Save visit")
        return
    if form.therapist:
        ss["lv_last_therapist"] = form.therapist
    state.flash(
        "success",
        f"{'Updated' if editing else 'Saved'} the visit of {form.visit_date:%d %b %Y} for {md(name)} ({saved.key}).",
        [w.message for w in saved.warnings],
        form.client_id,
        reset="changes saved" if editing else "new visit saved",
    )
