"""Technique response: which techniques, pairs and mixes go with more relief, for whom, at what pressure.

Thin page: filters in, ``dashboard.queries.techniques`` (cached analysis from
``pipelines.techniques.model``) and ``dashboard.charts.techniques`` out.  Every estimate is shown
with its n and 95 % interval, estimates below the minimum n are replaced by their counts,
and the caveats of observational data sit next to the numbers.
"""

from __future__ import annotations


import streamlit as st

from dashboard.queries import therapist as queries
from dashboard.charts import techniques as tc
from dashboard.queries import techniques as tqq
from dashboard.charts.progress import PLOTLY_CONFIG, pretty
from pipelines.techniques import large as tsql
from pipelines.techniques import model as tq

db = queries.current_db()
ver = queries.version(db)
settings = queries.practice_settings(db)
min_n = tqq.min_clients(settings)

st.title("Technique response")
intro = st.empty()  # filled once the method is known (it depends on the practice's size)

opts = tqq.options(db, ver)
if opts["first_date"] is None:
    st.info("No visits yet. Technique response needs visits with techniques and pain before and after; import them "
            "with `knotwork ingest visits.csv …`, or try the demo practice with `knotwork demo`.",
            icon=":material/science:")
    st.stop()

# --- Filters --------------------------------------------------------------------------------
first, last = opts["first_date"], opts["last_date"]
with st.container(horizontal=True):
    outcome = st.selectbox("Outcome", list(tq.OUTCOMES), format_func=lambda k: tq.OUTCOMES[k].label,
                           key="tq_outcome")
    regions = st.multiselect("Complaint region", opts["regions"], format_func=pretty, key="tq_regions",
                             placeholder="All regions")
    therapists = st.multiselect("Therapist", opts["therapists"], key="tq_therapists", placeholder="All therapists")
    dates = st.date_input("Visit dates", value=(first, last), min_value=first, max_value=last, key="tq_dates",
                          format="YYYY-MM-DD")
dates = tuple(dates) if isinstance(dates, (tuple, list)) else (dates,)
date_from = dates[0] if len(dates) >= 1 else None
date_to = dates[1] if len(dates) >= 2 else None
# the whole range is no date filter at all: same visits, and one cache entry (and the importer's
# stored result of a large practice) serves both
if date_from is not None and date_from <= first:
    date_from = None
if date_to is not None and date_to >= last:
    date_to = None
filters = (tuple(regions) or None, tuple(therapists) or None, date_from, date_to)
oc = tq.OUTCOMES[outcome]

rep = tqq.report(db, ver, outcome, *filters, min_n)
within = rep.method == tsql.METHOD
intro.caption("Which techniques, pairs and mixes go with more relief in this practice, adjusted for pain before the "
              "visit, visit number, pressure and "
              + ("each client's own level: every client is compared with themselves. " if within else
                 "complaint region, with each client's own level as a random effect. ")
              + "Every estimate comes with its n and 95 % interval.")

if rep.n_visits == 0 or rep.method == "none":
    st.info(f"No visits match these filters with {oc.label.lower()} recorded"
            + (f" ({', '.join(f'{n} {why}' for why, n in rep.excluded.items())})" if rep.excluded else "")
            + ". Widen the filters or choose another outcome.", icon=":material/filter_alt_off:")
    st.stop()

# --- Headline ---------------------------------------------------------------------------------
n_est = int(rep.techniques["estimable"].sum())
with st.container(horizontal=True):
    st.metric("Visits analysed", f"{rep.n_visits:,}", border=True,
              help="; ".join(f"{n:,} visits left out: {why}" for why, n in rep.excluded.items()) or None)
    st.metric("Clients", f"{rep.n_clients:,}", border=True)
    st.metric("Techniques with an estimate", f"{n_est} of {len(rep.techniques)}", border=True,
              help=f"An estimate needs at least {min_n} clients who had the technique and {min_n} who did not.")
    st.metric("Method", "Within-client" if within else "Mixed model" if not rep.is_fallback else "OLS (fallback)",
              border=True, help=rep.method)

if within:
    st.info(f"**How these are estimated ({rep.n_visits:,} visits).** " + tsql.METHOD_PLAIN,
            icon=":material/compare_arrows:")
st.info("**Read with care.**\n\n" + "\n".join(f"- {c}" for c in rep.caveats), icon=":material/info:")
for warning in rep.warnings:
    st.warning(warning, icon=":material/warning:")

# --- Forest plot -------------------------------------------------------------------------------
st.plotly_chart(tc.forest_plot(rep.techniques, axis_title=oc.axis_title, min_clients=min_n,
                               higher_is_better=oc.higher_is_better,
                               title=f"Adjusted effect of each technique — {oc.label.lower()}"),
                config=PLOTLY_CONFIG, key="tq_forest")
