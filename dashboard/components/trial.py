"""Client progress: the client's fair trial (pipelines.techniques.trial): start one, see which mix is
due at the next visit and whether visits followed the plan, and the result when it is done.

One call from the page: :func:`render`.  Not cached: one small read of this client's trial rows
per rerun, so a trial started or stopped shows at once.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import page_parts
from dashboard.charts.progress import pretty
from pipelines.ingest.vocab import TECHNIQUES
from pipelines.techniques import trial as tr
from pipelines.techniques.client_response import points
from pipelines.warehouse.db import DatabaseBusy


def _mix(names: list[str]) -> str:
    return " + ".join(pretty(n) for n in names)


def result_sentence(trial: tr.Trial, res: tr.Result) -> str:
    """The trial's answer in plain words (negative difference = more relief with mix A)."""
    if res.mean_difference is None:
        return "No block can be compared yet."
    d = res.mean_difference
    better, worse = ("A", "B") if d < 0 else ("B", "A")
    size = points(abs(d), signed=False)
    head = (
        f"Mix {better} gave about {size} points more relief per visit than mix {worse} "
        f"over {res.n_blocks_used} block{'s' if res.n_blocks_used != 1 else ''}"
    )
    if res.ci is None:
        return head + " — too few blocks to rule out chance."
    lo, hi = res.ci
    verdict = "unlikely to be chance" if res.p_value < tr.ALPHA else "could well be chance"
    return (
        f"{head}: {verdict} (randomisation test p = {res.p_value:.3f}; A − B likely between "
        f"{points(lo)} and {points(hi)} points)."
    )


def _slots_table(prog: tr.Progress) -> pd.DataFrame:
    s = prog.slots
    return pd.DataFrame(
        {
            "Visit": s["slot"],
            "Block": s["block"],
            "Mix due": s["due"],
            "Date": [("—" if pd.isna(d) else f"{pd.Timestamp(d):%d %b %Y}") for d in s["visit_date"]],
            "Done": [("—" if t is None else _mix(t) or "—") for t in s["techniques"]],
            "Followed plan": [("—" if f is None else "yes" if f else "no") for f in s["followed"]],
            "Change in pain": [("—" if c is None or pd.isna(c) else points(c)) for c in s["pain_change"]],
        }
    )


def _show(db: str, trial: tr.Trial) -> bool:
    """Draw the trial; True while it is still running."""
    prog = tr.progress(trial, tr.load_visits(db, trial))
    n = len(trial.schedule)
    with st.container(border=True):
        st.markdown(
            f"**Mix A**: {_mix(trial.mix_a)}; **mix B**: {_mix(trial.mix_b)}; {trial.n_blocks} blocks "
            f"of two visits from {trial.started_on:%d %b %Y}, order drawn at random in each block."
        )
        if prog.next_mix is not None:
            due = trial.mix_a if prog.next_mix == "A" else trial.mix_b
            st.markdown(f"Next visit ({prog.next_slot} of {n}): **mix {prog.next_mix}** — {_mix(due)}.")
        elif trial.stopped_on is not None:
            st.markdown(f"Stopped on {trial.stopped_on:%d %b %Y}: {trial.stop_reason}.")
        if prog.n_done:
            st.caption(f"{prog.n_followed} of {prog.n_done} visits so far followed the plan.")
        res = tr.analyse(trial, prog)
        if prog.complete or res.n_blocks_used:
            st.markdown(("Result: " if prog.complete else "So far: ") + result_sentence(trial, res))
            if res.notes:
                st.caption("Note: " + "; ".join(res.notes) + ".")
        st.dataframe(_slots_table(prog), hide_index=True, key="cp_trial_slots")
        if prog.next_mix is not None:
            with st.popover("Stop this trial early"):
                why = st.text_input("Why it stops", key="cp_trial_stop_reason")
                if st.button("Stop the trial", key="cp_trial_stop"):
                    try:
                        tr.stop_trial(db, trial.trial_id, why)
                        st.rerun()
                    except tr.TrialProblem as exc:
                        st.error(str(exc))
                    except DatabaseBusy as busy:
                        page_parts.not_saved_busy(busy, "Stop the trial")
    return prog.next_mix is not None


def _start_form(db: str, client_id: str) -> None:
    with st.expander("Start a fair trial of two mixes"):
        st.caption(
            f"The next {2 * tr.DEFAULT_BLOCKS} visits (by default) alternate the two mixes in blocks of two, "
            "in an order drawn at random per block, so time, mood and season affect both alike. At least "
            f"{tr.BLOCKS_FOR_SIGNIFICANCE} blocks are needed before chance can be ruled out."
        )
        with st.form("cp_trial_form", border=False, enter_to_submit=False):
            options = TECHNIQUES.canonical_names
            a = st.multiselect("Mix A", options, format_func=pretty, key="cp_trial_a", select_all=False)
            b = st.multiselect("Mix B", options, format_func=pretty, key="cp_trial_b", select_all=False)
            blocks = st.number_input(
                "Blocks of two visits",
                min_value=tr.MIN_BLOCKS,
                max_value=12,
                value=tr.DEFAULT_BLOCKS,
                step=1,
                key="cp_trial_blocks",
            )
            if st.form_submit_button("Start the trial", type="primary"):
                try:
                    tr.start_trial(db, client_id, a, b, n_blocks=int(blocks))
                    st.rerun()
                except tr.TrialProblem as exc:
                    st.error(str(exc))
                except DatabaseBusy as busy:
                    page_parts.not_saved_busy(busy, "Start the trial")


def render(db: str, client_id: str) -> None:
    st.subheader("Fair trial")
    trials = tr.trials(db, client_id)
    running = _show(db, trials[0]) if trials else False
    if not running:
        _start_form(db, client_id)
