"""Technique response: the page's sections (filters, techniques, mixes, method, tabs), each one call.

The page (dashboard/app_pages/techniques.py) stays a list of these calls; every number comes from the
cached analysis in ``dashboard.queries.techniques`` and every chart from ``dashboard.charts.techniques``.
"""

from __future__ import annotations

import streamlit as st

from dashboard.charts import techniques as tc
from dashboard.charts.progress import PLOTLY_CONFIG, pretty
from dashboard.components import practice_mic
from dashboard.queries import techniques as tqq
from pipelines.techniques.common import METHOD_NOTES, MIN_VISITS_PER_MIX, OUTCOMES, Outcome, TechniqueReport

COUNT_COLUMNS = {
    "Visits": st.column_config.NumberColumn(format="localized"),
    "Clients": st.column_config.NumberColumn(format="localized"),
}


def filter_bar(opts: dict) -> tuple[str, list[str], tuple]:
    """Outcome, complaint regions, therapists and dates; returns (outcome, regions, filters).

    ``filters`` = (regions, therapists, date_from, date_to) as hashable arguments for the cached reads."""
    first, last = opts["first_date"], opts["last_date"]
    with st.container(horizontal=True):
        outcome = st.selectbox("Outcome", list(OUTCOMES), format_func=lambda k: OUTCOMES[k].label, key="tq_outcome")
        regions = st.multiselect(
            "Complaint region",
            opts["regions"],
            format_func=pretty,
            key="tq_regions",
            select_all=False,
            placeholder="All regions",
        )
        therapists = st.multiselect(
            "Therapist", opts["therapists"], key="tq_therapists", select_all=False, placeholder="All therapists"
        )
        dates = st.date_input(
            "Visit dates", value=(first, last), min_value=first, max_value=last, key="tq_dates", format="YYYY-MM-DD"
        )
    dates = tuple(dates) if isinstance(dates, (tuple, list)) else (dates,)
    date_from = dates[0] if len(dates) >= 1 else None
    date_to = dates[1] if len(dates) >= 2 else None
    # the whole range is no date filter at all: same visits, and one cache entry (and the importer's
    # stored result of a large practice) serves both
    if date_from is not None and date_from <= first:
        date_from = None
    if date_to is not None and date_to >= last:
        date_to = None
    return outcome, list(regions), (tuple(regions) or None, tuple(therapists) or None, date_from, date_to)


def techniques(rep: TechniqueReport, oc: Outcome, min_n: int) -> None:
    """The forest plot of each technique, what it shows in words, its table and the sensitivity note."""
    st.plotly_chart(
        tc.forest_plot(
            rep.techniques,
            axis_title=oc.axis_title,
            min_clients=min_n,
            higher_is_better=oc.higher_is_better,
            title="Each technique, with its 95 % interval",
        ),
        config=PLOTLY_CONFIG,
        key="tq_forest",
    )
    st.caption(
        f"Points: how much the outcome changed on a client's visits with the technique compared with the same "
        f"client's visits without it ({oc.unit}; {oc.direction}); bars: 95 % intervals. Grey rows: fewer than "
        f"{min_n} clients had visits both with and without it, so only the counts are shown."
    )
    st.dataframe(tc.technique_table(rep.techniques), hide_index=True, key="tq_table", column_config=COUNT_COLUMNS)
    if rep.sensitivity_note:  # the estimate with pain before corrected for measurement error, beside the main one
        (st.warning if "extra care" in rep.sensitivity_note else st.caption)(rep.sensitivity_note)