st.caption(f"Points: adjusted effect ({oc.unit}; {oc.direction}); bars: 95 % intervals. Method: {rep.method}. "
           f"Adjusted for {', '.join(rep.adjusted_for)}. Filled points: Holm-adjusted p < 0.05 across the "
           f"{n_est} techniques estimated. Grey rows: fewer than {min_n} clients with or without the technique, so "
           f"only the counts are shown ({tqq.min_clients_source(settings)}).")
digits = tc.effect_digits(rep.techniques)
st.dataframe(tc.technique_table(rep.techniques), hide_index=True, key="tq_table", column_config={
    "Visits": st.column_config.NumberColumn(format="localized"),
    "Clients": st.column_config.NumberColumn(format="localized"),
    "Adjusted effect": st.column_config.NumberColumn(format=f"%+.{digits}f"),
    "Effect size": st.column_config.NumberColumn(format="%+.2f", help="Adjusted effect ÷ SD of the visit-level "
                                                 "outcome after adjustment (client + residual)"),
})

# --- Pairs, mixes, pressure, subgroups, teaching ----------------------------------------------
tab_pairs, tab_mixes, tab_pressure, tab_region, tab_teach = st.tabs(
    ["Pairs", "Mixes", "Pressure", "By complaint region", "Why adjust?"])

with tab_pairs:
    if within:
        st.info("A pair's **synergy** is what the two add *beyond* the sum of their separate effects. Pairs are not "
                f"screened for a practice this size (over {tsql.LARGE_DATA_VISITS:,} visits): see the note at the "
                "top. Narrow the filters (a region, a therapist, a date range) below that size to screen pairs with "
                "the mixed model.", icon=":material/join_inner:")
    else:
        st.info("A pair's **synergy** is what the two add *beyond* the sum of their separate effects (the interaction "
                "a×b in the model with every technique's main effect). Shown for pairs where at least "
                f"{min_n} clients had both, and {min_n} each had one without the other. A synergy that survives Holm "
                "is added to the main model; the two techniques' rows above then mean 'used without the partner'.",
                icon=":material/join_inner:")
        if rep.pairs.empty:
            st.caption("No two techniques were used together in these visits.")
        else:
            st.dataframe(tc.pair_table(rep.pairs), hide_index=True, key="tq_pairs", column_config={
                "Synergy (interaction)": st.column_config.NumberColumn(format="%+.2f")})

with tab_mixes:
    if within:
        st.info("A **mix** is the exact set of techniques used in a visit. Each mix is compared with the same clients' "
                "other visits, adjusted for pain before the visit, visit number and pressure (not for the techniques, "
                "which is the point of a mix). For a practice this size (over "
                f"{tsql.LARGE_DATA_VISITS:,} visits) the adjusted mean change with each mix is not given. Mixes used "
                f"with fewer than {min_n} clients or in fewer than {max(tq.MIN_VISITS_PER_MIX, min_n)} visits show "
                "counts only.", icon=":material/blender:")
    else:
        st.info("A **mix** is the exact set of techniques used in a visit. Each mix is compared with all other "
                "visits, adjusted for the same covariates (not for the techniques, which is the point of a mix). Mixes "
                f"used with fewer than {min_n} clients or in fewer than {max(tq.MIN_VISITS_PER_MIX, min_n)} visits "
                "show counts only.", icon=":material/blender:")
    mixes = rep.mixes
    if mixes.empty:
        st.caption("No mixes in these visits.")
    else:
        est_mixes = mixes[mixes["estimable"]]
        if len(est_mixes):
            st.plotly_chart(tc.forest_plot(est_mixes.head(25), axis_title=oc.axis_title.replace(
                "Adjusted change", "Adjusted difference vs other visits"), label_col="mix", label=tc.mix_label,
                higher_is_better=oc.higher_is_better,
                title="Mixes vs the same clients' other visits (adjusted)" if within else
                "Mixes vs all other visits (adjusted)"), config=PLOTLY_CONFIG, key="tq_mix_forest")
        mix_rows = tc.mix_table(mixes)
        if within:  # not computed at this size: no column of blanks
            mix_rows = mix_rows.drop(columns=["Adjusted mean change"])
        st.dataframe(mix_rows, hide_index=True, key="tq_mixes", column_config={
            "Visits": st.column_config.NumberColumn(format="localized"),
            "Clients": st.column_config.NumberColumn(format="localized"),
            "Adjusted mean change": st.column_config.NumberColumn(format="%+.2f"),
            "vs other visits": st.column_config.NumberColumn(format=f"%+.{digits}f")})

