"""Log a visit's questionnaire tab: NDI, ODI, PSFS, QuickDASH or LEFS item by item, or only its total.

An NDI or ODI total is written two ways on paper, points (0–50) or per cent (0–100): "24" is 48 % on
one and 24 % on the other.  So a total typed here comes with its scale, chosen each time (no
default to slip past), and is stored as the percentage Knotwork reports
(``pipelines.clinical.questionnaires.total_as_percent``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import page_parts
from dashboard.components import visit_state as state
from dashboard.queries import entry as eq
from dashboard.queries import therapist as queries
from dashboard.text import md
from pipelines.clinical.outcomes import classify_outcomes, outcome_summary
from pipelines.clinical.questionnaires import INSTRUMENTS, POINTS_MAX, TOTAL_SCALES
from pipelines.entry import forms as entry
from pipelines.warehouse.db import DatabaseBusy

ss = st.session_state


def _total(instrument: str, qgen: int) -> tuple[float | None, str | None]:
    spec = INSTRUMENTS[instrument]
    st.markdown("**Or only the total**, when the items are not at hand (the items win when both are given)")
    value_col, scale_col = st.columns([1, 2], vertical_alignment="bottom")
    total = value_col.number_input(
        f"{instrument} total", value=None, step=1.0, format="%.1f", key=f"lv_q_total_{instrument}_{qgen}"
    )
    scale = None
    if instrument in POINTS_MAX:
        scale = scale_col.radio(
            "On which scale?",
            list(TOTAL_SCALES),
            index=None,
            format_func=TOTAL_SCALES.get,
            horizontal=True,
            key=f"lv_q_scale_{instrument}_{qgen}",
            help=f"Stored as the percentage: {POINTS_MAX[instrument]:g} points = 100 %.",
        )
    else:
        scale_col.caption(f"On the score's own scale: {spec.scale_label}.")
    state.show("total_score", kind="lv_q_problems")
    return total, scale


def _saved_message(saved: entry.Saved, instrument: str, visit_date, name: str, db: str, client_id: str, settings):
    text = f"Saved {instrument} of {visit_date:%d %b %Y} for {md(name)}"
    score = saved.score
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
    return text, extra


def questionnaire_tab(db: str, ver: str, client_id: str, name: str, visit_date, settings: dict) -> None:
    qgen = ss["lv_qgen"]
    instrument = st.segmented_control(
        "Questionnaire", list(INSTRUMENTS), default="NDI", key="lv_q_instrument", required=True, format_func=str
    )
    instrument = instrument or "NDI"
    form_spec, spec = entry.QUESTIONNAIRE_FORMS[instrument], INSTRUMENTS[instrument]
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
        for i, label in enumerate(form_spec.items, start=1):
            if i % 2:  # two items a row, so a phone (one column) shows them in order
                cols = st.columns(2)
            with cols[(i - 1) % 2]:
                # Pills, not radios: a second tap clears an answer the client left blank.
                answers.append(st.pills(f"{i}. {label}", values, key=f"lv_q_{instrument}_{i}_{qgen}"))
                state.show(f"item_{i}", kind="lv_q_problems")
        state.show("items", kind="lv_q_problems")
        total, scale = _total(instrument, qgen)
        submitted = st.form_submit_button(f"Save {instrument}", type="primary", icon=":material/save:", key="lv_q_save")
    if submitted:
        form = entry.QuestionnaireEntry(client_id, visit_date, instrument, answers, total, scale)
        try:
            saved = entry.save_questionnaire(form, db=db)
        except entry.EntryError as exc:
            ss["lv_q_problems"] = exc.problems
            st.rerun()
        except DatabaseBusy as busy:  # no st.rerun/st.stop: the answers stay picked
            page_parts.not_saved_busy(busy, f"Save {instrument}")
        else:
            ss["lv_q_problems"] = []
            ss["lv_qgen"] += 1
            state.flash(
                "success", *_saved_message(saved, instrument, visit_date, name, db, client_id, settings), client_id
            )
    stored = eq.client_questionnaires(db, ver, client_id)
    if len(stored):
        st.caption(
            "Stored for this client: "
            + ", ".join(f"{r.instrument} {pd.Timestamp(r.taken_on):%d %b %Y}" for r in stored.head(12).itertuples())
        )