def mixes(rep: TechniqueReport, oc: Outcome) -> None:
    """Which mixes work: the ranking (predicted effect of exactly that mix) and its table."""
    st.subheader("Which mixes work")
    est_mixes = rep.mixes[rep.mixes["estimable"]] if len(rep.mixes) else rep.mixes
    if len(est_mixes):
        st.plotly_chart(
            tc.forest_plot(
                est_mixes.head(25),
                axis_title=oc.axis_title.replace("Adjusted change", "Predicted change with exactly this mix"),
                label_col="mix",
                label=tc.mix_label,
                higher_is_better=oc.higher_is_better,
                adjustment="BH",
                title="Mixes, best first",
            ),
            config=PLOTLY_CONFIG,
            key="tq_mix_forest",
        )
    st.caption(
        f"A mix's effect is the predicted change with exactly that mix compared with a visit with none of its "
        f"techniques: its techniques' effects added up, plus what each pair in it adds together wherever enough "
        f"clients had the pair (every such pair, none picked by the data). The observed mean is "
        f"the plain average change in the visits that had exactly that mix. Mixes used in fewer than "
        f"{MIN_VISITS_PER_MIX} visits show counts only. The ranking is exploratory (p-values Benjamini–Hochberg "
        "adjusted)."
    )
    if len(rep.mixes):
        st.dataframe(tc.mix_table(rep.mixes), hide_index=True, key="tq_mixes", column_config=COUNT_COLUMNS)


def method(rep: TechniqueReport) -> None:
    """How the numbers are made, behind an expander (REML, Holm and BH live here, not in the opening)."""
    with st.expander("How these numbers are made", icon=":material/functions:"):
        left_out = "; ".join(f"{n:,} visits with {why}" for why, n in rep.excluded.items())
        st.markdown(
            f"**Method:** {rep.method}. **Adjusted for:** {', '.join(rep.adjusted_for)}. "
            f"{rep.n_visits:,} visits of {rep.n_clients:,} clients"
            + (f"; left out: {left_out}" if left_out else "")
            + "."
        )
        st.markdown("\n".join(f"- {note}" for note in (*METHOD_NOTES, *rep.caveats)))
        for warning in rep.warnings:
            st.warning(warning, icon=":material/warning:")


def tabs(db: str, ver: str, settings: dict, rep: TechniqueReport, oc: Outcome, filters: tuple, min_n: int) -> None:
    """Pairs, pressure, complaint regions, why adjust, and what counts as important relief here."""
    names = ["Pairs", "Pressure", "By complaint region", "Why adjust?", "Important relief"]
    tab_pairs, tab_pressure, tab_region, tab_teach, tab_mic = st.tabs(names)
    with tab_pairs:
        st.caption(
            "A pair's synergy is what the two add beyond the sum of their separate effects, within clients; shown "
            f"where at least {min_n} clients had both and {min_n} each had one without the other. A synergy chosen "
            "for the main model is shown with its interval only; the others are a screen (Benjamini–Hochberg)."
        )
        if rep.pairs.empty:
            st.caption("No two techniques were used together often enough in these visits.")
        else:
            st.dataframe(tc.pair_table(rep.pairs), hide_index=True, key="tq_pairs")
    with tab_pressure:
        st.plotly_chart(
            tc.pressure_chart(rep.pressure, axis_title=f"Adjusted mean change ({oc.unit})"),
            config=PLOTLY_CONFIG,
            key="tq_pressure",
        )
        st.caption(
            f"Mean change at each pressure, with the other covariates as they were; levels used with fewer than "
            f"{min_n} clients show counts only. Pressure is chosen with the client's tolerance, so this too is an "
            "association."
        )
    with tab_region:
        st.caption(
            "Each complaint region analysed on its own (same model); Benjamini–Hochberg across the whole table. "
            "Small regions show counts only."
        )
        if st.toggle("Estimate within each complaint region", key="tq_by_region"):
            sub = tqq.by_region(db, ver, oc.key, *filters, min_n)
            st.dataframe(tc.subgroup_table(sub), hide_index=True, key="tq_region_table")
    with tab_teach:
        st.info(
            f"**Unadjusted difference — not an effect.** The orange diamonds are the plain mean {oc.unit} in "
            "visits with a technique minus visits without it. They mix the technique up with why it was chosen and "
            "with who got it. The blue points are the within-client estimates above. Shown for teaching only.",
            icon=":material/school:",
        )
        if int(rep.techniques["estimable"].sum()):
            st.plotly_chart(
                tc.adjusted_vs_unadjusted_chart(
                    rep.techniques,
                    higher_is_better=oc.higher_is_better,
                    axis_title=oc.axis_title.replace("Adjusted change", "Change"),
                ),
                config=PLOTLY_CONFIG,
                key="tq_teach",
            )
    with tab_mic:
        practice_mic.render(db, ver, settings)