with tab_pressure:
    st.plotly_chart(tc.pressure_chart(rep.pressure, axis_title=f"Adjusted mean change ({oc.unit})"),
                    config=PLOTLY_CONFIG, key="tq_pressure")
    ref = rep.reference_pressure
    st.caption("Adjusted mean change at each pressure: every analysed visit's prediction with the pressure set to "
               "that level, averaged (the techniques, pain before and visit numbers as they were). "
               + (f"Differences are tested against pressure {ref}. " if ref else "")
               + f"Levels used with fewer than {min_n} clients show counts only. Pressure is chosen with the "
               "client's tolerance and the techniques, so this too is an association.")

with tab_region:
    st.caption("Each complaint region analysed on its own (same model); Holm across the whole table. Small regions "
               "show counts only. Fitting one model per region takes a moment on a large practice.")
    if st.toggle("Estimate within each complaint region", key="tq_by_region"):
        sub = tqq.by_region(db, ver, outcome, *filters, min_n)
        st.dataframe(tc.subgroup_table(sub), hide_index=True, key="tq_region_table", column_config={
            "Adjusted effect": st.column_config.NumberColumn(format="%+.2f")})

with tab_teach:
    st.info(f"**Unadjusted difference — not an effect.** The orange diamonds are the plain mean {oc.unit} in visits "
            "with a technique minus visits without it. They mix the technique up with why it was chosen: techniques "
            "kept for high pain get credit for regression to the mean, techniques used when pain is already low look "
            "worse. The blue points are the adjusted estimates above. Shown for teaching only.",
            icon=":material/school:")
    if n_est:
        st.plotly_chart(tc.adjusted_vs_unadjusted_chart(rep.techniques, higher_is_better=oc.higher_is_better,
                                                        axis_title=oc.axis_title.replace("Adjusted change", "Change")),
                        config=PLOTLY_CONFIG, key="tq_teach")

# --- Drill-down -------------------------------------------------------------------------------
st.subheader("Visits behind an estimate")
kind = st.radio("Look at", ["Technique", "Mix"], horizontal=True, key="tq_drill_kind")
if kind == "Technique":
    choices = list(rep.techniques.sort_values("n_visits", ascending=False)["technique"])
    picked = st.selectbox("Technique", choices, format_func=pretty, key="tq_drill")
    what = f"used {pretty(picked).lower()}"
    drill_args = (picked, None)
else:
    choices = list(rep.mixes.sort_values("n_visits", ascending=False)["mix"])
    picked = st.selectbox("Mix", choices, format_func=tc.mix_label, key="tq_drill_mix")
    what = f"had exactly {tc.mix_label(picked).lower()}"
    drill_args = (None, picked)
rows = None
if within:  # never the whole visit frame at this size: on request, the newest visits and the full count from SQL
    if st.toggle("List the visits", key="tq_drill_show",
                 help="A practice this size has up to a million visits behind one technique: they are looked "
                      f"up when asked for, and the newest {tsql.DRILL_LIMIT} are listed."):
        rows, n_rows, n_row_clients = tqq.drill(db, ver, *drill_args, *filters)
        shown = f" The newest {len(rows):,} are listed." if len(rows) < n_rows else ""
else:
    frame = tqq.visits(db, ver, *filters)
    rows = tq.technique_visits(frame, technique=drill_args[0], mix=drill_args[1])
    n_rows, n_row_clients, shown = len(rows), rows["client_id"].nunique(), ""
if rows is not None:
    st.caption(f"{n_rows:,} visits of {n_row_clients:,} clients {what} (with the filters above; the "
               "model uses those with the outcome and pain before recorded)." + shown)
    rows = rows.assign(technique_set=rows["technique_set"].map(tc.mix_label))
    st.dataframe(rows.rename(columns={
        "visit_id": "Visit", "client_id": "Client", "visit_date": "Date", "visit_number": "Visit no.",
        "therapist": "Therapist", "complaint_region": "Complaint region", "pressure": "Pressure",
        "technique_set": "Techniques", "pain_pre": "Pain before", "pain_post": "Pain after",
        "pain_change": "Change", "carryover_change": "Carry-over", "self_report_change": "Self-report change (7 d)",
        "rom_mean_change_deg": "ROM change (°)"}), hide_index=True, key="tq_drill_table", column_config={
        "Date": st.column_config.DateColumn(format="D MMM YYYY"),
        "Pressure": st.column_config.NumberColumn(format="%d"),
        "Change": st.column_config.NumberColumn(format="%+.1f"),
        "Carry-over": st.column_config.NumberColumn(format="%+.1f"),
        "Self-report change (7 d)": st.column_config.NumberColumn(format="%+.1f"),
        "ROM change (°)": st.column_config.NumberColumn(format="%+.1f"),
    })
