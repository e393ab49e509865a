"""Technique response: what counts as important relief here - the published threshold beside this
practice's own (from its clients' PGIC answers, pipelines.clinical.practice_mic), and the switch to adopt it.

One call from the page: :func:`render`.  Adopting writes the practice settings file (and an audit
row); the settings are re-read on the next run, so every "clinically important" in the app changes at once.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import metrics
from dashboard.queries import techniques as tqq
from pipelines.clinical import practice_mic as pmic
from pipelines.clinical.settings import default_settings, threshold_source
from pipelines.warehouse import audit

DASH = "—"


def _short(est: pmic.MicEstimate) -> str:
    if est.mic is None:
        return est.words()
    return f"{est.mic:.1f} points (95 % interval {est.ci_low:.1f} to {est.ci_high:.1f})"


def band_table(result: pmic.PracticeMic) -> pd.DataFrame:
    """One row per baseline band: clients, how many said much improved, the band's own number."""
    return pd.DataFrame(
        {
            "Pain at the start": [b.label for b in result.bands],
            "Clients": [b.n_clients for b in result.bands],
            "Said much improved or better": [b.n_improved for b in result.bands],
            "Drop that counts for them": [_short(b) for b in result.bands],
        }
    )


def agreement(est: pmic.MicEstimate, published: float) -> str:
    """Does the practice's number agree with the published one?  In words, from the interval."""
    if est.ci_low <= published <= est.ci_high:
        return f"So far your clients agree with the published {published:g} points (it lies inside their range)."
    side = "smaller" if est.ci_high < published else "larger"
    return f"Your clients seem to need a {side} drop than the published {published:g} points (outside their range)."


def render(db: str, ver: str, settings: dict) -> None:
    result = tqq.practice_mic(db, ver)
    est = result.overall
    published = default_settings()["pain"]
    adopted = pmic.is_adopted(settings)
    st.markdown(
        f"**What the app uses now:** pain counts as clinically important relief when it is "
        f"{metrics.pain_rule_text(settings)}"
        + (" — this practice's own number." if adopted else f" ({metrics.cite(published['mcid_points_source'])}).")
    )
    st.markdown(
        f"**Your own clients:** {est.words()}. That is the drop in pain at which your clients start to "
        "call themselves *much improved* or better when asked “since starting, how are you?”."
    )
    if est.enough:
        st.markdown(agreement(est, float(published["mcid_points"])))
        st.dataframe(band_table(result), hide_index=True, key="tq_mic_bands")
    left = "; ".join(f"{n} left out: {why}" for why, n in result.left_out.items())
    st.caption(
        "Each client counts once: pain in their latest check-in with that answer, against pain before their "
        f"first treatment{'. ' + left if left else ''}. People who start with more pain usually need a bigger "
        f"drop. Method: Terluin's adjusted predictive method, 95 % bootstrap interval; at least "
        f"{pmic.MIN_CLIENTS} clients are needed."
    )
    if adopted:
        st.caption(f"Adopted: {threshold_source(settings, 'pain.mcid_points')}.")
        if st.button(f"Go back to the published {published['mcid_points']:g} points", key="tq_mic_revert"):
            pmic.revert(db, actor=audit.DASHBOARD)
            st.rerun()
    elif est.enough and st.button(f"Use my clients' number ({est.mic:.1f} points) in the app", key="tq_mic_adopt"):
        pmic.adopt(db, est, actor=audit.DASHBOARD)
        st.rerun()
    elif not est.enough:
        st.caption(f"Until then the app uses the published {published['mcid_points']:g} points.")
